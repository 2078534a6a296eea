package domaintest

import (
	"testing"

	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Count counts the rows of table matching where (all rows when empty).
func Count(t testing.TB, db *store.DB, table string, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// FieldErrors are the field errors err carries; the test fails without.
func FieldErrors(t testing.TB, err error) *validate.Errors {
	t.Helper()
	v, ok := validate.As(err)
	if !ok {
		t.Fatalf("err = %v, want field errors", err)
	}
	return v
}

// WantErrors checks that err carries exactly these field errors.
func WantErrors(t testing.TB, err error, want map[string]string) {
	t.Helper()
	v := FieldErrors(t, err)
	for field, msg := range want {
		if got := v.For(field); got != msg {
			t.Errorf("error for %s: %q, want %q", field, got, msg)
		}
	}
	if len(v.List) != len(want) {
		t.Errorf("%d errors, want %d: %v", len(v.List), len(want), v.List)
	}
}
