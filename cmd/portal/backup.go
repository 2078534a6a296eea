package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/backup"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
)

// runBackup is `portal backup --to DIR` (write a backup of the database and
// the documents folder) and `portal backup check [--against DIR]` (check the
// configured database and documents, and compare them with a backup's
// manifest). Neither migrates the database: they see it as it is.
func runBackup(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) > 0 && args[0] == "check" {
		return runBackupCheck(ctx, cfg, args[1:])
	}
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	to := fs.String("to", "", "new or empty folder to write the backup into")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		return errors.New("say where to write the backup: portal backup --to /backups/portal-2027-02-15")
	}
	if err := localDocumentsOnly(cfg, "back up"); err != nil {
		return err
	}
	db, err := store.Open(cfg.DatabaseURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := backup.Create(ctx, backup.Source{DB: db, DatabaseURL: cfg.DatabaseURL, DocumentsDir: cfg.DocumentsDir}, *to, clock.System{}.Now())
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Printf("backup written to %s: %s database (%d tables, %d audit entries), %d document files (%s)\n",
		*to, m.Engine, len(m.Tables), m.Audit.Entries, len(m.Documents.Files), documents.HumanSize(m.Documents.Bytes))
	fmt.Println("The master key is not in the backup: keep its own copy, apart from this folder (see docs/backup.md).")
	return nil
}

// runRestore is `portal restore --from DIR`: it restores a backup into the
// configured database and documents folder, which must both be empty, then
// checks the result against the backup's manifest.
func runRestore(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "folder holding the backup (written by portal backup)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("say which backup to restore: portal restore --from /backups/portal-2027-02-15")
	}
	if err := localDocumentsOnly(cfg, "restore"); err != nil {
		return err
	}
	// Without the master key nothing restored could be read or checked,
	// so it must be in place first.
	keys, err := masterKeyring(cfg)
	if err != nil {
		return err
	}
	m, err := backup.Restore(ctx, *from, backup.Target{DatabaseURL: cfg.DatabaseURL, DocumentsDir: cfg.DocumentsDir})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Printf("restored the backup made at %s (UK time) from %s\n", uktime.MomentSeconds(m.CreatedAt), *from)
	return checkAndReport(ctx, cfg, keys, m)
}

// localDocumentsOnly refuses to back up or restore when documents are in
// S3: backups copy the documents folder, and with S3 that folder holds
// none, so a backup would look complete while missing every document. The
// bucket is backed up with the object store's own means (versioning,
// replication); `portal backup check` works with either store.
func localDocumentsOnly(cfg config.Config, what string) error {
	if cfg.DocumentsBackend == config.DocumentsS3 {
		return fmt.Errorf("portal cannot %s documents kept in S3 (PORTAL_DOCUMENTS_BACKEND=s3): it copies only the local documents folder. Back up the bucket %q with the object store's own versioning or replication, and the database with the database's own tools; `portal backup check` then checks them together", what, cfg.S3.Bucket)
	}
	return nil
}

// runBackupCheck is `portal backup check [--against DIR]`.
func runBackupCheck(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("backup check", flag.ContinueOnError)
	against := fs.String("against", "", "backup folder whose manifest the data must match (straight after a restore)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var m *backup.Manifest
	if *against != "" {
		var err error
		if m, err = backup.ReadManifest(*against); err != nil {
			return err
		}
	}
	keys, err := masterKeyring(cfg)
	if err != nil {
		return err
	}
	return checkAndReport(ctx, cfg, keys, m)
}

// checkAndReport runs backup.Check (and, given a manifest, Compare) on the
// configured data and prints what it found.
func checkAndReport(ctx context.Context, cfg config.Config, keys *documents.Keyring, m *backup.Manifest) error {
	db, err := store.Open(cfg.DatabaseURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	backend, err := app.DocumentBackend(ctx, cfg)
	if err != nil {
		return err
	}
	rep, err := backup.Check(ctx, db, &documents.Service{DB: db, Keys: keys, Store: backend})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if m != nil {
		rep.Compare(m)
	}
	fmt.Printf("checked %d tables, %d audit entries, %d documents and %d sealed receipts\n",
		len(rep.Tables), rep.Audit.Entries, rep.Documents, rep.SealedVersions)
	if rep.OK() {
		if m != nil {
			fmt.Println("everything matches the backup and is intact")
		} else {
			fmt.Println("everything is intact")
		}
		return nil
	}
	for _, p := range rep.Problems {
		fmt.Println("PROBLEM:", p)
	}
	return fmt.Errorf("the check found %d problems (listed above)", len(rep.Problems))
}

// masterKeyring loads the master key without ever making a new one: a
// new key would read nothing restored.
func masterKeyring(cfg config.Config) (*documents.Keyring, error) {
	keys, err := app.MasterKeyring(cfg, false)
	if err != nil {
		return nil, fmt.Errorf("%w. Put the master key back from its own backup first (PORTAL_MASTER_KEY, PORTAL_MASTER_KEY_FILE or %s)", err, app.MasterKeyPath(cfg))
	}
	return keys, nil
}
