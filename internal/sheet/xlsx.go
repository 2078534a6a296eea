package sheet

import (
	"bytes"
	"strings"

	"github.com/xuri/excelize/v2"
)

// readXLSX reads one sheet of a workbook: the one Options.Sheet names, or
// the first.
func readXLSX(data []byte, o Options) (*Table, error) {
	notWorkbook := &Error{Reason: NotWorkbook}
	limit, limitXML := o.MaxUnzipped, o.MaxUnzippedXML
	if limit == 0 {
		limit = DefaultMaxUnzipped
	}
	if limitXML == 0 {
		limitXML = DefaultMaxUnzippedXML
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: limit, UnzipXMLSizeLimit: limitXML, RawCellValue: o.Raw})
	if err != nil {
		return nil, notWorkbook
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, notWorkbook
	}
	name := sheets[0]
	for _, s := range sheets {
		if o.Sheet != "" && strings.EqualFold(strings.TrimSpace(s), o.Sheet) {
			name = s
		}
	}
	b := newBuilder(XLSX, o)
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		b.t.Date1904 = *props.Date1904
	}
	rows, err := f.Rows(name)
	if err != nil {
		return nil, notWorkbook
	}
	defer rows.Close()
	for n := 1; rows.Next(); n++ {
		// Columns reads cells raw or as shown as the file was opened.
		rec, err := rows.Columns()
		if err != nil {
			return nil, notWorkbook
		}
		if err := b.add(Row{Number: n, Line: n, Cells: rec}); err != nil {
			return nil, err
		}
	}
	if rows.Error() != nil {
		return nil, notWorkbook
	}
	return b.t, nil
}
