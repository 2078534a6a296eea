package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/store"
)

// TestCommands runs the subcommands against a SQLite file: migrate, seed
// (twice, idempotent), audit verify; then changes an audit row directly in
// the database and expects `portal audit verify` to name it.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "portal.db")
	t.Setenv("PORTAL_DATA_DIR", dir)
	t.Setenv("PORTAL_DATABASE_URL", dsn)
	for _, args := range [][]string{{"migrate"}, {"seed", "--demo"}, {"seed", "--demo"}, {"audit", "verify"}} {
		if err := run(args); err != nil {
			t.Fatalf("portal %s: %v", strings.Join(args, " "), err)
		}
	}
	db, err := store.Open(dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	db.Raw("SELECT MIN(seq) FROM audit_entries").Scan(&seq)
	if err := db.Exec("UPDATE audit_entries SET detail = '{\"records_created\":1}' WHERE seq = ?", seq).Error; err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = run([]string{"audit", "verify"})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("verify after tampering: %v; want the chain reported broken", err)
	}
}

// TestBadConfigurationStopsStartUp: a bad value names its variable.
func TestBadConfigurationStopsStartUp(t *testing.T) {
	t.Setenv("PORTAL_SESSION_IDLE_TIMEOUT", "soon")
	err := run([]string{"migrate"})
	if err == nil || !strings.Contains(err.Error(), "PORTAL_SESSION_IDLE_TIMEOUT") {
		t.Fatalf("got %v; want an error naming PORTAL_SESSION_IDLE_TIMEOUT", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := run([]string{"frobnicate"}); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if err := run(nil); err == nil {
		t.Fatal("no command succeeded")
	}
}
