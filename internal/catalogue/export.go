package catalogue

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/nhsprocure/portal/internal/csvcell"

	"github.com/xuri/excelize/v2"
)

// utf8BOM starts the CSV files the catalogue writes, so Excel reads them
// as UTF-8.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sheetName is the worksheet exports write and imports look for first.
const sheetName = "Requirements"

// ContentType is the media type of an export format, for downloads.
func ContentType(format string) string {
	if format == FormatXLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Export writes the draft's requirements as CSV or XLSX with the columns
// Import reads, in reading order, so an exported file re-imports unchanged.
func (s *Service) Export(ctx context.Context, catalogueID, format string, w io.Writer) error {
	if _, err := s.Catalogue(ctx, catalogueID); err != nil {
		return err
	}
	reqs, err := s.Requirements(ctx, catalogueID)
	if err != nil {
		return err
	}
	return WriteRequirements(format, reqs, w)
}

// ExportVersion writes a published version the same way, for people who
// need the wording a framework was let on.
func (s *Service) ExportVersion(ctx context.Context, catalogueID string, number int, format string, w io.Writer) error {
	v, err := s.Version(ctx, catalogueID, number)
	if err != nil {
		return err
	}
	return WriteRequirements(format, v.Requirements, w)
}

// WriteRequirements writes requirements (with their section titles) in the
// import file layout.
func WriteRequirements(format string, reqs []Requirement, w io.Writer) error {
	switch format {
	case FormatCSV:
		return writeCSV(reqs, w)
	case FormatXLSX:
		return writeXLSX(reqs, w)
	}
	return fmt.Errorf("export format %q: must be %s or %s", format, FormatCSV, FormatXLSX)
}

// cells is a requirement as one row of the file.
func cells(r Requirement) []string {
	row := []string{r.SectionTitle, r.Reference, r.Text, PriorityLabel(r.Priority), strconv.Itoa(r.Weight),
		ResponseTypeLabel(r.ResponseType), r.Guidance, "", "", "", "", ""}
	for m, d := range r.Descriptors {
		if i := 7 + m; m < Marks && i < len(row) {
			row[i] = d
		}
	}
	return row
}

// writeCSV writes UTF-8 with a byte order mark and CRLF line ends, which
// is what makes Excel open it with the right characters; cells that a
// spreadsheet would run as formulas are escaped.
func writeCSV(reqs []Requirement, w io.Writer) error {
	if _, err := w.Write(utf8BOM); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(Columns); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	for _, r := range reqs {
		row := cells(r)
		for i := range row {
			row[i] = csvcell.Escape(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// columnWidths are the export's column widths in characters, wide where
// people write sentences.
var columnWidths = []float64{24, 16, 60, 10, 8, 16, 40, 30, 30, 30, 30, 30}

// writeXLSX writes one "Requirements" sheet: a bold, frozen header row,
// wrapped text, drop-down lists for priority and response type, and the
// weight as a number. Cells are written as text, never formulas.
func writeXLSX(reqs []Requirement, w io.Writer) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write XLSX: %w", cerr)
		}
	}()
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EDEE"}},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true},
	})
	if err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	body, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	if err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	for i, width := range columnWidths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheetName, col, col, width); err != nil {
			return fmt.Errorf("write XLSX: %w", err)
		}
	}
	if err := f.SetPanes(sheetName, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	row := make([]any, len(Columns))
	for i, c := range Columns {
		row[i] = c
	}
	if err := f.SetSheetRow(sheetName, "A1", &row); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	lastCol, _ := excelize.ColumnNumberToName(len(Columns))
	if err := f.SetCellStyle(sheetName, "A1", lastCol+"1", header); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	for n, r := range reqs {
		for i, c := range cells(r) {
			row[i] = c
		}
		row[4] = r.Weight
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := f.SetSheetRow(sheetName, cell, &row); err != nil {
			return fmt.Errorf("write XLSX: %w", err)
		}
	}
	if len(reqs) > 0 {
		if err := f.SetCellStyle(sheetName, "A2", fmt.Sprintf("%s%d", lastCol, len(reqs)+1), body); err != nil {
			return fmt.Errorf("write XLSX: %w", err)
		}
	}
	if err := addDropLists(f, len(reqs)); err != nil {
		return err
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	return nil
}

// addDropLists offers the priorities and response types as drop-downs and
// limits weights to 0-100, for rows people add after exporting too.
func addDropLists(f *excelize.File, rows int) error {
	last := max(rows+1, 1000)
	lists := []struct {
		col    string
		values []string
	}{
		{"D", []string{"Must", "Should", "Could", "Won't"}},
		{"F", []string{ResponseTypeLabel(PassFail), ResponseTypeLabel(Scored), ResponseTypeLabel(Numeric), ResponseTypeLabel(PriceSchedule)}},
	}
	for _, l := range lists {
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", l.col, l.col, last)
		if err := dv.SetDropList(l.values); err != nil {
			return fmt.Errorf("write XLSX: %w", err)
		}
		if err := f.AddDataValidation(sheetName, dv); err != nil {
			return fmt.Errorf("write XLSX: %w", err)
		}
	}
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("E2:E%d", last)
	if err := dv.SetRange(0, 100, excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, "Weight", "Enter a whole number from 0 to 100")
	if err := f.AddDataValidation(sheetName, dv); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	return nil
}
