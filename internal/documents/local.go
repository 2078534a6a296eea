package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Local is a Backend on the local file system, for a single instance or a
// shared volume.
//
// Layout: Root/objects/<first two characters of key>/<key> holds finished
// objects (the two-character fan-out keeps directories small enough to list
// quickly), and Root/partial holds uploads in progress. Both must be on the
// same file system, because an object is published by renaming its partial
// file into place: rename is atomic, so readers and crashes see either the
// old object, the new one, or none, never a prefix.
type Local struct {
	Root string
}

var _ Backend = (*Local)(nil)

const copyBufferSize = 1 << 20

// copyBuffers recycles the 1 MiB copy buffers so that many concurrent or
// back-to-back uploads do not each leave a megabyte of garbage.
var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, copyBufferSize)
	return &b
}}

// NewLocal prepares a store under root, creating Root/objects and
// Root/partial with mode 0700: only the portal's own user may read even the
// encrypted files.
func NewLocal(root string) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("documents: storage folder %q: %w", root, err)
	}
	l := &Local{Root: abs}
	for _, dir := range []string{l.objectsDir(), l.partialDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("documents: create storage folder: %w", err)
		}
	}
	return l, nil
}

func (l *Local) objectsDir() string { return filepath.Join(l.Root, "objects") }
func (l *Local) partialDir() string { return filepath.Join(l.Root, "partial") }

func (l *Local) path(key string) (dir, file string) {
	dir = filepath.Join(l.objectsDir(), key[:2])
	return dir, filepath.Join(dir, key)
}

func checkKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("%w %q: use %d to %d letters, digits or dashes", ErrInvalidKey, key, MinKeyLen, MaxKeyLen)
	}
	return nil
}

// Put stores everything read from r under key.
//
// The data goes to a new temporary file in Root/partial through a 1 MiB
// buffer (never the whole object in memory), is fsynced, and is then renamed
// into place and the directory fsynced, so that once Put returns the object
// survives a power cut, and until then a crash leaves only a partial file
// for CleanPartial. On any error, including ctx being cancelled (checked
// before every read from r), the temporary file is removed and nothing is
// published. Errors from r are returned wrapped, so callers can recognise
// their own (errors.Is / errors.As).
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(l.partialDir(), key+".*.part")
	if err != nil {
		return 0, fmt.Errorf("documents: start storing %s: %w", key, err)
	}
	published := false
	defer func() {
		if !published {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	bufp := copyBuffers.Get().(*[]byte)
	// onlyWriter and ctxReader hide ReadFrom/WriteTo so io.CopyBuffer really
	// uses our buffer and really calls ctxReader between chunks.
	n, err := io.CopyBuffer(onlyWriter{tmp}, &ctxReader{ctx: ctx, r: r}, *bufp)
	copyBuffers.Put(bufp)
	if err != nil {
		return n, fmt.Errorf("documents: storing %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("documents: storing %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("documents: storing %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return n, fmt.Errorf("documents: storing %s: %w", key, err)
	}
	dir, path := l.path(key)
	created := false
	switch err := os.Mkdir(dir, 0o700); {
	case err == nil:
		created = true
	case !errors.Is(err, fs.ErrExist):
		return n, fmt.Errorf("documents: storing %s: %w", key, err)
	}
	if created {
		// The new fan-out directory's own entry must be durable too.
		if err := syncDir(l.objectsDir()); err != nil {
			return n, fmt.Errorf("documents: storing %s: %w", key, err)
		}
	}
	// If CleanPartial removed our partial file meanwhile (it was idle for
	// longer than the clean-up age), this rename fails and nothing is
	// published: the upload fails rather than storing a lost file.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("documents: storing %s: %w", key, err)
	}
	published = true
	if err := syncDir(dir); err != nil {
		// The object is complete and in place; only its durability across a
		// power cut is in doubt. Report it so the caller does not record a
		// document that might vanish.
		return n, fmt.Errorf("documents: storing %s: %w", key, err)
	}
	return n, nil
}

// Open returns the stored object. The *os.File it returns is also an
// io.Seeker and io.ReaderAt.
func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, path := l.path(key)
	f, err := os.Open(path) // #nosec G304 -- key passed checkKey (letters, digits, dashes) and path is under the store's root
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrObjectNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("documents: open %s: %w", key, err)
	}
	return f, nil
}

// Delete removes the stored object; an absent object is not an error. The
// directory is fsynced so a deleted object does not come back after a crash.
// Readers that already opened it keep reading the old content.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, path := l.path(key)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("documents: delete %s: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("documents: delete %s: %w", key, err)
	}
	return nil
}

// List calls fn for each stored object, in key order within each fan-out
// directory, with its modification time (when its Put finished). Partial
// files are never listed; neither is anything in objects/ that is not a
// regular file with a valid key in the right directory (it cannot have been
// written by Put). Objects deleted while listing are skipped.
func (l *Local) List(ctx context.Context, fn func(key string, modified time.Time) error) error {
	dirs, err := os.ReadDir(l.objectsDir())
	if err != nil {
		return fmt.Errorf("documents: list: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(l.objectsDir(), d.Name()))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("documents: list: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			key := e.Name()
			if !e.Type().IsRegular() || !ValidKey(key) || key[:2] != d.Name() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return fmt.Errorf("documents: list: %w", err)
			}
			if err := fn(key, info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

// CleanPartial removes files in Root/partial last written more than age ago
// and returns how many it removed. A Put in progress rewrites its file at
// every chunk, so an age of minutes spares live uploads unless their client
// stalls that long (such a Put then fails instead of publishing). Use age 0
// only when no Put can be running, such as at start-up.
func (l *Local) CleanPartial(ctx context.Context, age time.Duration) (int, error) {
	entries, err := os.ReadDir(l.partialDir())
	if err != nil {
		return 0, fmt.Errorf("documents: clean partial uploads: %w", err)
	}
	now := time.Now()
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // its Put finished or failed meanwhile
		}
		if err != nil {
			return removed, fmt.Errorf("documents: clean partial uploads: %w", err)
		}
		if now.Sub(info.ModTime()) < age {
			continue
		}
		switch err := os.Remove(filepath.Join(l.partialDir(), e.Name())); {
		case err == nil:
			removed++
		case !errors.Is(err, fs.ErrNotExist):
			return removed, fmt.Errorf("documents: clean partial uploads: %w", err)
		}
	}
	return removed, nil
}

// syncDir fsyncs a directory so that entries just created, renamed or
// removed in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- only the store's own folders, never a name from a request
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// onlyWriter hides *os.File's ReadFrom, which would bypass the copy buffer
// (and, for plain readers, copy through its own 32 KiB one).
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// ctxReader stops a copy when its context ends: a client that goes away or
// a request deadline must not leave a Put reading on.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
