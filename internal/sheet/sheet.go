// Package sheet reads an uploaded spreadsheet, a CSV file or an Excel
// workbook (.xlsx), into rows of cell texts, within limits, so that no file
// can make the portal hold more than it should. It knows nothing of what the
// columns mean: each import checks its own header and cells and words its
// own problems, starting from the Reason of an *Error.
package sheet

import (
	"bytes"
	"slices"
	"strings"
)

// File formats Read tells apart.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// Unzipped size limits a workbook has unless Options say otherwise, so a
// small zip cannot expand into gigabytes in memory: the most a workbook
// may unzip to, and the most of one worksheet (or of the shared strings)
// held in memory, the rest going to a temporary file.
const (
	DefaultMaxUnzipped    = 100 << 20
	DefaultMaxUnzippedXML = 50 << 20
)

// Magic numbers: an .xlsx file is a zip archive; an old .xls file (and a
// password-protected .xlsx) is an OLE compound document.
var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	utf8BOM  = []byte{0xEF, 0xBB, 0xBF}
)

// Options say how Read reads a file. The zero value reads comma-separated
// UTF-8 and a workbook's first sheet as Excel shows it, leaves blank rows
// out and sets no row or column limit.
type Options struct {
	// MaxRows is the most rows that are not blank a file may have below its
	// header; one more stops Read with TooManyRows. 0 means no limit.
	MaxRows int
	// MaxColumns is the most cells the header may have (TooManyColumns).
	// 0 means no limit.
	MaxColumns int
	// HeaderWidth cuts every row below the header to the header's width,
	// so a cell in a sheet's last column cannot make every row sixteen
	// thousand cells wide.
	HeaderWidth bool
	// KeepBlank keeps blank rows, so that Rows[i] is spreadsheet row i+1
	// and the header is row 1 whatever it holds. Otherwise blank rows are
	// left out and the header is the first row that is not blank.
	KeepBlank bool

	// Windows1252 reads CSV text that is not UTF-8 as Windows-1252, which
	// is what Excel's plain "CSV (Comma delimited)" writes on UK Windows.
	// Otherwise such a file is refused (NotUTF8).
	Windows1252 bool
	// SniffDelimiter separates cells by whichever of comma, semicolon or
	// tab the first line holds most (Excel writes semicolons where the
	// decimal mark is a comma). Otherwise cells are separated by commas.
	SniffDelimiter bool
	// LazyQuotes lets a quote mark stand inside a cell that is not quoted,
	// and inside a quoted one without being doubled. Otherwise quotes are
	// read strictly, as spreadsheets write them, so a quote left open is
	// reported at its row rather than swallowing the rest of the file.
	LazyQuotes bool
	// Unescape reads back CSV cells that csvcell.Escape wrote, without the
	// apostrophe that kept a spreadsheet from running them as formulas.
	Unescape bool

	// Sheet names the worksheet to read, ignoring case and surrounding
	// spaces; when the workbook has none of that name (or Sheet is ""),
	// its first sheet is read.
	Sheet string
	// Raw reads workbook cells as stored rather than as Excel shows them,
	// so a date reads as its serial number whatever format shows it.
	Raw bool
	// MaxUnzipped is the most a workbook may unzip to (a larger one is
	// NotWorkbook), and MaxUnzippedXML the most of one worksheet (or of
	// the shared strings) held in memory, the rest going to a temporary
	// file; MaxUnzippedXML must not be more than MaxUnzipped. 0 means
	// DefaultMaxUnzipped and DefaultMaxUnzippedXML.
	MaxUnzipped    int64
	MaxUnzippedXML int64
}

// Table is a file's rows as Read found them.
type Table struct {
	Format string // CSV or XLSX
	// Date1904 is a workbook's date system: its date serials count from
	// 1904 rather than 1900.
	Date1904 bool
	// Rows are the rows read, the header first (unless the file has
	// none); blank ones only with Options.KeepBlank.
	Rows []Row
}

// Row is one row of a file.
type Row struct {
	// Number is the row's number as a spreadsheet shows the file: a blank
	// line of a CSV file is a row, and a cell with line breaks in it does
	// not make more.
	Number int
	// Line is the line of the file the row starts on (in a workbook, its
	// number).
	Line int
	// Cells are the row's cell texts, possibly fewer than the header has.
	Cells []string
}

// IsText reports whether Read reads data as CSV: it is neither empty nor a
// workbook, new or old. An import that also goes by a file's name checks
// the name only then, so a workbook renamed .csv still opens.
func IsText(data []byte) bool {
	return !isEmpty(data) && !bytes.HasPrefix(data, zipMagic) && !bytes.HasPrefix(data, oleMagic)
}

func isEmpty(data []byte) bool {
	return len(bytes.TrimSpace(bytes.TrimPrefix(data, utf8BOM))) == 0
}

// Read reads a CSV or XLSX file, deciding which by its content: a workbook
// is a zip archive; an old workbook is refused. Its error is always an
// *Error.
func Read(data []byte, o Options) (*Table, error) {
	switch {
	case isEmpty(data):
		return nil, &Error{Reason: Empty}
	case bytes.HasPrefix(data, zipMagic):
		return readXLSX(data, o)
	case bytes.HasPrefix(data, oleMagic):
		return nil, &Error{Reason: OldWorkbook}
	}
	return readCSV(data, o)
}

// Blank reports whether every cell of a row is empty or spaces.
func Blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// builder collects a table's rows, applying the options' limits as each
// row comes, so a refused file is never held whole.
type builder struct {
	o      Options
	t      *Table
	header bool // whether the header has been read
	width  int  // the header's width
	filled int  // rows below the header that are not blank
}

func newBuilder(format string, o Options) *builder {
	return &builder{o: o, t: &Table{Format: format}}
}

// add keeps a row (copying its cells, which the reader may reuse), or
// leaves it out when it is blank, or stops with a limit's *Error.
func (b *builder) add(r Row) error {
	blank := Blank(r.Cells)
	switch {
	case blank && !b.o.KeepBlank:
		return nil
	case !b.header:
		if b.o.MaxColumns > 0 && len(r.Cells) > b.o.MaxColumns {
			return &Error{Reason: TooManyColumns, Limit: b.o.MaxColumns}
		}
		b.header, b.width = true, len(r.Cells)
	default:
		if !blank {
			if b.filled++; b.o.MaxRows > 0 && b.filled > b.o.MaxRows {
				return &Error{Reason: TooManyRows, Limit: b.o.MaxRows}
			}
		}
		if b.o.HeaderWidth {
			r.Cells = r.Cells[:min(len(r.Cells), b.width)]
		}
	}
	r.Cells = slices.Clone(r.Cells)
	b.t.Rows = append(b.t.Rows, r)
	return nil
}
