package catalogue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// versionRow is a stored published version. Rows are only ever inserted:
// nothing in the portal updates or deletes them.
type versionRow struct {
	ID              string
	CatalogueID     string
	Number          int
	PublishedAt     time.Time
	PublishedBy     string
	PublishedByName string
	Snapshot        string
}

func (versionRow) TableName() string { return "catalogue_versions" }

// snapshot is the JSON stored with a version. Its field names are a stored
// format: add fields, never rename them.
type snapshot struct {
	Title        string        `json:"title"`
	Description  string        `json:"description"`
	Sections     []Section     `json:"sections"`
	Requirements []Requirement `json:"requirements"`
}

// VersionSummary describes a published version without its content, for
// lists.
type VersionSummary struct {
	Number          int
	PublishedAt     time.Time
	PublishedByName string
}

// Publish freezes the catalogue as it is now as the next numbered version
// (1 for the first). The version never changes afterwards, so frameworks
// copying from it keep exactly what was published while the draft moves
// on. Publishing an empty catalogue, or one unchanged since the last
// version, is refused.
func (s *Service) Publish(ctx context.Context, actor audit.Actor, catalogueID string) (*PublishedVersion, error) {
	var out *PublishedVersion
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.touch(tx, catalogueID); err != nil {
			return err
		}
		var c Catalogue
		if err := tx.Where("id = ?", catalogueID).First(&c).Error; err != nil {
			return notFound(err, "catalogue")
		}
		secs, reqs, err := draft(tx, catalogueID)
		if err != nil {
			return err
		}
		var v validate.Errors
		if len(reqs) == 0 {
			v.Add("catalogue", "Add at least one requirement before publishing the catalogue")
			return v.Err()
		}
		doc, err := json.Marshal(snapshot{Title: c.Title, Description: c.Description, Sections: secs, Requirements: reqs})
		if err != nil {
			return fmt.Errorf("encode catalogue snapshot: %w", err)
		}
		if c.CurrentVersion > 0 {
			var last versionRow
			if err := tx.Where("catalogue_id = ? AND number = ?", catalogueID, c.CurrentVersion).First(&last).Error; err != nil {
				return notFound(err, "latest catalogue version")
			}
			if bytes.Equal([]byte(last.Snapshot), doc) {
				v.Add("catalogue", fmt.Sprintf("Nothing has changed since version %d was published", c.CurrentVersion))
				return v.Err()
			}
		}
		row := versionRow{
			ID: newID(), CatalogueID: catalogueID, Number: c.CurrentVersion + 1,
			PublishedAt: s.Clock.Now(), PublishedBy: actor.UserID, PublishedByName: actor.Label, Snapshot: string(doc),
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store catalogue version: %w", err)
		}
		res := tx.Model(&Catalogue{}).Where("id = ? AND current_version = ?", catalogueID, c.CurrentVersion).Update("current_version", row.Number)
		if res.Error != nil {
			return fmt.Errorf("record catalogue version: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		if err := s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.publish", ObjectType: "catalogue", ObjectID: catalogueID,
			Detail: map[string]any{"version": row.Number, "sections": len(secs), "requirements": len(reqs)},
		}); err != nil {
			return err
		}
		out, err = row.parse(catalogueID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parse turns a stored version into what callers use.
func (row versionRow) parse(catalogueID string) (*PublishedVersion, error) {
	var doc snapshot
	if err := json.Unmarshal([]byte(row.Snapshot), &doc); err != nil {
		return nil, fmt.Errorf("read catalogue version %d: %w", row.Number, err)
	}
	order(doc.Sections, doc.Requirements)
	for i := range doc.Sections {
		doc.Sections[i].CatalogueID = catalogueID
	}
	for i := range doc.Requirements {
		doc.Requirements[i].CatalogueID = catalogueID
		doc.Requirements[i].PublishedVersion = row.Number
	}
	return &PublishedVersion{
		CatalogueID: catalogueID, Number: row.Number, PublishedAt: row.PublishedAt,
		PublishedBy: row.PublishedBy, PublishedByName: row.PublishedByName,
		Title: doc.Title, Description: doc.Description, Sections: doc.Sections, Requirements: doc.Requirements,
	}, nil
}

// Version returns a published version of a catalogue exactly as it was
// published.
func (s *Service) Version(ctx context.Context, catalogueID string, number int) (*PublishedVersion, error) {
	var row versionRow
	if err := s.DB.WithContext(ctx).Where("catalogue_id = ? AND number = ?", catalogueID, number).First(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("catalogue version %d", number))
	}
	return row.parse(catalogueID)
}

// Versions lists a catalogue's published versions, newest first.
func (s *Service) Versions(ctx context.Context, catalogueID string) ([]VersionSummary, error) {
	var out []VersionSummary
	err := s.DB.WithContext(ctx).Model(&versionRow{}).Select("number, published_at, published_by_name").
		Where("catalogue_id = ?", catalogueID).Order("number DESC").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list catalogue versions: %w", err)
	}
	return out, nil
}

// Snapshot returns the requirements of a published version for copying
// into a framework lot or a mini-competition. Only published versions can
// be copied, never the draft, so every copy can point back to wording that
// will not change: each requirement carries its catalogue ID, the version
// number (PublishedVersion) and its reference, and Origin() gives the link
// the copy should store. The copy owns its text from then on; later
// catalogue versions do not change it.
func (s *Service) Snapshot(ctx context.Context, catalogueID string, version int) ([]Requirement, error) {
	v, err := s.Version(ctx, catalogueID, version)
	if err != nil {
		return nil, err
	}
	return v.Requirements, nil
}
