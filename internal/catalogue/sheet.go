package catalogue

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/nhsprocure/portal/internal/csvcell"

	"github.com/xuri/excelize/v2"
)

// File formats for import and export.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Magic numbers: an .xlsx file is a zip archive; an old .xls file (and a
// password-protected .xlsx) is an OLE compound document.
var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	utf8BOM  = []byte{0xEF, 0xBB, 0xBF}
)

// Unzipped size limits for workbooks, so a small zip cannot expand into
// gigabytes in memory.
const (
	maxUnzipped    = 200 << 20
	maxUnzippedXML = 100 << 20
)

// table is an uploaded sheet: rows[i] is spreadsheet row i+1, each a list
// of cell texts (possibly shorter than the header).
type table struct {
	format string
	rows   [][]string
}

// fileProblem is a problem with the whole file rather than a row.
func fileProblem(format string, a ...any) *ImportError {
	return &ImportError{Problems: []RowProblem{{Message: fmt.Sprintf(format, a...)}}}
}

// readTable reads a CSV or XLSX upload, deciding which by its content first
// and its name second: a workbook renamed .csv still opens, and a file
// named .xlsx that is not a workbook gets one clear message. It stops with a
// problem once the file has more than MaxImportRows non-empty rows below
// the header.
func readTable(filename string, data []byte) (*table, error) {
	ext := strings.ToLower(filepath.Ext(filename))
	switch {
	case len(bytes.TrimSpace(bytes.TrimPrefix(data, utf8BOM))) == 0:
		return nil, fileProblem("The file is empty. Add a header row and one row for each requirement")
	case bytes.HasPrefix(data, zipMagic):
		return readXLSX(data)
	case bytes.HasPrefix(data, oleMagic):
		return nil, fileProblem("The file is an old Excel workbook (.xls) or is password-protected. Remove any password, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again")
	case ext == ".xlsx" || ext == ".xlsm":
		return nil, fileProblem("The file is named %s but is not an Excel workbook: it may be damaged or a different kind of file. Open it in Excel, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again", ext)
	case ext == ".xls":
		return nil, fileProblem("Old Excel workbooks (.xls) cannot be read. Save it as an Excel Workbook (.xlsx) or as CSV UTF-8 and upload it again")
	case ext == ".csv" || ext == ".txt" || ext == "":
		return readCSV(data)
	}
	return nil, fileProblem("The file must be a CSV or Excel workbook (.xlsx), not %s", ext)
}

// readCSV reads comma-, semicolon- or tab-separated text in UTF-8 (with or
// without a byte order mark) or, failing that, Windows-1252, which is what
// Excel's plain "CSV (Comma delimited)" writes on UK Windows.
func readCSV(data []byte) (*table, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, fileProblem("The file is not a CSV file: it contains binary data. Save the spreadsheet as CSV UTF-8 or as an Excel Workbook (.xlsx) and upload it again")
	}
	text := string(data)
	if !utf8.ValidString(text) {
		text = decodeWindows1252(data)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = sniffDelimiter(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	t := &table{format: FormatCSV}
	filled, endLine := 0, 0 // endLine: the file line the last record ended on
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			var pe *csv.ParseError
			line := 0
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, &ImportError{Problems: []RowProblem{{Row: len(t.rows) + 1, Message: fmt.Sprintf(
				"This row could not be read (line %d of the file): a quote mark (\") is not closed or is in the wrong place", line)}}}
		}
		// The reader skips blank lines, which a spreadsheet shows as empty
		// rows; put them back so row numbers match what people see.
		start, _ := cr.FieldPos(0)
		for ; endLine < start-1; endLine++ {
			t.rows = append(t.rows, nil)
		}
		last, _ := cr.FieldPos(len(rec) - 1)
		endLine = last + strings.Count(rec[len(rec)-1], "\n")
		for i, cell := range rec {
			rec[i] = csvcell.Unescape(cell)
		}
		t.rows = append(t.rows, rec)
		if len(t.rows) > 1 && !blank(rec) {
			if filled++; filled > MaxImportRows {
				return nil, tooManyRows()
			}
		}
	}
}

func tooManyRows() *ImportError {
	return fileProblem("The file has more than %d requirements. Split it into files of %d requirements or fewer and import them one at a time", MaxImportRows, MaxImportRows)
}

// sniffDelimiter picks the separator the header line uses most: Excel
// writes semicolons where the decimal mark is a comma.
func sniffDelimiter(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	best, bestN := ',', strings.Count(line, ",")
	for _, d := range []rune{';', '\t'} {
		if n := strings.Count(line, string(d)); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// readXLSX reads the sheet called "Requirements" or, when there is none,
// the first sheet. Cells are read as Excel shows them, so a weight shown as
// 15 reads "15".
func readXLSX(data []byte) (*table, error) {
	notWorkbook := fileProblem("The file could not be opened as an Excel workbook: it may be damaged or password-protected. Open it in Excel, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again")
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzippedXML})
	if err != nil {
		return nil, notWorkbook
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, notWorkbook
	}
	sheet := sheets[0]
	for _, name := range sheets {
		if strings.EqualFold(strings.TrimSpace(name), sheetName) {
			sheet = name
		}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, notWorkbook
	}
	defer rows.Close()
	t := &table{format: FormatXLSX}
	filled := 0
	for rows.Next() {
		rec, err := rows.Columns()
		if err != nil {
			return nil, notWorkbook
		}
		t.rows = append(t.rows, rec)
		if len(t.rows) > 1 && !blank(rec) {
			if filled++; filled > MaxImportRows {
				return nil, tooManyRows()
			}
		}
	}
	if rows.Error() != nil {
		return nil, notWorkbook
	}
	return t, nil
}

// blank reports whether every cell of a row is empty or spaces.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// windows1252 maps bytes 0x80 to 0x9F, where Windows-1252 differs from
// Latin-1 (curly quotes, the euro sign, dashes).
var windows1252 = [32]rune{
	'€', '\u0081', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u008d', 'Ž', '\u008f',
	'\u0090', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u009d', 'ž', 'Ÿ',
}

func decodeWindows1252(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/8)
	for _, c := range b {
		switch {
		case c >= 0x80 && c < 0xA0:
			sb.WriteRune(windows1252[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}
