package ocdstest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/nhsprocure/portal/internal/ocds/ocdstest"
)

// TestSchemasMatchShared: the embedded schemas are byte for byte those
// kept beside the repository, so the validation is against ../shared.
func TestSchemasMatchShared(t *testing.T) {
	shared := ocdstest.SharedDir(t)
	if shared == "" {
		t.Skip("no ../shared/ocds/1.1 beside this checkout to compare with")
	}
	entries, err := ocdstest.Files.ReadDir("schema")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		ours, _ := ocdstest.Files.ReadFile("schema/" + e.Name())
		theirs, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil || !bytes.Equal(ours, theirs) {
			t.Errorf("%s differs from %s (err %v)", e.Name(), shared, err)
		}
		n++
	}
	if n != 4 {
		t.Errorf("%d schemas embedded, want 4", n)
	}
}

// TestValidateRejects: the validator refuses a release missing what the
// schema requires, so a passing validation means something.
func TestValidateRejects(t *testing.T) {
	ft := &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }()
		ocdstest.Validate(ft, ocdstest.Release, []byte(`{"ocid": 7}`))
	}()
	if !ft.failed {
		t.Error("an invalid release passed validation")
	}
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic("stop") }
func (f *fakeT) Helper()               {}
