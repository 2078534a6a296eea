package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// partialDir is where the document store keeps uploads in progress
// (documents.Local); they belong to no record and are never copied.
const partialDir = "partial"

// copyFolder copies every finished file under src to dst (which must not
// exist yet or be empty), hashing each as it goes, and returns the listing.
// When want is given, each file must match it and no file may be missing or
// extra, so a damaged backup is found before it is trusted.
func copyFolder(src, dst string, want *Folder) (Folder, error) {
	var got Folder
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == partialDir {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := copyFile(path, filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		f.Path = filepath.ToSlash(rel)
		got.Files = append(got.Files, f)
		got.Bytes += f.Size
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) && want == nil {
		// No documents uploaded yet: an empty folder is a faithful copy.
		return got, os.MkdirAll(dst, 0o700)
	}
	if err != nil {
		return got, fmt.Errorf("copy documents from %s to %s: %w", src, dst, err)
	}
	sort.Slice(got.Files, func(i, j int) bool { return got.Files[i].Path < got.Files[j].Path })
	if want != nil {
		if diff := want.differences(got); len(diff) > 0 {
			return got, fmt.Errorf("the documents in the backup do not match its manifest: %s", strings.Join(diff, "; "))
		}
	}
	return got, nil
}

// copyFile copies one file, fsynced, keeping only the owner's permissions.
func copyFile(src, dst string) (File, error) {
	in, err := os.Open(src) // #nosec G304 -- under PORTAL_DOCUMENTS_DIR or the backup folder the operator named, never a request
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600) // #nosec G304 -- in the backup folder or the portal's own data, as chosen by the operator
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, fmt.Errorf("copy %s: %w", src, err)
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// differences lists how got differs from f, file by file.
func (f Folder) differences(got Folder) []string {
	var out []string
	have := make(map[string]File, len(got.Files))
	for _, g := range got.Files {
		have[g.Path] = g
	}
	for _, w := range f.Files {
		g, ok := have[w.Path]
		switch {
		case !ok:
			out = append(out, w.Path+" is missing")
		case g.Size != w.Size || g.SHA256 != w.SHA256:
			out = append(out, w.Path+" has changed")
		}
		delete(have, w.Path)
	}
	for p := range have {
		out = append(out, p+" is not in the manifest")
	}
	sort.Strings(out)
	return out
}

// emptyFolder reports whether dir has no files in it (missing counts as
// empty; empty sub-folders, such as the ones the document store makes at
// start-up, do not count).
func emptyFolder(dir string) (bool, error) {
	empty := true
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			empty = false
			return fs.SkipAll
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return empty, err
}
