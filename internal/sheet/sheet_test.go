package sheet_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nhsprocure/portal/internal/sheet"
)

// got is what a table holds, one line a row: its number, its line and its
// cells joined by "|".
func got(t *testing.T, tab *sheet.Table) []string {
	t.Helper()
	out := []string{}
	for _, r := range tab.Rows {
		out = append(out, fmt.Sprintf("%d/%d %s", r.Number, r.Line, strings.Join(r.Cells, "|")))
	}
	return out
}

func read(t *testing.T, data string, o sheet.Options) *sheet.Table {
	t.Helper()
	tab, err := sheet.Read([]byte(data), o)
	if err != nil {
		t.Fatalf("Read(%q) = %v", data, err)
	}
	return tab
}

// refused is the *sheet.Error Read gives for data.
func refused(t *testing.T, data []byte, o sheet.Options) *sheet.Error {
	t.Helper()
	tab, err := sheet.Read(data, o)
	var se *sheet.Error
	if !errors.As(err, &se) {
		t.Fatalf("Read(%q) = %+v, %v; want a *sheet.Error", data, tab, err)
	}
	if tab != nil {
		t.Fatalf("Read(%q) gave rows with its error: %+v", data, tab)
	}
	return se
}

// TestCSVRows: a byte order mark is dropped; blank lines are left out, or
// with KeepBlank kept so a row's index is its number less one; a row's
// number is the one a spreadsheet shows, its line the one it starts on,
// which differ after a cell with a line break.
func TestCSVRows(t *testing.T) {
	const file = "\uFEFFa,b\r\n\r\n\"one\ntwo\",x\r\n  , \r\nc,d\r\n"
	tab := read(t, file, sheet.Options{})
	if tab.Format != sheet.CSV {
		t.Fatalf("format %q", tab.Format)
	}
	if want := []string{"1/1 a|b", "3/3 one\ntwo|x", "5/6 c|d"}; !reflect.DeepEqual(got(t, tab), want) {
		t.Fatalf("rows %q, want %q", got(t, tab), want)
	}
	tab = read(t, file, sheet.Options{KeepBlank: true})
	if want := []string{"1/1 a|b", "2/2 ", "3/3 one\ntwo|x", "4/5   | ", "5/6 c|d"}; !reflect.DeepEqual(got(t, tab), want) {
		t.Fatalf("rows kept blank %q, want %q", got(t, tab), want)
	}
	// Without KeepBlank the header is the first row that is not blank.
	tab = read(t, "\n , \nh1,h2\nv1,v2\n", sheet.Options{})
	if want := []string{"3/3 h1|h2", "4/4 v1|v2"}; !reflect.DeepEqual(got(t, tab), want) {
		t.Fatalf("rows %q, want %q", got(t, tab), want)
	}
}

