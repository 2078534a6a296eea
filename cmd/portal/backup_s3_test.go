package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/backup/backuptest"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/documents/s3test"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestBackupWithS3Documents: with documents in S3, `portal backup --to` and
// `portal restore` refuse (they would copy an empty documents folder and
// look complete), while `portal backup check` reads the documents from the
// bucket and finds one gone missing.
func TestBackupWithS3Documents(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			s3cfg := s3test.Start(t)
			dsn := backuptest.DatabaseURL(t, kind)
			db := backuptest.Open(t, dsn)
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			master := bytes.Repeat([]byte{7}, documents.MasterKeySize)
			env := map[string]string{
				"PORTAL_DATABASE_URL": dsn, "PORTAL_DATA_DIR": t.TempDir(),
				"PORTAL_MASTER_KEY":        base64.StdEncoding.EncodeToString(master),
				"PORTAL_DOCUMENTS_BACKEND": "s3", "PORTAL_S3_ENDPOINT": s3cfg.Endpoint, "PORTAL_S3_BUCKET": s3cfg.Bucket,
				"PORTAL_S3_ACCESS_KEY": s3cfg.AccessKey, "PORTAL_S3_SECRET_KEY": s3cfg.SecretKey, "PORTAL_S3_TLS": "false",
			}
			cfg, err := config.Load(func(name string) string { return env[name] })
			if err != nil {
				t.Fatal(err)
			}

			// One document, stored in the bucket through the service.
			backend, err := documents.NewS3(ctx, s3cfg)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := documents.NewKeyring(master)
			if err != nil {
				t.Fatal(err)
			}
			clk := clock.System{}
			now := clk.Now()
			org := orgs.Organisation{ID: uuid.NewString(), Kind: orgs.KindSupplier, Name: "Bucket Supplies Ltd", Version: 1, CreatedAt: now, UpdatedAt: now}
			user := orgs.User{ID: uuid.NewString(), Issuer: "https://idp.example", Subject: "bucket", Name: "Bea Bucket", Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := db.Create(&org).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&user).Error; err != nil {
				t.Fatal(err)
			}
			svc := &documents.Service{DB: db, Audit: &audit.Log{Clock: clk}, Clock: clk, Keys: keys, Store: backend,
				Limits: documents.Limits{MaxFileBytes: 1 << 20, OrgQuotaBytes: 1 << 24}}
			doc, err := svc.Put(ctx, audit.Actor{UserID: user.ID, Label: user.Name, OrgID: org.ID},
				documents.Upload{OrganisationID: org.ID, Name: "pricing.csv", Body: strings.NewReader("item,units\nlicence,6500\n")})
			if err != nil {
				t.Fatal(err)
			}

			dir := filepath.Join(t.TempDir(), "backup")
			if err := runBackup(ctx, cfg, []string{"--to", dir}); err == nil || !strings.Contains(err.Error(), "S3") || !strings.Contains(err.Error(), s3cfg.Bucket) {
				t.Errorf("backup with S3 documents: err = %v, want a refusal naming the bucket", err)
			}
			if err := runRestore(ctx, cfg, []string{"--from", dir}); err == nil || !strings.Contains(err.Error(), "S3") {
				t.Errorf("restore with S3 documents: err = %v, want a refusal", err)
			}

			if err := runBackup(ctx, cfg, []string{"check"}); err != nil {
				t.Fatalf("backup check with the document in the bucket: %v", err)
			}
			if err := backend.Delete(ctx, doc.StorageKey); err != nil {
				t.Fatal(err)
			}
			if err := runBackup(ctx, cfg, []string{"check"}); err == nil || !strings.Contains(err.Error(), "problems") {
				t.Errorf("backup check with the document gone from the bucket: err = %v, want problems found", err)
			}
		})
	}
}
