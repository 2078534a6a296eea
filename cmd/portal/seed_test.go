package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/store"
)

// TestSeedScale loads the small data set through the command, checks the
// audit chain with `portal audit verify`, and expects a second load, an
// unknown scale and a missing choice to be refused with what to do.
func TestSeedScale(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "portal.db")
	t.Setenv("PORTAL_DATA_DIR", dir)
	t.Setenv("PORTAL_DATABASE_URL", dsn)
	for _, args := range [][]string{{"seed", "--scale", "small", "--seed", "3"}, {"audit", "verify"}} {
		if err := run(args); err != nil {
			t.Fatalf("portal %s: %v", strings.Join(args, " "), err)
		}
	}
	db, err := store.Open(dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	var comps int64
	db.Table("competitions").Count(&comps)
	db.Close()
	if comps != 40 {
		t.Errorf("competitions after portal seed --scale small: %d, want 40", comps)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"seed", "--scale", "small"}, "already holds frameworks"},
		{[]string{"seed", "--scale", "huge"}, "choose one of national, small"},
		{[]string{"seed"}, "say what to load"},
	} {
		if err := run(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("portal %s: %v; want an error saying %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
