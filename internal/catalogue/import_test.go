package catalogue_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

func readTestdata(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/epr-requirements.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// csvRecords parses the test file, to build other formats from it.
func csvRecords(t *testing.T) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(readTestdata(t))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// xlsxOf builds a workbook from records as a person would type it, with
// weights as numbers.
func xlsxOf(t *testing.T, sheet string, recs [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if sheet != "Sheet1" {
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
	}
	for r, rec := range recs {
		for c, v := range rec {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			var val any = v
			if r > 0 && c == 4 {
				var n int
				if _, err := fmt.Sscan(v, &n); err == nil {
					val = n
				}
			}
			if err := f.SetCellValue(sheet, cell, val); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// summary is what must survive an import/export round trip.
func summary(reqs []catalogue.Requirement) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, fmt.Sprintf("%s|%s|%s|%s|%d|%s|%s|%q", r.SectionTitle, r.Reference, r.Text, r.Priority, r.Weight, r.ResponseType, r.Guidance, []string(r.Descriptors)))
	}
	return out
}

func importProblems(t *testing.T, err error) []catalogue.RowProblem {
	t.Helper()
	var ie *catalogue.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *ImportError", err)
	}
	return ie.Problems
}

func TestImportRealisticCSVAndXLSX(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		res, err := s.Import(ctx, lead, c.ID, "EPR requirements.csv", bytes.NewReader(readTestdata(t)))
		if err != nil {
			t.Fatal(err)
		}
		if res != (catalogue.ImportResult{Format: "csv", Rows: 15, Added: 15, SectionsAdded: 3}) {
			t.Fatalf("result = %+v", res)
		}
		reqs, err := s.Requirements(ctx, c.ID)
		if err != nil || len(reqs) != 15 {
			t.Fatalf("%d requirements, %v", len(reqs), err)
		}
		first, pas2, wont := reqs[0], reqs[6], reqs[9]
		if first.Reference != "EPR-MED-001" || first.SectionTitle != "Medicines" || first.Priority != catalogue.Must ||
			first.ResponseType != catalogue.Scored || first.Descriptors[4] != "Fully meets the requirement and shows added value, e.g. closed-loop administration" {
			t.Fatalf("first = %+v", first)
		}
		if pas2.Reference != "EPR-PAS-002" || pas2.Guidance != "- Check clock starts and stops\n- Check validation reports" {
			t.Fatalf("multi-line guidance = %+v", pas2)
		}
		if wont.Priority != catalogue.Wont || wont.Weight != 0 || !strings.Contains(wont.Text, "trust’s") {
			t.Fatalf("won't row = %+v", wont)
		}
		secs, _ := s.Sections(ctx, c.ID)
		if len(secs) != 3 || secs[0].Title != "Medicines" || secs[2].Title != "Interoperability" {
			t.Fatalf("sections = %+v", secs)
		}
		var actions []string
		db.Table("audit_entries").Where("object_id = ?", c.ID).Order("seq").Pluck("action", &actions)
		if !slices.Equal(actions, []string{"catalogue.create", "catalogue.import"}) {
			t.Fatalf("audit = %v, want one import entry", actions)
		}

		// The same requirements typed into a workbook import identically.
		x := newCatalogue(t, s, london, "EPR from Excel")
		res, err = s.Import(ctx, lead, x.ID, "EPR requirements.xlsx", bytes.NewReader(xlsxOf(t, "Sheet1", csvRecords(t))))
		if err != nil {
			t.Fatal(err)
		}
		if res.Format != "xlsx" || res.Added != 15 {
			t.Fatalf("xlsx result = %+v", res)
		}
		fromXLSX, _ := s.Requirements(ctx, x.ID)
		if a, b := summary(reqs), summary(fromXLSX); !slices.Equal(a, b) {
			t.Fatalf("xlsx import differs from csv import:\n%v\n%v", a, b)
		}
	})
}

func TestImportUpdatesExistingReferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		if _, err := s.Import(ctx, lead, c.ID, "epr.csv", bytes.NewReader(readTestdata(t))); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Requirements(ctx, c.ID)
		file := "Reference,Section,Requirement,Priority,Weight,Response type,Notes\n" +
			"EPR-MED-002,Medicines,The system must check prescriptions against allergies.,Must,9,Pass/fail,reworded\n" +
			"EPR-PAS-004,Medicines,The system should produce the Commissioning Data Set (CDS) submissions without manual re-keying.,Should,5,Numeric,moved\n" +
			"EPR-INT-002,Interoperability,The system must send discharge summaries to GP practices electronically using the PRSB standard.,Must,8,Pass/fail,same\n" +
			"EPR-DIG-001,Digital services,The system should offer patients a portal for appointments.,Should,5,Numeric,new\n"
		res, err := s.Import(ctx, lead, c.ID, "changes.csv", strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		want := catalogue.ImportResult{Format: "csv", Rows: 4, Added: 1, Updated: 2, Unchanged: 1, SectionsAdded: 1}
		if res != want {
			t.Fatalf("result = %+v, want %+v", res, want)
		}
		after, _ := s.Requirements(ctx, c.ID)
		if len(after) != len(before)+1 {
			t.Fatalf("%d requirements after, want %d (import never deletes)", len(after), len(before)+1)
		}
		byRef := map[string]catalogue.Requirement{}
		for i, r := range after {
			byRef[r.Reference] = r
			if i == len(after)-1 && r.Reference != "EPR-DIG-001" {
				t.Fatalf("new section's requirement should come last, got %s", r.Reference)
			}
		}
		if r := byRef["EPR-MED-002"]; r.Weight != 9 || r.Text != "The system must check prescriptions against allergies." || r.Version != 2 || r.Guidance != "" {
			t.Fatalf("updated = %+v", r)
		}
		if r := byRef["EPR-PAS-004"]; r.SectionTitle != "Medicines" || r.Position != 6 {
			t.Fatalf("moved = %+v", r)
		}
		if r := byRef["EPR-INT-002"]; r.Version != 1 {
			t.Fatalf("unchanged requirement was rewritten: %+v", r)
		}
	})
}

