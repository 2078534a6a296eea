package documents

import (
	"context"
	"errors"
	"io"
	"time"
)

// Backend stores opaque (already encrypted) objects by key.
//
// It knows nothing of documents, owners or encryption, so that the local
// disk implementation used today can be swapped for object storage (S3)
// without touching the upload pipeline. Keys are chosen by the caller (the
// document ID); see ValidKey for what a key may contain.
type Backend interface {
	// Put stores everything read from r under key, atomically: a crash
	// leaves either nothing or the whole object; it returns the bytes
	// written. An existing object under key is replaced, also atomically.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns a reader of the object stored under key, or an error
	// wrapping ErrObjectNotFound when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; deleting an absent object is not an error,
	// so a retried cleanup succeeds.
	Delete(ctx context.Context, key string) error
	// List calls fn for each stored object (not in-progress ones) with its
	// last modification time, so orphans (objects without a database row)
	// can be found. An error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(key string, modified time.Time) error) error
	// CleanPartial removes leftovers of interrupted Puts older than age,
	// returning how many. Leftovers younger than age are kept because they
	// may belong to an upload still in progress.
	CleanPartial(ctx context.Context, age time.Duration) (int, error)
}

// ErrObjectNotFound is returned (wrapped) by Open when no object is stored
// under the key.
var ErrObjectNotFound = errors.New("stored object not found")

// ErrInvalidKey is returned (wrapped) for a key ValidKey refuses.
var ErrInvalidKey = errors.New("invalid stored object key")

// Key length limits: long enough for a UUID with or without dashes, short
// enough to be a file name and an S3 key anywhere.
const (
	MinKeyLen = 8
	MaxKeyLen = 128
)

// ValidKey reports whether key may name a stored object: 8 to 128 ASCII
// letters, digits and dashes. The narrow alphabet means a key can never
// contain a path separator, "..", or anything a file system or S3 treats
// specially, so no key can reach outside the store.
func ValidKey(key string) bool {
	if len(key) < MinKeyLen || len(key) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
		default:
			return false
		}
	}
	return true
}
