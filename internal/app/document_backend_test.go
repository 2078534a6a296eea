package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/documents/s3test"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestPortalStoresDocumentsInS3: with PORTAL_DOCUMENTS_BACKEND=s3 a file
// uploaded through the web page is stored, encrypted, in the bucket (and
// nothing in the local folder), and downloads back whole.
func TestPortalStoresDocumentsInS3(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			s3cfg := s3test.Start(t)
			var docsDir string
			h := apptest.New(t, kind, func(cfg *config.Config, _ *app.Options) {
				cfg.DocumentsBackend = config.DocumentsS3
				cfg.S3 = config.S3Settings{Endpoint: s3cfg.Endpoint, Region: s3cfg.Region, Bucket: s3cfg.Bucket,
					AccessKey: s3cfg.AccessKey, SecretKey: s3cfg.SecretKey, TLS: false, Prefix: "documents"}
				docsDir = cfg.DocumentsDir
			})
			if _, ok := h.App.Docs.Store.(*documents.S3); !ok {
				t.Fatalf("document store is %T, want *documents.S3", h.App.Docs.Store)
			}
			b := h.Browser(t)
			b.SignInAs("demo-trust-lead")

			marker := "PLAINTEXT-MARKER-" + rand.Text()
			pdf := []byte("%PDF-1.7\n% " + marker + "\n" + strings.Repeat("padding line\n", 20000) + "%%EOF\n")
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			if err := w.WriteField("_csrf", b.CSRF("/documents")); err != nil {
				t.Fatal(err)
			}
			part, err := w.CreateFormFile("file", "tender-pack.pdf")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := part.Write(pdf); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			resp, err := b.Client.Post(h.URL+"/documents", w.FormDataContentType(), &body)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			m := regexp.MustCompile(`^/documents/([0-9a-f-]{36})$`).FindStringSubmatch(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || m == nil {
				t.Fatalf("upload: status %d, location %q; want 303 to the new document", resp.StatusCode, resp.Header.Get("Location"))
			}
			doc, err := h.App.Docs.Get(context.Background(), m[1])
			if err != nil {
				t.Fatal(err)
			}

			// The encrypted object is in the bucket under the prefix.
			obj, err := s3test.Client(t, s3cfg).GetObject(context.Background(), s3cfg.Bucket, "documents/"+doc.StorageKey, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			stored, err := io.ReadAll(obj)
			obj.Close()
			if err != nil {
				t.Fatalf("object documents/%s: %v", doc.StorageKey, err)
			}
			if len(stored) < len(pdf) || bytes.Contains(stored, []byte(marker)) {
				t.Errorf("stored object: %d bytes, plain marker present %v; want the encrypted file", len(stored), bytes.Contains(stored, []byte(marker)))
			}
			if entries, err := os.ReadDir(filepath.Join(docsDir, "objects")); err == nil && len(entries) > 0 {
				t.Errorf("the local documents folder holds %d entries with the S3 backend", len(entries))
			}

			resp, err = b.Client.Get(h.URL + "/documents/" + doc.ID + "/download")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, pdf) {
				t.Errorf("download: status %d, %d bytes (%v); want the %d uploaded", resp.StatusCode, len(got), err, len(pdf))
			}
		})
	}
}

// TestDocumentBackendErrors: a missing bucket or an unknown backend stops
// start-up with an error saying what to fix; the local backend is the
// default.
func TestDocumentBackendErrors(t *testing.T) {
	ctx := context.Background()
	s3cfg := s3test.Start(t)
	cfg, err := config.Load(func(name string) string {
		return map[string]string{
			"PORTAL_DATA_DIR":          t.TempDir(),
			"PORTAL_DOCUMENTS_BACKEND": "s3",
			"PORTAL_S3_ENDPOINT":       s3cfg.Endpoint,
			"PORTAL_S3_BUCKET":         "no-such-bucket",
			"PORTAL_S3_ACCESS_KEY":     s3cfg.AccessKey,
			"PORTAL_S3_SECRET_KEY":     s3cfg.SecretKey,
			"PORTAL_S3_TLS":            "false",
		}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.DocumentBackend(ctx, cfg); err == nil || !strings.Contains(err.Error(), `"no-such-bucket"`) || !strings.Contains(err.Error(), "PORTAL_S3_") {
		t.Errorf("missing bucket: err = %v, want one naming the bucket and the PORTAL_S3_ settings", err)
	}
	cfg.S3.Bucket = s3cfg.Bucket
	if b, err := app.DocumentBackend(ctx, cfg); err != nil {
		t.Errorf("existing bucket: %v", err)
	} else if _, ok := b.(*documents.S3); !ok {
		t.Errorf("backend is %T, want *documents.S3", b)
	}

	cfg.DocumentsBackend = config.DocumentsLocal
	if b, err := app.DocumentBackend(ctx, cfg); err != nil {
		t.Errorf("local: %v", err)
	} else if _, ok := b.(*documents.Local); !ok {
		t.Errorf("backend is %T, want *documents.Local", b)
	}
	cfg.DocumentsBackend = "tape"
	if _, err := app.DocumentBackend(ctx, cfg); err == nil || !strings.Contains(err.Error(), "PORTAL_DOCUMENTS_BACKEND") {
		t.Errorf("unknown backend: err = %v, want one naming PORTAL_DOCUMENTS_BACKEND", err)
	}
}
