package exit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzImportDeployments feeds arbitrary bytes to the import's reading and
// checking, which must never panic and must either read deployments or say
// what is wrong: rows it reads name a national contract, a trust, a known
// system type and a product, and every problem has words a person can act
// on. The seed corpus (testdata/fuzz/FuzzImportDeployments) holds good and
// bad CSV files and a small workbook.
func FuzzImportDeployments(f *testing.F) {
	f.Add([]byte(strings.Join(ImportColumns, ",") + "\n"))
	today := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, format, problems := parseDeployments(data, today)
		if len(problems) == 0 {
			if len(rows) == 0 {
				t.Fatal("no rows and no problem")
			}
			if format != FormatCSV && format != FormatXLSX {
				t.Fatalf("format %q", format)
			}
			for _, r := range rows {
				if r.NationalContract == "" || r.ODSCode == "" || r.Product == "" || !slices.Contains(SystemTypes, r.SystemType) {
					t.Fatalf("row %d read without problems but incomplete: %+v", r.Row, r)
				}
				if r.Path != PathNone && !slices.Contains(Paths, r.Path) {
					t.Fatalf("row %d has path %q", r.Row, r.Path)
				}
			}
		}
		for _, p := range importError(problems).Problems {
			if strings.TrimSpace(p.Message) == "" || p.Row < 0 {
				t.Fatalf("problem without words: %+v", p)
			}
		}
	})
}
