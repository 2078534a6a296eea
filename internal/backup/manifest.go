// Package backup makes and restores consistent copies of the portal's data:
// the database (SQLite with VACUUM INTO, PostgreSQL with pg_dump) and the
// encrypted documents folder, described by a manifest so that a restore can
// prove it brought back exactly what was saved. Check verifies a restored
// portal from the inside: the audit chain, every document against the hash
// recorded at upload, every sealed receipt against its content and its audit
// entry. The master key is never part of a backup: it is kept separately, and
// Check fails without the right one.
package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/nhsprocure/portal/internal/store"
)

// Names inside a backup folder.
const (
	ManifestFile  = "manifest.json"
	SQLiteFile    = "portal.db"
	PostgresFile  = "portal.dump"
	DocumentsDir  = "documents"
	manifestFmtV1 = 1
)

// Manifest describes one backup: what the database held when it was copied
// and every stored document file with its size and SHA-256, so a restore can
// be checked against it.
type Manifest struct {
	Format    int        `json:"format"`
	CreatedAt time.Time  `json:"created_at"`
	Engine    store.Kind `json:"engine"`
	// Database is the file in the backup folder holding the database.
	Database string `json:"database"`
	// Tables is the number of rows in each table at the moment of the copy.
	Tables map[string]int64 `json:"tables"`
	// Audit is the end of the audit chain at that moment: a restore that
	// verifies but ends earlier has lost entries.
	Audit     AuditHead `json:"audit"`
	Documents Folder    `json:"documents"`
}

// AuditHead is the last entry of the audit chain.
type AuditHead struct {
	Entries  int64  `json:"entries"`
	LastSeq  int64  `json:"last_seq"`
	LastHash string `json:"last_hash"`
}

// Folder lists the files of a documents folder.
type Folder struct {
	Files []File `json:"files"`
	Bytes int64  `json:"bytes"`
}

// File is one stored (encrypted) file, by its path inside the folder with
// forward slashes.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ReadManifest reads the manifest of the backup in dir.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile)) // #nosec G304 -- dir is the backup folder the operator named
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s, so it is not a complete backup: use the folder a finished `portal backup` wrote", dir, ManifestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read backup manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("backup manifest %s is damaged: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != manifestFmtV1 {
		return nil, fmt.Errorf("backup manifest format %d is not one this portal reads (it reads %d)", m.Format, manifestFmtV1)
	}
	return &m, nil
}

// write stores the manifest last and atomically: a backup folder with a
// manifest is a finished backup.
func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode backup manifest: %w", err)
	}
	tmp := filepath.Join(dir, ManifestFile+".part")
	if err := writeFileSync(tmp, append(b, '\n')); err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	return syncDir(dir)
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) // #nosec G304 -- a file in the backup folder the operator named
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncFile makes a file written by someone else (SQLite) durable.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0) // #nosec G304 -- the database copy just written into the backup folder
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- the backup folder or the database's folder, as the operator set them
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
