package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/backup/backuptest"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestBackupCommands runs `portal backup --to`, `portal restore --from` and
// `portal backup check` on a portal with a live framework, sealed bids and
// a document, on each database: the restore into an empty database checks
// clean against the backup, a tampered audit row makes the check fail, and
// restoring again over the restored data, or without the master key, is
// refused.
func TestBackupCommands(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			srcURL := backuptest.DatabaseURL(t, kind)
			src := backuptest.Open(t, srcURL)
			if _, err := src.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			x := domaintest.LiveFramework(t, src)
			c := x.Published(t, domaintest.CompetitionInput("SWL-EPR-2027-02"))
			x.Bid(t, c, x.Sarah, 990)
			if _, err := x.Docs.Put(ctx, x.Aisha, documents.Upload{OrganisationID: x.RJ7, Name: "pricing.csv", Body: strings.NewReader("item,units\nlicence,6500\n")}); err != nil {
				t.Fatal(err)
			}
			// LiveFramework's master key, as an operator would configure it.
			key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, documents.MasterKeySize))
			srcCfg := portalConfig(t, srcURL, x.Docs.Store.(*documents.Local).Root, key)
			dir := filepath.Join(t.TempDir(), "backup")

			if err := runBackup(ctx, srcCfg, nil); err == nil || !strings.Contains(err.Error(), "--to") {
				t.Fatalf("backup without a folder: %v; want it to say --to", err)
			}
			if err := runBackup(ctx, srcCfg, []string{"--to", dir}); err != nil {
				t.Fatalf("portal backup: %v", err)
			}

			noKey := portalConfig(t, backuptest.DatabaseURL(t, kind), filepath.Join(t.TempDir(), "documents"), "")
			if err := runRestore(ctx, noKey, []string{"--from", dir}); err == nil || !strings.Contains(err.Error(), "Put the master key back") {
				t.Fatalf("restore without the master key: %v; want it refused", err)
			}

			dstURL := backuptest.DatabaseURL(t, kind)
			dstCfg := portalConfig(t, dstURL, filepath.Join(t.TempDir(), "documents"), key)
			if err := runRestore(ctx, dstCfg, []string{"--from", dir}); err != nil {
				t.Fatalf("portal restore: %v", err)
			}
			for _, args := range [][]string{{"check"}, {"check", "--against", dir}} {
				if err := runBackup(ctx, dstCfg, args); err != nil {
					t.Fatalf("portal backup %s: %v", strings.Join(args, " "), err)
				}
			}
			if err := runRestore(ctx, dstCfg, []string{"--from", dir}); err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Fatalf("restore over the restored data: %v; want it refused", err)
			}

			dst, err := store.Open(dstURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			if err := dst.Exec("UPDATE audit_entries SET action = 'document.delete' WHERE seq = (SELECT MAX(seq) FROM audit_entries)").Error; err != nil {
				t.Fatal(err)
			}
			if err := runBackup(ctx, dstCfg, []string{"check"}); err == nil || !strings.Contains(err.Error(), "problems") {
				t.Fatalf("check after tampering with an audit row: %v; want problems found", err)
			}
		})
	}
}

// portalConfig is the configuration an operator would give: the database,
// the documents folder and (when not empty) the master key.
func portalConfig(t *testing.T, dsn, docs, key string) config.Config {
	t.Helper()
	env := map[string]string{
		"PORTAL_DATABASE_URL": dsn, "PORTAL_DATA_DIR": t.TempDir(), "PORTAL_DOCUMENTS_DIR": docs, "PORTAL_MASTER_KEY": key,
	}
	cfg, err := config.Load(func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "master.key")); err == nil {
		t.Fatal("a master key file exists in a fresh data folder")
	}
	return cfg
}