// TestCSVOptions: semicolons and Windows-1252 as Excel writes them on UK
// Windows, escaped formulas read back, and quotes strict or lenient.
func TestCSVOptions(t *testing.T) {
	ansi := "Ref;Text\r\nA-1;The trust\x92s formulary costs \xa3100\r\n"
	if se := refused(t, []byte(ansi), sheet.Options{}); se.Reason != sheet.NotUTF8 {
		t.Fatalf("Windows-1252 without the option: %v", se.Reason)
	}
	tab := read(t, ansi, sheet.Options{Windows1252: true, SniffDelimiter: true})
	if want := []string{"1/1 Ref|Text", "2/2 A-1|The trust’s formulary costs £100"}; !reflect.DeepEqual(got(t, tab), want) {
		t.Fatalf("rows %q, want %q", got(t, tab), want)
	}
	if tab := read(t, "a\tb;c\n", sheet.Options{SniffDelimiter: true}); !reflect.DeepEqual(got(t, tab), []string{"1/1 a\tb|c"}) {
		t.Fatalf("a tie goes to the first found: %q", got(t, tab))
	}
	if tab := read(t, "a;b\n", sheet.Options{}); !reflect.DeepEqual(got(t, tab), []string{"1/1 a;b"}) {
		t.Fatalf("without sniffing only commas separate: %q", got(t, tab))
	}

	escaped := "a,b\n'=SUM(A1),'plain\n"
	if tab := read(t, escaped, sheet.Options{Unescape: true}); !reflect.DeepEqual(got(t, tab), []string{"1/1 a|b", "2/2 =SUM(A1)|'plain"}) {
		t.Fatalf("unescaped %q", got(t, tab))
	}
	if tab := read(t, escaped, sheet.Options{}); !reflect.DeepEqual(got(t, tab), []string{"1/1 a|b", "2/2 '=SUM(A1)|'plain"}) {
		t.Fatalf("as written %q", got(t, tab))
	}

	bad := "a,b\n\nok,1\n\"x\ny,\"2\n"
	se := refused(t, []byte(bad), sheet.Options{})
	if se.Reason != sheet.BadQuote || se.Row != 4 || se.StartLine != 4 || se.Line != 5 {
		t.Fatalf("strict quotes: %+v", se)
	}
	if se.Error() != `This row could not be read: a quote mark (") is not closed or is in the wrong place` {
		t.Fatalf("message %q", se.Error())
	}
	if tab := read(t, "a,b\nsay \"hi\",2\n", sheet.Options{LazyQuotes: true}); !reflect.DeepEqual(got(t, tab), []string{"1/1 a|b", "2/2 say \"hi\"|2"}) {
		t.Fatalf("lazy quotes %q", got(t, tab))
	}
}

// TestLimits: rows below the header that are not blank count against
// MaxRows; the header against MaxColumns; HeaderWidth cuts the rows below.
func TestLimits(t *testing.T) {
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("h1,h2\n\n")
		for i := range n {
			fmt.Fprintf(&b, "v%d,w\n,\n", i)
		}
		return b.String()
	}
	o := sheet.Options{MaxRows: 3}
	if tab := read(t, rows(3), o); len(tab.Rows) != 4 {
		t.Fatalf("%d rows at the limit", len(tab.Rows))
	}
	se := refused(t, []byte(rows(4)), o)
	if se.Reason != sheet.TooManyRows || se.Limit != 3 {
		t.Fatalf("over the limit: %+v", se)
	}
	if want := "The file has more than 3 rows. Split it into files of 3 rows or fewer and import them one at a time"; se.Error() != want {
		t.Fatalf("message %q", se.Error())
	}
	// With KeepBlank the header is row 1, blank or not.
	if se := refused(t, []byte("\n"+rows(3)), sheet.Options{MaxRows: 3, KeepBlank: true}); se.Reason != sheet.TooManyRows {
		t.Fatalf("blank row 1 kept as the header: %+v", se)
	}

	if se := refused(t, []byte("\na,b,c\n"), sheet.Options{MaxColumns: 2}); se.Reason != sheet.TooManyColumns || se.Limit != 2 {
		t.Fatalf("wide header: %+v", se)
	}
	tab := read(t, "a,b\n1,2,3,4\n5\n", sheet.Options{MaxColumns: 2, HeaderWidth: true})
	if want := []string{"1/1 a|b", "2/2 1|2", "3/3 5"}; !reflect.DeepEqual(got(t, tab), want) {
		t.Fatalf("cut to the header %q, want %q", got(t, tab), want)
	}
	if tab := read(t, "a,b\n1,2,3,4\n", sheet.Options{MaxColumns: 2}); !reflect.DeepEqual(got(t, tab), []string{"1/1 a|b", "2/2 1|2|3|4"}) {
		t.Fatalf("rows below the header are not bounded by MaxColumns alone: %q", got(t, tab))
	}
}

