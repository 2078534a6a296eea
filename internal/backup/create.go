package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nhsprocure/portal/internal/store"
)

// Source is the portal whose data is backed up.
type Source struct {
	DB *store.DB
	// DatabaseURL is PORTAL_DATABASE_URL, which pg_dump connects to.
	DatabaseURL  string
	DocumentsDir string
}

// Create writes a backup of src into dir, which must be new or empty: the
// database first, then the documents folder, then the manifest. Documents
// are copied after the database because a document's file is stored before
// its record is written: every record in the copy then has its file. The
// master key is not copied.
func Create(ctx context.Context, src Source, dir string, now time.Time) (*Manifest, error) {
	if empty, err := emptyFolder(dir); err != nil {
		return nil, fmt.Errorf("check backup folder %s: %w", dir, err)
	} else if !empty {
		return nil, fmt.Errorf("the backup folder %s is not empty: give each backup a new folder, such as one named after today's date", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create backup folder: %w", err)
	}
	m := &Manifest{Format: manifestFmtV1, CreatedAt: now.UTC(), Engine: src.DB.Kind}
	switch src.DB.Kind {
	case store.Postgres:
		m.Database = PostgresFile
		if err := pgDump(ctx, src.DB, src.DatabaseURL, filepath.Join(dir, m.Database), m); err != nil {
			return nil, err
		}
	default:
		m.Database = SQLiteFile
		if err := sqliteCopy(ctx, src.DB, filepath.Join(dir, m.Database), m); err != nil {
			return nil, err
		}
	}
	docs, err := copyFolder(src.DocumentsDir, filepath.Join(dir, DocumentsDir), nil)
	if err != nil {
		return nil, err
	}
	m.Documents = docs
	if err := m.write(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// sqliteCopy writes a consistent copy of the database with VACUUM INTO
// (which reads one snapshot while the portal keeps writing), then counts
// the copy's rows, so the manifest describes exactly what was saved.
func sqliteCopy(ctx context.Context, db *store.DB, file string, m *Manifest) error {
	if err := db.WithContext(ctx).Exec("VACUUM INTO ?", file).Error; err != nil {
		return fmt.Errorf("copy the SQLite database: %w", err)
	}
	cp, err := store.Open(file, nil)
	if err != nil {
		return fmt.Errorf("open the database copy: %w", err)
	}
	tx := cp.WithContext(ctx)
	m.Tables, err = counts(tx)
	if err == nil {
		m.Audit, err = auditHead(tx)
	}
	if cerr := cp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return syncFile(file)
}