func TestBadFilesSaveNothing(t *testing.T) {
	header := "Section,Reference,Requirement,Priority,Weight,Response type,Guidance,Mark 0,Mark 1,Mark 2,Mark 3,Mark 4\n"
	ok := func(ref string) string {
		return "Medicines," + ref + ",The system must support ePMA.,Must,10,Pass/fail,,,,,,\n"
	}
	var huge strings.Builder
	huge.WriteString(header)
	for i := range catalogue.MaxImportRows + 1 {
		huge.WriteString(ok(fmt.Sprintf("EPR-MED-%05d", i)))
	}
	cases := []struct {
		name, filename, content string
		want                    []catalogue.RowProblem
	}{
		{
			name: "missing columns", filename: "epr.csv",
			content: "Section,Reference,Requirement,Guidance\nMedicines,EPR-MED-001,ePMA,\n",
			want: []catalogue.RowProblem{{Row: 1, Message: "The file is missing the columns Priority, Weight and Response type. The first row must name the columns: " +
				"Section, Reference, Requirement, Priority, Weight, Response type, Guidance, Mark 0, Mark 1, Mark 2, Mark 3, Mark 4"}},
		},
		{
			name: "duplicate reference in file", filename: "epr.csv",
			content: header + ok("EPR-MED-001") + "\n" + ok("EPR-MED-002") + ok("epr-med-001"),
			want:    []catalogue.RowProblem{{Row: 5, Column: "Reference", Message: "Reference EPR-MED-001 is also in row 2; each reference can only appear once in a file"}},
		},
		{
			name: "unknown priority", filename: "epr.csv",
			content: header + ok("EPR-MED-001") + "Medicines,EPR-MED-002,Allergy checks,Nice to have,5,Pass/fail,,,,,,\n",
			want:    []catalogue.RowProblem{{Row: 3, Column: "Priority", Message: `Priority "Nice to have" is not one of Must, Should, Could or Won't`}},
		},
		{
			name: "bad weights", filename: "epr.csv",
			content: header + "Medicines,EPR-MED-001,ePMA,Must,ten,Pass/fail,,,,,,\n" + ok("EPR-MED-002") + "Medicines,EPR-MED-003,Dose checks,Should,150,Numeric,,,,,,\n",
			want: []catalogue.RowProblem{
				{Row: 2, Column: "Weight", Message: `Weight "ten" must be a whole number from 0 to 100`},
				{Row: 4, Column: "Weight", Message: "Weight must be from 0 to 100, not 150"},
			},
		},
		{
			name: "scored row without mark 3", filename: "epr.csv",
			content: header + "Medicines,EPR-MED-001,ePMA,Must,10,Scored (0-4),,None,Poor,Partly, ,Exceeds\n",
			want:    []catalogue.RowProblem{{Row: 2, Column: "Mark 3", Message: "Enter what an answer must show to be given mark 3"}},
		},
		{
			name: "marks on a pass/fail row", filename: "epr.csv",
			content: header + "Medicines,EPR-MED-001,ePMA,Must,10,Pass/fail,,,,Partly,,\n",
			want:    []catalogue.RowProblem{{Row: 2, Column: "Mark 2", Message: "Marks are only for scored requirements: clear Mark 0 to Mark 4 or make the response type Scored (0-4)"}},
		},
		{
			name: "percent weight and lower-case header accepted, bad section title length", filename: "epr.csv",
			content: strings.ToLower(header) + strings.Repeat("S", 201) + ",EPR-MED-001,ePMA,Must,15%,Pass/fail,,,,,,\n",
			want:    []catalogue.RowProblem{{Row: 2, Column: "Section", Message: "Section must be 200 characters or fewer"}},
		},
		{
			name: "duplicate column", filename: "epr.csv",
			content: "Section,Reference,Requirement,Priority,Weight,Response type,weighting\n",
			want:    []catalogue.RowProblem{{Row: 1, Column: "Weight", Message: "The Weight column appears more than once; keep one"}},
		},
		{
			name: "old excel file", filename: "epr.xls",
			content: "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest",
			want:    []catalogue.RowProblem{{Message: "The file is an old Excel workbook (.xls) or is password-protected. Remove any password, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again"}},
		},
		{
			name: "several problems in one row, in column order", filename: "epr.csv",
			content: header + ",EPR MED 1,,Sometimes,,Essay,,,,,,\n",
			want: []catalogue.RowProblem{
				{Row: 2, Column: "Section", Message: "Enter the section the requirement belongs to"},
				{Row: 2, Column: "Reference", Message: `Reference "EPR MED 1" must be capital letters and numbers in parts joined by hyphens, like EPR-MED-012`},
				{Row: 2, Column: "Requirement", Message: "Enter the requirement"},
				{Row: 2, Column: "Priority", Message: `Priority "Sometimes" is not one of Must, Should, Could or Won't`},
				{Row: 2, Column: "Weight", Message: "Enter the weight, a whole number from 0 to 100"},
				{Row: 2, Column: "Response type", Message: `Response type "Essay" is not one of Pass/fail, Scored (0-4), Numeric or Price schedule`},
			},
		},
		{
			name: "garbage named xlsx", filename: "requirements.xlsx",
			content: "\x00\x01\x02garbage\xff\xfe not a workbook",
			want: []catalogue.RowProblem{{Message: "The file is named .xlsx but is not an Excel workbook: it may be damaged or a different kind of file. " +
				"Open it in Excel, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again"}},
		},
		{
			name: "damaged zip named xlsx", filename: "requirements.xlsx",
			content: "PK\x03\x04 truncated",
			want: []catalogue.RowProblem{{Message: "The file could not be opened as an Excel workbook: it may be damaged or password-protected. " +
				"Open it in Excel, save it as an Excel Workbook (.xlsx) or as CSV UTF-8, and upload it again"}},
		},
		{
			name: "over the row limit", filename: "epr.csv", content: huge.String(),
			want: []catalogue.RowProblem{{Message: "The file has more than 10000 requirements. Split it into files of 10000 requirements or fewer and import them one at a time"}},
		},
		{
			name: "header only", filename: "epr.csv", content: header + ",,,\n",
			want: []catalogue.RowProblem{{Message: "The file has no requirements: add one row for each requirement below the header row"}},
		},
		{
			name: "unclosed quote", filename: "epr.csv", content: header + ok("EPR-MED-001") + `Medicines,EPR-MED-002,"Allergy checks,Must,5,Pass/fail` + "\n",
			want: nil, // checked below: not a panic, an ImportError, nothing saved
		},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		if _, err := s.Import(ctx, lead, c.ID, "epr.csv", strings.NewReader(header+ok("EPR-MED-001"))); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := counts(t, db)
				res, err := s.Import(ctx, lead, c.ID, tc.filename, strings.NewReader(tc.content))
				got := importProblems(t, err)
				if tc.want != nil && !slices.Equal(got, tc.want) {
					t.Errorf("problems:\n got %q\nwant %q", got, tc.want)
				}
				if res.Added+res.Updated != 0 {
					t.Errorf("result = %+v, want nothing imported", res)
				}
				sameCounts(t, before, counts(t, db))
			})
		}
		reqs, _ := s.Requirements(ctx, c.ID)
		if len(reqs) != 1 || reqs[0].Text != "The system must support ePMA." || reqs[0].Version != 1 {
			t.Fatalf("catalogue changed by bad files: %+v", reqs)
		}
	})
}

