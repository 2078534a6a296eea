package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3 (or S3-compatible) bucket is and how to reach
// it.
type S3Config struct {
	// Endpoint is host:port, without a scheme (UseSSL picks https).
	Endpoint  string
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	UseSSL    bool
	// Prefix, when set, puts every object under Prefix/ so that one bucket
	// can hold other things, or several portals, side by side.
	Prefix string
}

// S3 is a Backend on an S3 bucket, for several instances sharing one store
// without a shared file system.
//
// Objects are stored as Prefix/<key>. A Put is one multipart upload, and S3
// publishes an object only when its upload completes, in one step: readers
// see the old object, the new one or none, never a prefix, so the atomic
// replace Backend promises holds without a rename. Uploads that never
// complete (the process died) are the "partial" leftovers CleanPartial
// aborts.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ Backend = (*S3)(nil)

// s3PartSize is the size of each part a Put sends. The uploader holds one
// part in memory at a time, so this bounds a Put's memory whatever the
// object's size; with S3's limit of 10,000 parts it allows objects of up to
// 156 GiB.
const s3PartSize = 16 << 20

// NewS3 connects to the bucket and checks that it exists, so that a wrong
// endpoint, bucket or key stops start-up rather than the first upload.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("documents: S3 storage needs an endpoint and a bucket")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseSSL,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("documents: S3 endpoint %s: %w", cfg.Endpoint, err)
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("documents: check S3 bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !exists {
		return nil, fmt.Errorf("documents: S3 bucket %q does not exist at %s; create it (the portal never creates buckets)", cfg.Bucket, cfg.Endpoint)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: prefix}, nil
}

func (s *S3) name(key string) string { return s.prefix + key }

// keyOf returns the key an object name under the prefix stands for, and
// false for anything Put cannot have written (another prefix, a "folder",
// a name that is no valid key).
func (s *S3) keyOf(name string) (string, bool) {
	key, ok := strings.CutPrefix(name, s.prefix)
	return key, ok && ValidKey(key)
}

// Put streams everything read from r into one multipart upload of
// s3PartSize parts (the size is not known in advance). The context is
// checked before every read from r. On any error the uploader aborts the
// upload, even when the error is ctx ending, so nothing is published and
// nothing is left; a crash leaves an incomplete upload for CleanPartial.
// Errors from r are returned wrapped.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	src := &countingReader{r: &ctxReader{ctx: ctx, r: r}}
	_, err := s.client.PutObject(ctx, s.bucket, s.name(key), src, -1, minio.PutObjectOptions{
		PartSize:    s3PartSize,
		ContentType: "application/octet-stream",
	})
	if err != nil {
		return src.n, fmt.Errorf("documents: storing %s in S3: %w", key, err)
	}
	return src.n, nil
}

// Open returns the stored object. It asks for the object before returning,
// so a missing one is ErrObjectNotFound here rather than a failing first
// Read. The reader is also an io.Seeker and io.ReaderAt.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("documents: open %s in S3: %w", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close() // nothing was read; the lookup's error is the one to report
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, fmt.Errorf("%w: %s", ErrObjectNotFound, key)
		}
		return nil, fmt.Errorf("documents: open %s in S3: %w", key, err)
	}
	return obj, nil
}

// Delete removes the stored object; an absent object is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("documents: delete %s in S3: %w", key, err)
	}
	return nil
}

// List calls fn for each stored object directly under the prefix, in key
// order, with its last modification time (when its upload completed).
// Incomplete uploads are never listed, and neither is anything whose name
// is not a valid key.
func (s *S3) List(ctx context.Context, fn func(key string, modified time.Time) error) error {
	// Stopping early (fn's error) must also stop the listing's goroutine.
	listCtx, stop := context.WithCancel(ctx)
	defer stop()
	for obj := range s.client.ListObjects(listCtx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix}) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if obj.Err != nil {
			return fmt.Errorf("documents: list S3 bucket %s: %w", s.bucket, obj.Err)
		}
		key, ok := s.keyOf(obj.Key)
		if !ok {
			continue
		}
		if err := fn(key, obj.LastModified); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// CleanPartial aborts incomplete multipart uploads under the prefix started
// more than age ago, returning how many. S3 keeps no last-write time for an
// upload, so age counts from its start: it must be longer than the slowest
// upload takes, or that upload fails at its next part instead of
// publishing. Each upload is aborted by its ID, so a younger upload of the
// same key is kept.
func (s *S3) CleanPartial(ctx context.Context, age time.Duration) (int, error) {
	cutoff := time.Now().Add(-age)
	core := minio.Core{Client: s.client}
	listCtx, stop := context.WithCancel(ctx)
	defer stop()
	removed := 0
	for up := range s.client.ListIncompleteUploads(listCtx, s.bucket, s.prefix, false) {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if up.Err != nil {
			return removed, fmt.Errorf("documents: list incomplete S3 uploads: %w", up.Err)
		}
		if _, ok := s.keyOf(up.Key); !ok || up.UploadID == "" || up.Initiated.After(cutoff) {
			continue
		}
		switch err := core.AbortMultipartUpload(ctx, s.bucket, up.Key, up.UploadID); {
		case err == nil:
			removed++
		case minio.ToErrorResponse(err).Code != minio.NoSuchUpload: // else it finished or was aborted meanwhile
			return removed, fmt.Errorf("documents: abort incomplete S3 upload of %s: %w", up.Key, err)
		}
	}
	return removed, ctx.Err()
}

// countingReader counts the bytes read through it (the uploader reports
// only what it sent in the parts that completed), and reads at most
// copyBufferSize at a time: the uploader asks for a whole part at once, and
// smaller reads let ctxReader notice a cancelled context within a MiB
// rather than a part.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), copyBufferSize)])
	c.n += int64(n)
	return n, err
}
