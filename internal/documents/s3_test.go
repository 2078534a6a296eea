package documents_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/documents/s3test"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// s3Prefix is the prefix the S3 tests store under, so that they also prove
// the backend keeps to its prefix.
const s3Prefix = "portal"

// newS3 returns a backend on a fresh versitygw server, and the server's
// configuration.
func newS3(t *testing.T) (*documents.S3, documents.S3Config) {
	t.Helper()
	cfg := s3test.Start(t)
	cfg.Prefix = s3Prefix
	b, err := documents.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, cfg
}

// incompleteUploads names the incomplete multipart uploads in the whole
// bucket, under the prefix or not.
func incompleteUploads(t *testing.T, client *minio.Client, bucket string) []string {
	t.Helper()
	var names []string
	for up := range client.ListIncompleteUploads(context.Background(), bucket, "", true) {
		if up.Err != nil {
			t.Fatal(up.Err)
		}
		names = append(names, up.Key)
	}
	slices.Sort(names)
	return names
}

// putRaw stores an object under exactly name, past the backend.
func putRaw(t *testing.T, client *minio.Client, bucket, name string) {
	t.Helper()
	if _, err := client.PutObject(context.Background(), bucket, name, strings.NewReader("not the portal's"), -1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

// TestS3Contract runs the behaviour every Backend promises on one
// versitygw server, each case in a bucket of its own.
func TestS3Contract(t *testing.T) {
	cfg := s3test.Start(t)
	client := s3test.Client(t, cfg)
	var mu sync.Mutex
	buckets := map[documents.Backend]string{}
	n := 0
	bucketOf := func(b documents.Backend) string {
		mu.Lock()
		defer mu.Unlock()
		return buckets[b]
	}
	documents.RunBackendContract(t, documents.BackendHarness{
		New: func(t *testing.T) documents.Backend {
			mu.Lock()
			n++
			bucket := fmt.Sprintf("contract-%d", n)
			mu.Unlock()
			if err := client.MakeBucket(context.Background(), bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
				t.Fatal(err)
			}
			c := cfg
			c.Bucket, c.Prefix = bucket, s3Prefix
			b, err := documents.NewS3(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			buckets[b] = bucket
			mu.Unlock()
			return b
		},
		Leftovers: func(t *testing.T, b documents.Backend) []string {
			return incompleteUploads(t, client, bucketOf(b))
		},
		// Objects the backend never writes: outside its prefix (one with a
		// valid key as its whole name), in a "folder" below the prefix, and a
		// name that is not a key.
		Stray: func(t *testing.T, b documents.Backend) {
			bucket := bucketOf(b)
			for _, name := range []string{"outsideprefix", "portalabcdefgh", s3Prefix + "/sub/abcdefgh", s3Prefix + "/stray.txt"} {
				putRaw(t, client, bucket, name)
			}
		},
	})
}

// TestS3NewChecksBucket: a missing bucket, wrong keys or no endpoint stop
// NewS3 with an error saying which bucket at which endpoint.
func TestS3NewChecksBucket(t *testing.T) {
	cfg := s3test.Start(t)
	ctx := context.Background()

	missing := cfg
	missing.Bucket = "no-such-bucket"
	_, err := documents.NewS3(ctx, missing)
	if err == nil || !strings.Contains(err.Error(), `"no-such-bucket"`) || !strings.Contains(err.Error(), cfg.Endpoint) {
		t.Errorf("missing bucket: err = %v, want one naming the bucket and %s", err, cfg.Endpoint)
	}

	wrongKey := cfg
	wrongKey.SecretKey = "not-the-secret"
	if _, err := documents.NewS3(ctx, wrongKey); err == nil || !strings.Contains(err.Error(), cfg.Bucket) {
		t.Errorf("wrong secret key: err = %v, want one naming the bucket", err)
	}

	for _, bad := range []documents.S3Config{{Bucket: cfg.Bucket}, {Endpoint: cfg.Endpoint}} {
		if _, err := documents.NewS3(ctx, bad); err == nil {
			t.Errorf("NewS3(%+v) succeeded", bad)
		}
	}

	if _, err := documents.NewS3(ctx, cfg); err != nil {
		t.Errorf("the right configuration: %v", err)
	}
}

// TestS3PutUsesBoundedParts: a Put of unknown length is sent in 16 MiB
// parts (the most it holds in memory), so 33 MiB takes three. S3 marks a
// multipart object's ETag with its part count.
func TestS3PutUsesBoundedParts(t *testing.T) {
	b, cfg := newS3(t)
	ctx := context.Background()
	content := make([]byte, 33<<20)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	// Hide bytes.Reader's size: the backend gets a plain stream, like an
	// upload.
	n, err := b.Put(ctx, "three-parts", struct{ io.Reader }{bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(content)) {
		t.Errorf("Put wrote %d bytes, want %d", n, len(content))
	}
	info, err := s3test.Client(t, cfg).StatObject(ctx, cfg.Bucket, s3Prefix+"/three-parts", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") || info.Size != int64(len(content)) {
		t.Errorf("stored object: ETag %q, %d bytes; want a 3-part object of %d bytes", info.ETag, info.Size, len(content))
	}
	rc, err := b.Open(ctx, "three-parts")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("read back %d bytes that differ from the %d stored", len(got), len(content))
	}
}

// TestS3CleanPartial: uploads that never completed are aborted once older
// than the age, a younger one is kept, and uploads outside the prefix or
// not named by a key are never touched.
func TestS3CleanPartial(t *testing.T) {
	b, cfg := newS3(t)
	ctx := context.Background()
	client := s3test.Client(t, cfg)
	core := minio.Core{Client: client}
	abandon := func(name string) {
		t.Helper()
		id, err := core.NewMultipartUpload(ctx, cfg.Bucket, name, minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		part := bytes.Repeat([]byte("half an upload "), 1000)
		if _, err := core.PutObjectPart(ctx, cfg.Bucket, name, id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	abandon(s3Prefix + "/abandoned-old")
	abandon("not-the-portals") // outside the prefix
	abandon(s3Prefix + "/not.a.key")
	// S3 gives an upload's start in whole seconds at best: the young upload
	// starts well over a second after the old one.
	time.Sleep(2500 * time.Millisecond)
	abandon(s3Prefix + "/abandoned-new")
	if _, err := b.Put(ctx, "realobject", strings.NewReader("keep me")); err != nil {
		t.Fatal(err)
	}

	n, err := b.CleanPartial(ctx, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("CleanPartial aborted %d uploads, want 1", n)
	}
	want := []string{"not-the-portals", s3Prefix + "/abandoned-new", s3Prefix + "/not.a.key"}
	if got := incompleteUploads(t, client, cfg.Bucket); !slices.Equal(got, want) {
		t.Errorf("incomplete uploads left: %v, want %v", got, want)
	}
	rc, err := b.Open(ctx, "realobject")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "keep me" {
		t.Errorf("stored object: %q, %v", got, err)
	}

	if n, err := b.CleanPartial(ctx, 0); err != nil || n != 1 {
		t.Errorf("CleanPartial(0) = %d, %v; want the young upload aborted too", n, err)
	}
	want = []string{"not-the-portals", s3Prefix + "/not.a.key"}
	if got := incompleteUploads(t, client, cfg.Bucket); !slices.Equal(got, want) {
		t.Errorf("incomplete uploads left: %v, want %v", got, want)
	}
}

// TestS3Service runs a document's whole life through documents.Service on
// the S3 backend, on every database: upload (checks, hashing, encryption),
// download and verify, tampering found, and the sweep of an orphan.
func TestS3Service(t *testing.T) {
	backend, cfg := newS3(t)
	client := s3test.Client(t, cfg)
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, kind)
			clk := clock.System{}
			now := clk.Now()
			org := orgs.Organisation{ID: uuid.NewString(), Kind: orgs.KindSupplier, Name: "Object Store Supplies Ltd", Version: 1, CreatedAt: now, UpdatedAt: now}
			user := orgs.User{ID: uuid.NewString(), Issuer: "https://idp.example", Subject: "s3-" + string(kind), Name: "Sam Store", Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := db.Create(&org).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&user).Error; err != nil {
				t.Fatal(err)
			}
			master := make([]byte, documents.MasterKeySize)
			if _, err := rand.Read(master); err != nil {
				t.Fatal(err)
			}
			keys, err := documents.NewKeyring(master)
			if err != nil {
				t.Fatal(err)
			}
			svc := &documents.Service{
				DB: db, Audit: &audit.Log{Clock: clk}, Clock: clk, Keys: keys, Store: backend,
				Limits: documents.Limits{MaxFileBytes: 64 << 20, OrgQuotaBytes: 1 << 30, Zip: documents.DefaultZipLimits},
			}
			actor := audit.Actor{UserID: user.ID, Label: user.Name, OrgID: org.ID}

			// A PDF of a few MiB, so the encrypted object spans many segments.
			plain := append([]byte("%PDF-1.7\n"), make([]byte, 5<<20)...)
			if _, err := rand.Read(plain[9:]); err != nil {
				t.Fatal(err)
			}
			plain = append(plain, "\n%%EOF\n"...)
			doc, err := svc.Put(ctx, actor, documents.Upload{OrganisationID: org.ID, Name: "tender-pack.pdf", Body: bytes.NewReader(plain)})
			if err != nil {
				t.Fatal(err)
			}
			if doc.SizeBytes != int64(len(plain)) || doc.FileType != "PDF" {
				t.Errorf("recorded %d bytes of %s, want %d of PDF", doc.SizeBytes, doc.FileType, len(plain))
			}
			name := s3Prefix + "/" + doc.StorageKey
			if _, err := client.StatObject(ctx, cfg.Bucket, name, minio.StatObjectOptions{}); err != nil {
				t.Fatalf("the encrypted object is not at %s: %v", name, err)
			}
			stored, err := client.GetObject(ctx, cfg.Bucket, name, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ciphertext, err := io.ReadAll(stored)
			stored.Close()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(ciphertext, plain[9:4096]) {
				t.Error("the stored object holds the plain content")
			}

			got, err := svc.Get(ctx, doc.ID)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := svc.Open(ctx, actor, got)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, plain) {
				t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(back), len(plain))
			}
			if err := svc.Verify(ctx, got); err != nil {
				t.Errorf("Verify: %v", err)
			}

			// An orphan (stored, never recorded) is swept; the document stays.
			orphan := uuid.NewString()
			if _, err := backend.Put(ctx, orphan, strings.NewReader("orphan")); err != nil {
				t.Fatal(err)
			}
			if n, err := svc.Sweep(ctx, 0); err != nil || n != 1 {
				t.Errorf("Sweep = %d, %v; want the orphan removed", n, err)
			}
			if _, err := backend.Open(ctx, orphan); !errors.Is(err, documents.ErrObjectNotFound) {
				t.Errorf("orphan after Sweep: %v", err)
			}
			if err := svc.Verify(ctx, got); err != nil {
				t.Errorf("Verify after Sweep: %v", err)
			}

			// A changed object is found before anything is sent.
			ciphertext[len(ciphertext)/2] ^= 1
			if _, err := client.PutObject(ctx, cfg.Bucket, name, bytes.NewReader(ciphertext), int64(len(ciphertext)), minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Open(ctx, actor, got); !errors.Is(err, documents.ErrTampered) {
				t.Errorf("Open of a changed object: err = %v, want ErrTampered", err)
			}
			if err := backend.Delete(ctx, doc.StorageKey); err != nil {
				t.Fatal(err)
			}
			if err := svc.Verify(ctx, got); !errors.Is(err, documents.ErrTampered) {
				t.Errorf("Verify of a missing object: err = %v, want ErrTampered", err)
			}
		})
	}
}
