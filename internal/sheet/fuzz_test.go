package sheet_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nhsprocure/portal/internal/sheet"
)

// fuzzOptions are the ways the portal's imports read files: as given, and
// leniently or strictly bounded.
var fuzzOptions = []sheet.Options{
	{},
	{MaxRows: 5, KeepBlank: true, Windows1252: true, SniffDelimiter: true, LazyQuotes: true, Unescape: true, Sheet: "Requirements"},
	{MaxRows: 5, MaxColumns: 4, HeaderWidth: true, Raw: true},
}

// FuzzRead feeds arbitrary bytes to Read, which must never panic and must
// either give rows that keep to the options or an *Error that says what
// is wrong. The seed corpus (testdata/fuzz/FuzzRead) holds a CSV file, one
// with a byte order mark and semicolons, and a small workbook.
func FuzzRead(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"))
	f.Add([]byte("a,b\n\"open,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, o := range fuzzOptions {
			tab, err := sheet.Read(data, o)
			if err != nil {
				var se *sheet.Error
				if !errors.As(err, &se) || tab != nil || se.Reason < sheet.Empty || se.Reason > sheet.TooManyColumns || strings.TrimSpace(se.Error()) == "" {
					t.Fatalf("options %+v: %+v, %#v", o, tab, err)
				}
				continue
			}
			check(t, o, data, tab)
		}
	})
}

// check fails unless tab keeps to the options Read was given.
func check(t *testing.T, o sheet.Options, data []byte, tab *sheet.Table) {
	t.Helper()
	if (tab.Format == sheet.CSV) != sheet.IsText(data) || (tab.Format != sheet.CSV && tab.Format != sheet.XLSX) {
		t.Fatalf("format %q for text %v", tab.Format, sheet.IsText(data))
	}
	filled := 0
	for i, r := range tab.Rows {
		switch {
		case r.Number < 1 || (i > 0 && r.Number <= tab.Rows[i-1].Number):
			t.Fatalf("row %d numbered %d after %+v", i, r.Number, tab.Rows[:i])
		case r.Line < r.Number || (tab.Format == sheet.XLSX && r.Line != r.Number):
			t.Fatalf("row %d on line %d", r.Number, r.Line)
		case o.KeepBlank && r.Number != i+1:
			t.Fatalf("kept blank rows, yet row %d is at %d", r.Number, i)
		case !o.KeepBlank && sheet.Blank(r.Cells):
			t.Fatalf("blank row %d kept", r.Number)
		case i == 0 && o.MaxColumns > 0 && len(r.Cells) > o.MaxColumns:
			t.Fatalf("header of %d cells", len(r.Cells))
		case i > 0 && o.HeaderWidth && len(r.Cells) > len(tab.Rows[0].Cells):
			t.Fatalf("row %d wider than the header", r.Number)
		}
		if i > 0 && !sheet.Blank(r.Cells) {
			filled++
		}
		for _, c := range r.Cells {
			if tab.Format == sheet.CSV && !utf8.ValidString(c) {
				t.Fatalf("row %d cell %q is not UTF-8", r.Number, c)
			}
		}
	}
	if o.MaxRows > 0 && filled > o.MaxRows {
		t.Fatalf("%d rows below the header, limit %d", filled, o.MaxRows)
	}
}