// TestRefused: what is not a readable file says so.
func TestRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		o    sheet.Options
		want sheet.Reason
	}{
		{"empty", []byte("\uFEFF \r\n\t"), sheet.Options{}, sheet.Empty},
		{"nothing", nil, sheet.Options{}, sheet.Empty},
		{"old workbook", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, sheet.Options{}, sheet.OldWorkbook},
		{"damaged workbook", []byte("PK\x03\x04 not really a zip"), sheet.Options{}, sheet.NotWorkbook},
		{"workbook over the unzip limits", workbook(t, false), sheet.Options{MaxUnzipped: 4 << 10, MaxUnzippedXML: 2 << 10}, sheet.NotWorkbook},
		{"binary", []byte("a,b\n\x00\x01,2\n"), sheet.Options{}, sheet.Binary},
	} {
		t.Run(c.name, func(t *testing.T) {
			se := refused(t, c.data, c.o)
			if se.Reason != c.want || se.Error() == "" {
				t.Fatalf("reason %v (%q), want %v", se.Reason, se.Error(), c.want)
			}
			if sheet.IsText(c.data) != (c.want == sheet.Binary) {
				t.Fatalf("IsText = %v", sheet.IsText(c.data))
			}
		})
	}
}

// workbook is a workbook with a sheet "Notes" first and then "Requirements",
// each given rows; a date cell in B2 of Requirements; with the 1904 date
// system when asked.
func workbook(t *testing.T, date1904 bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Notes"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet(" requirements "); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("Notes", "A1", &[]any{"Read me"}); err != nil {
		t.Fatal(err)
	}
	for cell, row := range map[string][]any{"A1": {"Ref", "Due", "Weight"}, "A2": {"'=A1", time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), 15.0}, "A4": {"B-2"}} {
		if err := f.SetSheetRow(" requirements ", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle(" requirements ", "B2", "B2", style); err != nil {
		t.Fatal(err)
	}
	if date1904 {
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestXLSX: the named sheet or the first, cells as shown or as stored,
// the date system, and row numbers with a gap; workbook cells are never
// unescaped.
func TestXLSX(t *testing.T) {
	data := workbook(t, false)
	if !bytes.HasPrefix(data, []byte("PK")) || sheet.IsText(data) {
		t.Fatal("a workbook is not text")
	}
	tab, err := sheet.Read(data, sheet.Options{})
	if err != nil || tab.Format != sheet.XLSX || !reflect.DeepEqual(got(t, tab), []string{"1/1 Read me"}) {
		t.Fatalf("first sheet: %q (err %v)", got(t, tab), err)
	}
	tab, err = sheet.Read(data, sheet.Options{Sheet: "Requirements", KeepBlank: true, Unescape: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1/1 Ref|Due|Weight", "2/2 '=A1|06-30-27|15", "3/3 ", "4/4 B-2"}; !reflect.DeepEqual(got(t, tab), want) {
		t.Fatalf("as shown %q, want %q", got(t, tab), want)
	}
	tab, err = sheet.Read(data, sheet.Options{Sheet: "Requirements", Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	serial := "46568" // 30 June 2027 counted from 1900
	if want := []string{"1/1 Ref|Due|Weight", "2/2 '=A1|" + serial + "|15", "4/4 B-2"}; !reflect.DeepEqual(got(t, tab), want) || tab.Date1904 {
		t.Fatalf("as stored %q (1904: %v), want %q", got(t, tab), tab.Date1904, want)
	}
	if tab, err := sheet.Read(workbook(t, true), sheet.Options{}); err != nil || !tab.Date1904 {
		t.Fatalf("1904 date system: %+v, %v", tab, err)
	}
	if se := refused(t, data, sheet.Options{Sheet: "Requirements", MaxRows: 1}); se.Reason != sheet.TooManyRows {
		t.Fatalf("rows limit in a workbook: %+v", se)
	}
}

type problem string

func (p problem) String() string { return string(p) }

// TestSummary: an import error names how many problems, the first three
// and how many more.
func TestSummary(t *testing.T) {
	if got := sheet.Summary([]problem{"Row 2: bad"}); got != "the file has 1 problem and nothing was imported: Row 2: bad" {
		t.Fatalf("one: %q", got)
	}
	five := []problem{"a", "b", "c", "d", "e"}
	if got := sheet.Summary(five); got != "the file has 5 problems and nothing was imported: a; b; c; and 2 more" {
		t.Fatalf("five: %q", got)
	}
}