// A valid row after a bad one in the same file must not be saved either,
// including an update of an existing requirement.
func TestOneBadRowBlocksTheWholeFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		if _, err := s.Import(ctx, lead, c.ID, "epr.csv", bytes.NewReader(readTestdata(t))); err != nil {
			t.Fatal(err)
		}
		before := counts(t, db)
		file := "Section,Reference,Requirement,Priority,Weight,Response type\n" +
			"Medicines,EPR-MED-001,Changed text,Must,10,Pass/fail\n" +
			"New section,EPR-NEW-001,New,Must,10,Pass/fail\n" +
			"New section,EPR-NEW-002,New,Must,10,Rating\n"
		problems := importProblems(t, func() error { _, err := s.Import(ctx, lead, c.ID, "x.csv", strings.NewReader(file)); return err }())
		if len(problems) != 1 || problems[0].Row != 4 || problems[0].Column != "Response type" {
			t.Fatalf("problems = %+v", problems)
		}
		sameCounts(t, before, counts(t, db))
		r, _ := s.Requirements(ctx, c.ID)
		if r[0].Text == "Changed text" {
			t.Fatal("existing requirement was updated from a rejected file")
		}
	})
}

func TestImportCSVFromExcelOnWindows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		crlf := "\xEF\xBB\xBFSection,Reference,Requirement,Priority,Weight,Response type\r\n" +
			"Medicines,EPR-MED-001,\"Supports ePMA,\r\nincluding infusions\",M,10,pass/fail\r\n" +
			"\r\n" +
			"Medicines,EPR-MED-002,Allergy checks (£0 extra),won't have,0,PRICE SCHEDULE\r\n"
		c := newCatalogue(t, s, london, "EPR")
		res, err := s.Import(ctx, lead, c.ID, "EPR.CSV", strings.NewReader(crlf))
		if err != nil || res.Added != 2 {
			t.Fatalf("BOM and CRLF: %+v, %v", res, err)
		}
		reqs, _ := s.Requirements(ctx, c.ID)
		if reqs[0].Text != "Supports ePMA,\r\nincluding infusions" && reqs[0].Text != "Supports ePMA,\nincluding infusions" {
			t.Fatalf("text = %q", reqs[0].Text)
		}
		if reqs[1].Priority != catalogue.Wont || reqs[1].ResponseType != catalogue.PriceSchedule || reqs[1].Text != "Allergy checks (£0 extra)" {
			t.Fatalf("second = %+v", reqs[1])
		}

		// Excel's plain "CSV (Comma delimited)" on UK Windows writes
		// Windows-1252; where the decimal mark is a comma it separates with
		// semicolons.
		ansi := "Section;Reference;Requirement;Priority;Weight;Response type\r\n" +
			"Medicines;EPR-MED-003;The trust\x92s formulary costs \xa3100;Should;5;Numeric\r\n"
		c2 := newCatalogue(t, s, london, "EPR ANSI")
		if _, err := s.Import(ctx, lead, c2.ID, "ansi.csv", strings.NewReader(ansi)); err != nil {
			t.Fatal(err)
		}
		reqs, _ = s.Requirements(ctx, c2.ID)
		if len(reqs) != 1 || reqs[0].Text != "The trust’s formulary costs £100" {
			t.Fatalf("windows-1252 = %+v", reqs)
		}
	})
}

func TestExportReimportsUnchanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		if _, err := s.Import(ctx, lead, c.ID, "epr.csv", bytes.NewReader(readTestdata(t))); err != nil {
			t.Fatal(err)
		}
		// A cell a spreadsheet would run as a formula survives the trip.
		sec, _ := s.Sections(ctx, c.ID)
		in := scored("EPR-MED-099", "=HYPERLINK(\"http://evil.example\",\"Click\")")
		in.SectionID, in.Guidance = sec[0].ID, "+44 20 7946 0000 is the helpdesk"
		if _, err := s.SaveRequirement(ctx, lead, c.ID, in); err != nil {
			t.Fatal(err)
		}
		want, _ := s.Requirements(ctx, c.ID)
		for _, format := range []string{"csv", "xlsx"} {
			t.Run(format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := s.Export(ctx, c.ID, format, &buf); err != nil {
					t.Fatal(err)
				}
				if format == "csv" {
					if !bytes.HasPrefix(buf.Bytes(), []byte("\xEF\xBB\xBFSection,Reference,Requirement")) {
						t.Fatalf("CSV starts %q, want a BOM and the header", buf.Bytes()[:40])
					}
					if !strings.Contains(buf.String(), `"'=HYPERLINK(`) {
						t.Fatal("formula cell not escaped in CSV")
					}
				}
				fresh := newCatalogue(t, s, london, "EPR copy "+format)
				res, err := s.Import(ctx, lead, fresh.ID, "export."+format, &buf)
				if err != nil {
					t.Fatal(err)
				}
				if res.Added != len(want) {
					t.Fatalf("re-import = %+v", res)
				}
				got, _ := s.Requirements(ctx, fresh.ID)
				if a, b := summary(want), summary(got); !slices.Equal(a, b) {
					t.Fatalf("round trip changed requirements:\nwant %q\n got %q", a, b)
				}
			})
		}
		if err := s.Export(ctx, c.ID, "pdf", &bytes.Buffer{}); err == nil {
			t.Fatal("unknown format accepted")
		}
	})
}

func TestExportedWorkbookIsReadable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		if _, err := s.Import(ctx, lead, c.ID, "epr.csv", bytes.NewReader(readTestdata(t))); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := s.Export(ctx, c.ID, "xlsx", &buf); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := f.GetSheetList(); !slices.Equal(got, []string{"Requirements"}) {
			t.Fatalf("sheets = %v", got)
		}
		rows, _ := f.GetRows("Requirements")
		if len(rows) != 16 || rows[0][5] != "Response type" || rows[1][1] != "EPR-MED-001" || rows[1][4] != "10" {
			t.Fatalf("rows = %q", rows[:2])
		}
		typ, _ := f.GetCellType("Requirements", "E2")
		if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Fatalf("weight stored as text (%v), want a number", typ)
		}
		style, _ := f.GetCellStyle("Requirements", "A1")
		st, _ := f.GetStyle(style)
		if st == nil || st.Font == nil || !st.Font.Bold {
			t.Fatal("header is not bold")
		}
		dvs, _ := f.GetDataValidations("Requirements")
		if len(dvs) != 3 {
			t.Fatalf("%d data validations, want priority, response type and weight", len(dvs))
		}
	})
}

// A workbook whose requirements are on a sheet called Requirements is read
// from there even when it is not the first sheet.
func TestImportPicksTheRequirementsSheet(t *testing.T) {
	rows, format, err := catalogue.ReadRequirements("book.xlsx", bytes.NewReader(xlsxOf(t, "Requirements", csvRecords(t))))
	if err != nil || format != "xlsx" || len(rows) != 15 || rows[0].Row != 2 {
		t.Fatalf("rows = %d, format %q, err %v", len(rows), format, err)
	}
}

func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("Section,Reference,Requirement,Priority,Weight,Response type\nMedicines,EPR-MED-001,ePMA,Must,10,Pass/fail\n"))
	f.Add([]byte("\xEF\xBB\xBFSection;Reference;Requirement;Priority;Weight;Response type\r\n;;;;;\r\n"))
	f.Add([]byte("Section,Reference,Requirement,Priority,Weight,Response type,Mark 0,Mark 1,Mark 2,Mark 3,Mark 4\nA,A-1,\"x\ny\",S,1e2,Scored,a,b,c,d,e\n"))
	f.Add([]byte("\"unterminated\nSection,Reference"))
	f.Add([]byte("Reference,Reference,Weight\n'=1,-1,NaN\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0xff, 0xfe, 0x00, 0x41})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _, err := catalogue.ReadRequirements("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			var ie *catalogue.ImportError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("err = %v, want an *ImportError with problems", err)
			}
			for _, p := range ie.Problems {
				if p.Message == "" || p.Row < 0 {
					t.Fatalf("problem %+v", p)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			req := r.Requirement
			if seen[req.Reference] || req.Weight < 0 || req.Weight > 100 || req.SectionTitle == "" ||
				!slices.Contains(catalogue.Priorities, req.Priority) || !slices.Contains(catalogue.ResponseTypes, req.ResponseType) {
				t.Fatalf("accepted invalid row %+v", r)
			}
			seen[req.Reference] = true
		}
	})
}
