package sheet

import (
	"fmt"
	"strings"
)

// Reason says why Read could not read a file.
type Reason int

// Reasons Read gives.
const (
	// Empty: the file holds nothing but spaces and line breaks.
	Empty Reason = iota + 1
	// OldWorkbook: an old Excel workbook (.xls) or a password-protected
	// one, which are OLE compound documents.
	OldWorkbook
	// NotWorkbook: a zip archive that does not open as a workbook, or one
	// that would unzip to more than Options.MaxUnzipped.
	NotWorkbook
	// Binary: text with NUL bytes in it.
	Binary
	// NotUTF8: text that is not UTF-8 (without Options.Windows1252).
	NotUTF8
	// BadQuote: a quote mark not closed or in the wrong place.
	BadQuote
	// TooManyRows: more rows below the header than Options.MaxRows.
	TooManyRows
	// TooManyColumns: a header wider than Options.MaxColumns.
	TooManyColumns
)

// Error is a file Read could not read. Its message says what to do about
// it; an import words the reasons its own way where it can say more, such
// as what each row holds.
type Error struct {
	Reason Reason
	// Limit is the limit a TooManyRows or TooManyColumns file went over.
	Limit int
	// Row, Line and StartLine place a BadQuote: Row is the spreadsheet row
	// after the last one read, Line the line of the file where reading
	// stopped and StartLine the line the unreadable row starts on.
	Row, Line, StartLine int
}

func (e *Error) Error() string {
	switch e.Reason {
	case Empty:
		return "The file is empty. Add a header row naming the columns and the rows below it"
	case OldWorkbook:
		return "The file is an old Excel workbook (.xls) or is password-protected. Remove any password, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again"
	case NotWorkbook:
		return "The file could not be opened as an Excel workbook: it may be damaged or password-protected. Open it in Excel, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again"
	case Binary:
		return "The file is not a CSV file: it contains binary data. Save the spreadsheet as CSV UTF-8 or as an Excel Workbook (.xlsx) and upload it again"
	case NotUTF8:
		return "The file is not a CSV file in UTF-8. Save the spreadsheet as CSV UTF-8 (comma delimited) or as an Excel Workbook (.xlsx) and upload it again"
	case BadQuote:
		return "This row could not be read: a quote mark (\") is not closed or is in the wrong place"
	case TooManyRows:
		return fmt.Sprintf("The file has more than %d rows. Split it into files of %d rows or fewer and import them one at a time", e.Limit, e.Limit)
	case TooManyColumns:
		return fmt.Sprintf("The first row has more than %d columns. Remove the columns the import does not read", e.Limit)
	}
	return "The file could not be read. Save it as CSV UTF-8 or as an Excel Workbook (.xlsx) and upload it again"
}

// Summary is what an import's error says of a file with problems: how
// many, the first three and how many more, and that nothing was imported.
func Summary[P fmt.Stringer](problems []P) string {
	const shown = 3
	var parts []string
	for i, p := range problems {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(problems)-shown))
			break
		}
		parts = append(parts, p.String())
	}
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("the file has %d %s and nothing was imported: %s", len(problems), noun, strings.Join(parts, "; "))
}
