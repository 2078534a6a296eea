package catalogue

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nhsprocure/portal/internal/sheet"
)

// File formats for import and export.
const (
	FormatCSV  = sheet.CSV
	FormatXLSX = sheet.XLSX
)

// readOptions read a requirements file as trusts save them: CSV in UTF-8
// or, failing that, Windows-1252 (Excel's plain "CSV (Comma delimited)" on
// UK Windows), separated by commas, semicolons or tabs, with quotes read
// leniently and the portal's own exports read back as written; and the
// sheet called "Requirements" of a workbook, cells as Excel shows them, so
// a weight shown as 15 reads "15". Blank rows are kept so a row's index is
// its number, and row 1 is the header.
var readOptions = sheet.Options{
	MaxRows: MaxImportRows, KeepBlank: true,
	Windows1252: true, SniffDelimiter: true, LazyQuotes: true, Unescape: true,
	Sheet: sheetName, MaxUnzipped: 200 << 20, MaxUnzippedXML: 100 << 20,
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
func readTable(filename string, data []byte) (*sheet.Table, error) {
	if sheet.IsText(data) {
		switch ext := strings.ToLower(filepath.Ext(filename)); ext {
		case ".xlsx", ".xlsm":
			return nil, fileProblem("The file is named %s but is not an Excel workbook: it may be damaged or a different kind of file. Open it in Excel, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again", ext)
		case ".xls":
			return nil, fileProblem("Old Excel workbooks (.xls) cannot be read. Save it as an Excel Workbook (.xlsx) or as CSV UTF-8 and upload it again")
		case ".csv", ".txt", "":
		default:
			return nil, fileProblem("The file must be a CSV or Excel workbook (.xlsx), not %s", ext)
		}
	}
	t, err := sheet.Read(data, readOptions)
	var se *sheet.Error
	if !errors.As(err, &se) {
		return t, err
	}
	switch se.Reason {
	case sheet.Empty:
		return nil, fileProblem("The file is empty. Add a header row and one row for each requirement")
	case sheet.BadQuote:
		return nil, &ImportError{Problems: []RowProblem{{Row: se.Row, Message: fmt.Sprintf(
			"This row could not be read (line %d of the file): a quote mark (\") is not closed or is in the wrong place", se.Line)}}}
	case sheet.TooManyRows:
		return nil, fileProblem("The file has more than %d requirements. Split it into files of %d requirements or fewer and import them one at a time", MaxImportRows, MaxImportRows)
	}
	return nil, fileProblem("%s", se.Error())
}
