package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nhsprocure/portal/internal/store"
)

// Target is where a backup is restored to: a database and a documents
// folder, both empty.
type Target struct {
	// DatabaseURL is PORTAL_DATABASE_URL: a SQLite file that does not exist
	// yet (or has no tables), or an empty PostgreSQL database.
	DatabaseURL  string
	DocumentsDir string
}

// ErrNotEmpty refuses a restore over existing data: a restore never merges
// with or overwrites what is there.
var ErrNotEmpty = errors.New("the restore target is not empty, so nothing was restored")

// Restore brings the backup in dir back into to. It first checks that the
// backup is whole (every document file matching the manifest) and that the
// database and documents folder are empty, and refuses otherwise; the
// documents are staged beside their folder and moved into place only once
// the database is restored, so a failure leaves the target as it was. It
// returns the backup's manifest, for comparing with Check's report.
func Restore(ctx context.Context, dir string, to Target) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if kind := store.KindOf(to.DatabaseURL); kind != m.Engine {
		return nil, fmt.Errorf("this backup is of a %s database but PORTAL_DATABASE_URL names a %s one: restore it into the same kind of database it came from", m.Engine, kind)
	}
	dump := filepath.Join(dir, m.Database)
	if _, err := os.Stat(dump); err != nil {
		return nil, fmt.Errorf("the backup's database file is missing (%w): use the whole backup folder", err)
	}
	dbFile, err := emptyDatabase(ctx, to.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if empty, err := emptyFolder(to.DocumentsDir); err != nil {
		return nil, fmt.Errorf("check documents folder %s: %w", to.DocumentsDir, err)
	} else if !empty {
		return nil, fmt.Errorf("%w: the documents folder %s already holds files. Set PORTAL_DOCUMENTS_DIR to a new, empty folder", ErrNotEmpty, to.DocumentsDir)
	}
	parent := filepath.Dir(filepath.Clean(to.DocumentsDir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("create documents folder: %w", err)
	}
	stage, err := os.MkdirTemp(parent, ".documents-restore-*")
	if err != nil {
		return nil, fmt.Errorf("stage documents: %w", err)
	}
	placed := false
	defer func() {
		if !placed {
			_ = os.RemoveAll(stage)
		}
	}()
	if _, err := copyFolder(filepath.Join(dir, DocumentsDir), stage, &m.Documents); err != nil {
		return nil, err
	}
	if m.Engine == store.Postgres {
		err = pgRestore(ctx, to.DatabaseURL, dump)
	} else {
		err = sqliteRestore(dump, dbFile)
	}
	if err != nil {
		return nil, err
	}
	// The folder was checked to hold no files: only empty sub-folders go.
	if err := os.RemoveAll(to.DocumentsDir); err != nil {
		return nil, fmt.Errorf("replace empty documents folder: %w", err)
	}
	if err := os.Rename(stage, to.DocumentsDir); err != nil {
		return nil, fmt.Errorf("move restored documents into place: %w", err)
	}
	placed = true
	if err := syncDir(parent); err != nil {
		return nil, fmt.Errorf("move restored documents into place: %w", err)
	}
	return m, nil
}

// emptyDatabase makes sure the database at url holds no tables, and
// returns its file for SQLite.
func emptyDatabase(ctx context.Context, url string) (string, error) {
	db, err := store.Open(url, nil)
	if err != nil {
		return "", err
	}
	names, err := tables(db.WithContext(ctx))
	var path string
	if err == nil && db.Kind == store.SQLite {
		err = db.WithContext(ctx).Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path).Error
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("check the database is empty: %w", err)
	}
	if len(names) > 0 {
		return "", fmt.Errorf("%w: the database already has %d tables (%s). Restore only into a new database: for PostgreSQL create an empty one (createdb) and point PORTAL_DATABASE_URL at it; for SQLite name a file that does not exist yet",
			ErrNotEmpty, len(names), strings.Join(names[:min(3, len(names))], ", ")+ellipsis(len(names) > 3))
	}
	return path, nil
}

// sqliteRestore puts a copy of the backup file in place of the empty
// database file, atomically.
func sqliteRestore(dump, path string) error {
	for _, extra := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + extra); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove empty database's %s file: %w", extra, err)
		}
	}
	tmp := path + ".restoring"
	_ = os.Remove(tmp)
	if _, err := copyFile(dump, tmp); err != nil {
		return fmt.Errorf("restore the SQLite database: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore the SQLite database: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func ellipsis(more bool) string {
	if more {
		return ", …"
	}
	return ""
}
