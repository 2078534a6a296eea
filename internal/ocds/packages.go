package ocds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/nhsprocure/portal/internal/orgs"
)

// Releases is every release of the procedure with the OCID, oldest first;
// ErrNotFound when the OCID names no published procedure.
func (p *Publisher) Releases(ctx context.Context, ocid string) ([]Release, error) {
	s := p.source(ctx)
	id := p.procedureID(ocid)
	if id == "" {
		return nil, ErrNotFound
	}
	pr, err := s.procedure(id)
	if err != nil {
		return nil, err
	}
	return p.releases(s, pr, p.Clock.Now().UTC())
}

// ReleasePackage is the release package of one procedure.
func (p *Publisher) ReleasePackage(ctx context.Context, ocid string) (*ReleasePackage, error) {
	list, err := p.Releases(ctx, ocid)
	if err != nil {
		return nil, err
	}
	return p.releasePackage(p.ReleasesURL(ocid), list), nil
}

// ReleasesPage is page (from 1) of the release package of every published
// procedure, PageSize procedures to a page in order of publication, and
// how many pages there are. A page past the last is ErrNotFound; with
// nothing published the first page has no releases.
func (p *Publisher) ReleasesPage(ctx context.Context, page int) (*ReleasePackage, int, error) {
	s := p.source(ctx)
	all, err := s.procedures()
	if err != nil {
		return nil, 0, err
	}
	pages := max(1, (len(all)+PageSize-1)/PageSize)
	if page < 1 || page > pages {
		return nil, pages, ErrNotFound
	}
	now := p.Clock.Now().UTC()
	list := []Release{}
	for _, pr := range all[min(len(all), (page-1)*PageSize):min(len(all), page*PageSize)] {
		rs, err := p.releases(s, pr, now)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, rs...)
	}
	return p.releasePackage(p.PageURL(page), list), pages, nil
}

// PageURL is the address of a page of every procedure's releases.
func (p *Publisher) PageURL(page int) string {
	return p.url("/ocds/releases?page=" + strconv.Itoa(page))
}

// BulkURL is the address of the bulk download.
func (p *Publisher) BulkURL() string { return p.url("/ocds/bulk.json") }

func (p *Publisher) releasePackage(uri string, list []Release) *ReleasePackage {
	return &ReleasePackage{URI: uri, Version: Version, Extensions: Extensions, PublishedDate: p.published(list),
		Publisher: p.publisher(), License: License, Releases: list}
}

func (p *Publisher) publisher() PackagePublisher {
	return PackagePublisher{Name: PublisherName, URI: p.url("/open-data")}
}

// published is the package's date: that of its latest release (the last
// change to what it holds, as OCDS asks of packages made on demand), or
// now when it holds none.
func (p *Publisher) published(list []Release) string {
	latest := ""
	for _, r := range list {
		latest = max(latest, r.Date)
	}
	if latest == "" {
		return stamp(p.Clock.Now())
	}
	return latest
}

// record compiles the releases of one process into its record, linking
// each release in the process's release package.
func (p *Publisher) record(ocid string, list []Release) (Record, error) {
	compiled, err := compile(ocid, list)
	if err != nil {
		return Record{}, err
	}
	rec := Record{OCID: ocid, CompiledRelease: compiled}
	for _, r := range list {
		rec.Releases = append(rec.Releases, LinkedRelease{URL: p.ReleasesURL(ocid) + "#" + r.ID, Date: r.Date, Tag: r.Tag})
	}
	return rec, nil
}

// RecordPackage is the record package of one procedure.
func (p *Publisher) RecordPackage(ctx context.Context, ocid string) (*RecordPackage, error) {
	list, err := p.Releases(ctx, ocid)
	if err != nil {
		return nil, err
	}
	rec, err := p.record(ocid, list)
	if err != nil {
		return nil, err
	}
	return &RecordPackage{URI: p.RecordURL(ocid), Version: Version, Extensions: Extensions, PublishedDate: p.published(list),
		Publisher: p.publisher(), License: License, Packages: []string{p.ReleasesURL(ocid)}, Records: []Record{rec}}, nil
}

// WriteBulk writes one record package holding the record of every
// published procedure to w, a record at a time, so the whole of it is
// never held in memory. Its publishedDate, the latest release's, comes
// last, once it is known.
func (p *Publisher) WriteBulk(ctx context.Context, w io.Writer) error {
	s := p.source(ctx)
	all, err := s.procedures()
	if err != nil {
		return err
	}
	head, err := json.Marshal(struct {
		URI        string           `json:"uri"`
		Version    string           `json:"version"`
		Extensions []string         `json:"extensions"`
		Publisher  PackagePublisher `json:"publisher"`
		License    string           `json:"license"`
	}{p.BulkURL(), Version, Extensions, p.publisher(), License})
	if err != nil {
		return fmt.Errorf("encode bulk package: %w", err)
	}
	if _, err := io.WriteString(w, string(head[:len(head)-1])+`,"records":[`); err != nil {
		return fmt.Errorf("write bulk package: %w", err)
	}
	now := p.Clock.Now().UTC()
	latest, wrote := "", false
	for _, pr := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		list, err := p.releases(s, pr, now)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			continue
		}
		latest = max(latest, p.published(list))
		rec, err := p.record(p.OCID(pr.ID), list)
		if err != nil {
			return err
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode record: %w", err)
		}
		if wrote {
			b = append([]byte{','}, b...)
		}
		wrote = true
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write bulk package: %w", err)
		}
		// The organisations read so far are not kept for the whole run.
		if len(s.orgs) > 1000 {
			s.orgs = map[string]orgs.Organisation{}
		}
	}
	if latest == "" {
		latest = stamp(now)
	}
	_, err = fmt.Fprintf(w, `],"publishedDate":%q}`, latest)
	if err != nil {
		return fmt.Errorf("write bulk package: %w", err)
	}
	return nil
}
