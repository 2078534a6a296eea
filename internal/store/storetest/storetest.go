// Package storetest gives tests real, migrated, isolated databases: a fresh
// SQLite file always, and a fresh PostgreSQL schema when
// PORTAL_TEST_DATABASE_URL is set, so every database test runs on both.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/nhsprocure/portal/internal/store"
)

// EnvPostgres names the variable holding the PostgreSQL URL for tests.
const EnvPostgres = "PORTAL_TEST_DATABASE_URL"

// Each runs fn once per available database as a subtest named after it.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, kind := range Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, Open(t, kind))
		})
	}
}

// Kinds lists the engines tests can use on this machine. In CI PostgreSQL is
// required, so a missing URL fails instead of silently halving the coverage.
func Kinds() []store.Kind {
	kinds := []store.Kind{store.SQLite}
	if os.Getenv(EnvPostgres) != "" {
		kinds = append(kinds, store.Postgres)
	} else if os.Getenv("CI") != "" {
		panic(EnvPostgres + " must be set in CI so database tests also run on PostgreSQL")
	}
	return kinds
}

// Open returns a migrated, empty database of the given kind that is removed
// when the test ends.
func Open(t testing.TB, kind store.Kind) *store.DB {
	t.Helper()
	db := OpenEmpty(t, kind)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", kind, err)
	}
	return db
}

// OpenEmpty returns an unmigrated, empty database of the given kind.
func OpenEmpty(t testing.TB, kind store.Kind) *store.DB {
	t.Helper()
	var dsn string
	switch kind {
	case store.Postgres:
		dsn = postgresSchema(t)
	default:
		dsn = filepath.Join(t.TempDir(), "portal.db")
	}
	db, err := store.Open(dsn, nil)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// URL returns a database URL of the given kind for tests that start the
// whole portal (which opens its own connection).
func URL(t testing.TB, kind store.Kind) string {
	t.Helper()
	if kind == store.Postgres {
		return postgresSchema(t)
	}
	return filepath.Join(t.TempDir(), "portal.db")
}

// postgresSchema creates a schema of its own for the test and returns a URL
// whose search_path points at it, so tests never see each other's rows.
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip(EnvPostgres + " is not set")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := store.Open(base, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := store.Open(base, nil)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
