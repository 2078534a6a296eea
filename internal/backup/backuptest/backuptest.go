// Package backuptest gives backup tests what storetest's schemas cannot: a
// whole database of its own, since pg_dump and pg_restore copy databases,
// not schemas.
package backuptest

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// DatabaseURL returns the URL of a new, empty database of the given kind,
// removed when the test ends: a SQLite file that does not exist yet, or a
// PostgreSQL database created beside the test database named by
// PORTAL_TEST_DATABASE_URL.
func DatabaseURL(t testing.TB, kind store.Kind) string {
	t.Helper()
	if kind != store.Postgres {
		return filepath.Join(t.TempDir(), "portal.db")
	}
	base := os.Getenv(storetest.EnvPostgres)
	if base == "" {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "backup_" + hex.EncodeToString(b)
	exec(t, base, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", storetest.EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

func exec(t testing.TB, base, sql string) {
	t.Helper()
	admin, err := store.Open(base, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if err := admin.Exec(sql).Error; err != nil {
		t.Errorf("%s: %v", sql, err)
	}
}

// Open opens the database at url as it is (unmigrated), closed when the
// test ends.
func Open(t testing.TB, url string) *store.DB {
	t.Helper()
	db, err := store.Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
