// Package ocdstest validates the portal's OCDS output in tests against the
// OCDS 1.1 schemas (../shared/ocds/1.1, embedded here), offline: the URLs
// the package schemas refer to are mapped to the embedded files, so nothing
// is fetched.
package ocdstest

import (
	"bytes"
	"embed"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaBase is where the OCDS 1.1.5 schemas are published: the package
// schemas $ref the release schema under it.
const SchemaBase = "https://standard.open-contracting.org/schema/1__1__5/"

// Schema files, by the name they are published under.
const (
	Release        = "release-schema.json"
	ReleasePackage = "release-package-schema.json"
	RecordPackage  = "record-package-schema.json"
)

var (
	once     sync.Once
	compiled map[string]*jsonschema.Schema
	loadErr  error
)

// Files are the OCDS 1.1.5 schemas, embedded so validation works wherever
// the tests run (see schema/README.md); TestSchemasMatchShared checks them
// against the copy beside the repository.
//
//go:embed schema/*.json
var Files embed.FS

// SharedDir is the folder of the OCDS 1.1 schemas kept beside the
// repository: ../shared/ocds/1.1 from the repository root, found by
// walking up from the working directory to go.mod ("" when absent).
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared", "ocds", "1.1")
			if _, err := os.Stat(shared); err != nil {
				return ""
			}
			return shared
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// schemas compiles the three schemas once, with format assertions on.
func schemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	once.Do(func() {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft4)
		c.AssertFormat()
		c.UseLoader(offline{})
		names := []string{Release, ReleasePackage, RecordPackage, "versioned-release-validation-schema.json"}
		for _, name := range names {
			b, err := Files.ReadFile("schema/" + name)
			if err != nil {
				loadErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				loadErr = err
				return
			}
			if err := c.AddResource(SchemaBase+name, doc); err != nil {
				loadErr = err
				return
			}
		}
		compiled = map[string]*jsonschema.Schema{}
		for _, name := range names[:3] {
			s, err := c.Compile(SchemaBase + name)
			if err != nil {
				loadErr = err
				return
			}
			compiled[name] = s
		}
	})
	if loadErr != nil {
		t.Fatalf("load the OCDS schemas: %v", loadErr)
	}
	return compiled
}

// offline refuses every URL not added as a resource, so a test can never
// reach the network.
type offline struct{}

func (offline) Load(url string) (any, error) {
	return nil, os.ErrNotExist
}

// Validate checks the JSON document against the named schema (Release,
// ReleasePackage or RecordPackage); the test fails with every error found.
func Validate(t testing.TB, schema string, body []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", schema, err, truncate(body))
	}
	if err := schemas(t)[schema].Validate(doc); err != nil {
		t.Fatalf("%s: invalid:\n%v\n%s", schema, err, truncate(body))
	}
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 4000 {
		return s[:4000] + "…"
	}
	return strings.TrimSpace(s)
}
