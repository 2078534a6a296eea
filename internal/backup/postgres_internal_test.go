package backup

import (
	"slices"
	"strings"
	"testing"
)

// TestPgTarget: the password leaves the URL for PGPASSWORD, so it never
// shows in the process list, and a schema-only URL is refused.
func TestPgTarget(t *testing.T) {
	dsn, env, err := pgTarget("postgres://portal:s3cret@db.example:5432/portal?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	if dsn != "postgres://portal@db.example:5432/portal?sslmode=require" || !slices.Contains(env, "PGPASSWORD=s3cret") {
		t.Fatalf("target %q, env has password: %v", dsn, slices.Contains(env, "PGPASSWORD=s3cret"))
	}
	if _, _, err := pgTarget("postgres://portal@db.example/test?search_path=t_1"); err == nil || !strings.Contains(err.Error(), "database of its own") {
		t.Fatalf("schema URL: %v; want it refused", err)
	}
}
