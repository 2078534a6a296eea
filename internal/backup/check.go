package backup

import (
	"context"
	"fmt"
	"sort"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/store"
)

// Report is what Check found. Problems lists, in plain words, everything
// that does not hold; an empty list means the data is intact.
type Report struct {
	Tables         map[string]int64
	Audit          AuditHead
	Documents      int // document records checked against their files
	SealedVersions int // sealed versions checked against their receipts
	Problems       []string
}

// OK reports whether Check (and Compare) found nothing wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// batch is how many rows Check reads at a time, so memory stays small
// whatever the size of the portal.
const batch = 100

// Check verifies the data of a portal, typically just after a restore,
// reading only: the audit chain (audit.Verify); every document record has
// its stored file, which decrypts with docs' master key to the SHA-256
// recorded at upload; every sealed version decrypts to the SHA-256 on its
// receipt, and the receipt (number, time, hash) is the one its audit entry
// recorded. It counts the rows of every table for Compare. An error means
// the check could not run; what it found is in the report.
func Check(ctx context.Context, db *store.DB, docs *documents.Service) (*Report, error) {
	r := &Report{}
	var err error
	if r.Tables, err = counts(db.WithContext(ctx)); err != nil {
		return nil, err
	}
	if r.Audit, err = auditHead(db.WithContext(ctx)); err != nil {
		return nil, err
	}
	n, brk, err := audit.Verify(ctx, db)
	if err != nil {
		return nil, err
	}
	if brk != nil {
		r.problem("the audit chain is broken after %d good entries, at %s", n, brk)
	}
	if err := checkDocuments(ctx, db, docs, r); err != nil {
		return nil, err
	}
	if err := checkSealed(ctx, db, docs.Keys, r); err != nil {
		return nil, err
	}
	return r, nil
}

func checkDocuments(ctx context.Context, db *store.DB, docs *documents.Service, r *Report) error {
	after := ""
	for {
		var rows []documents.Document
		err := db.WithContext(ctx).Where("id > ?", after).Order("id").Limit(batch).Find(&rows).Error
		if err != nil {
			return fmt.Errorf("read document records: %w", err)
		}
		for i := range rows {
			d := &rows[i]
			if err := docs.Verify(ctx, d); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.problem("document %s (%s): %v", d.ID, d.Name, err)
			}
			r.Documents++
			after = d.ID
		}
		if len(rows) < batch {
			return nil
		}
	}
}

// Compare adds to the report every way the checked data differs from what
// the manifest says was backed up: a table with another number of rows, or
// an audit chain that ends elsewhere (which the chain itself cannot show
// when entries are lost from its end). Run it straight after a restore,
// before the portal starts and adds rows.
func (r *Report) Compare(m *Manifest) {
	names := make([]string, 0, len(m.Tables))
	for name := range m.Tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, ok := r.Tables[name]
		switch {
		case !ok:
			r.problem("table %s is missing (the backup has %d rows in it)", name, m.Tables[name])
		case got != m.Tables[name]:
			r.problem("table %s has %d rows; the backup has %d", name, got, m.Tables[name])
		}
	}
	var extra []string
	for name := range r.Tables {
		if _, ok := m.Tables[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		r.problem("table %s is not in the backup", name)
	}
	if r.Audit != m.Audit {
		r.problem("the audit chain ends at entry %d (%d entries); the backup's ends at entry %d (%d entries, hash %s)",
			r.Audit.LastSeq, r.Audit.Entries, m.Audit.LastSeq, m.Audit.Entries, m.Audit.LastHash)
	}
}
