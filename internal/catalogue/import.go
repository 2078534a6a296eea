package catalogue

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/sheet"
	"github.com/nhsprocure/portal/internal/validate"
)

// Import limits: bigger files are refused whole, with one problem saying so.
const (
	MaxImportBytes = 10 << 20
	MaxImportRows  = 10_000
	// maxProblems caps the problems listed for one file; a file wrong
	// throughout needs fixing as a whole, not a list of 60,000 lines.
	maxProblems = 200
)

// Column names of import and export files, in export order. On import the
// header row may use them in any order and any case; Guidance and the Mark
// columns may be left out when no row needs them, and other columns (notes,
// owners) are ignored.
const (
	ColSection      = "Section"
	ColReference    = "Reference"
	ColRequirement  = "Requirement"
	ColPriority     = "Priority"
	ColWeight       = "Weight"
	ColResponseType = "Response type"
	ColGuidance     = "Guidance"
)

// ColMark is the column of the descriptor of a mark: "Mark 0" to "Mark 4".
func ColMark(mark int) string { return fmt.Sprintf("Mark %d", mark) }

// Columns lists every column in export order.
var Columns = []string{ColSection, ColReference, ColRequirement, ColPriority, ColWeight, ColResponseType, ColGuidance,
	ColMark(0), ColMark(1), ColMark(2), ColMark(3), ColMark(4)}

// requiredColumns must be in every file.
var requiredColumns = Columns[:6]

// columnAliases are other headings trusts use for the same column.
var columnAliases = map[string]string{
	"ref": ColReference, "requirement reference": ColReference, "requirement text": ColRequirement, "text": ColRequirement,
	"moscow": ColPriority, "moscow priority": ColPriority, "weighting": ColWeight, "response": ColResponseType,
	"guidance for evaluators": ColGuidance, "evaluator guidance": ColGuidance, "section title": ColSection,
}

// fieldColumns maps validation fields to the file's columns.
var fieldColumns = map[string]string{
	FieldReference: ColReference, FieldText: ColRequirement, FieldPriority: ColPriority, FieldWeight: ColWeight,
	FieldResponseType: ColResponseType, FieldGuidance: ColGuidance,
	FieldDescriptor(0): ColMark(0), FieldDescriptor(1): ColMark(1), FieldDescriptor(2): ColMark(2),
	FieldDescriptor(3): ColMark(3), FieldDescriptor(4): ColMark(4),
}

// RowProblem is one thing wrong with an import file, in words a person can
// act on. Row is the spreadsheet row number as the person sees it (the
// header is row 1); 0 means the file as a whole. Column is "" when the
// problem is not about one column.
type RowProblem struct {
	Row     int
	Column  string
	Message string
}

func (p RowProblem) String() string {
	switch {
	case p.Row == 0:
		return p.Message
	case p.Column == "":
		return fmt.Sprintf("Row %d: %s", p.Row, p.Message)
	}
	return fmt.Sprintf("Row %d, %s: %s", p.Row, p.Column, p.Message)
}

// ImportError lists every problem found in an import file. When it is
// returned nothing from the file has been saved.
type ImportError struct {
	Problems []RowProblem
}

func (e *ImportError) Error() string { return sheet.Summary(e.Problems) }

// ImportRow is a requirement read from a file, with its section title set
// and the row it came from.
type ImportRow struct {
	Row         int
	Requirement Requirement
}

// ImportResult counts what an import did.
type ImportResult struct {
	Format        string // FormatCSV or FormatXLSX
	Rows          int    // requirement rows read (empty rows are skipped)
	Added         int
	Updated       int
	Unchanged     int
	SectionsAdded int
}

// ReadRequirements reads and checks an import file without touching the
// database: every row is checked and every problem reported together in an
// *ImportError. Any other error is a failure to read r. It is what Import
// uses first, and suits a "check your file" preview.
func ReadRequirements(filename string, r io.Reader) ([]ImportRow, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read import file: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, "", fileProblem("The file is larger than 10 MB. Split it into smaller files and import them one at a time")
	}
	t, err := readTable(filename, data)
	if err != nil {
		return nil, "", err
	}
	rows, problems := requirements(t)
	if len(problems) > 0 {
		return nil, t.Format, &ImportError{Problems: problems}
	}
	return rows, t.Format, nil
}

// headers finds each known column in the header row.
func headers(header []string) (map[string]int, []RowProblem) {
	at := map[string]int{}
	var problems []RowProblem
	for i, h := range header {
		key := words(strings.TrimPrefix(h, "\uFEFF"))
		name := ""
		for _, c := range Columns {
			if words(c) == key {
				name = c
			}
		}
		if name == "" {
			name = columnAliases[key]
		}
		if name == "" {
			continue
		}
		if _, dup := at[name]; dup {
			problems = append(problems, RowProblem{Row: 1, Column: name, Message: fmt.Sprintf("The %s column appears more than once; keep one", name)})
			continue
		}
		at[name] = i
	}
	var missing []string
	for _, c := range requiredColumns {
		if _, ok := at[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, RowProblem{Row: 1, Message: fmt.Sprintf(
			"The file is missing the %s %s. The first row must name the columns: %s",
			plural(len(missing), "column", "columns"), andList(missing), strings.Join(Columns, ", "))})
	}
	return at, problems
}

// requirements checks every row and returns the requirements, or all the
// problems found.
func requirements(t *sheet.Table) ([]ImportRow, []RowProblem) {
	if len(t.Rows) == 0 {
		return nil, []RowProblem{{Message: "The file is empty. Add a header row and one row for each requirement"}}
	}
	at, problems := headers(t.Rows[0].Cells)
	if len(problems) > 0 {
		return nil, problems
	}
	cell := func(rec []string, col string) string {
		if i, ok := at[col]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []ImportRow
	firstRow := map[string]int{} // reference -> row it first appears in
	for _, sr := range t.Rows[1:] {
		row, rec := sr.Number, sr.Cells
		if sheet.Blank(rec) {
			continue
		}
		in := RequirementInput{
			Reference: cell(rec, ColReference), Text: cell(rec, ColRequirement), Priority: cell(rec, ColPriority),
			Weight: cell(rec, ColWeight), ResponseType: cell(rec, ColResponseType), Guidance: cell(rec, ColGuidance),
		}
		for m := range Marks {
			in.Descriptors[m] = cell(rec, ColMark(m))
		}
		var v validate.Errors
		r := in.parse(&v)
		r.SectionTitle = sectionTitle(cell(rec, ColSection))
		switch {
		case r.SectionTitle == "":
			v.Add(FieldSection, "Enter the section the requirement belongs to")
		case len(r.SectionTitle) > maxSectionTitle:
			v.Add(FieldSection, "Section must be 200 characters or fewer")
		}
		if r.ResponseType != "" && r.ResponseType != Scored {
			for m := range Marks {
				if strings.TrimSpace(in.Descriptors[m]) != "" {
					v.Add(FieldDescriptor(m), fmt.Sprintf("Marks are only for scored requirements: clear Mark 0 to Mark 4 or make the response type %s", ResponseTypeLabel(Scored)))
					break
				}
			}
		}
		if r.Reference != "" && !v.Has(FieldReference) {
			if first, dup := firstRow[r.Reference]; dup {
				v.Add(FieldReference, fmt.Sprintf("Reference %s is also in row %d; each reference can only appear once in a file", r.Reference, first))
			} else {
				firstRow[r.Reference] = row
			}
		}
		for _, f := range v.List {
			col := fieldColumns[f.Field]
			if f.Field == FieldSection {
				col = ColSection
			}
			problems = append(problems, RowProblem{Row: row, Column: col, Message: f.Message})
		}
		out = append(out, ImportRow{Row: row, Requirement: r})
	}
	if len(out) == 0 && len(problems) == 0 {
		problems = append(problems, RowProblem{Message: "The file has no requirements: add one row for each requirement below the header row"})
	}
	if len(problems) == 0 {
		return out, nil
	}
	slices.SortStableFunc(problems, func(a, b RowProblem) int {
		return cmp.Or(cmp.Compare(a.Row, b.Row), cmp.Compare(slices.Index(Columns, a.Column), slices.Index(Columns, b.Column)))
	})
	if len(problems) > maxProblems {
		more := len(problems) - maxProblems
		problems = append(problems[:maxProblems], RowProblem{Message: fmt.Sprintf(
			"There are %d more problems not listed here. Fix the ones above and import the file again", more)})
	}
	return nil, problems
}

// Import reads a CSV or Excel (.xlsx) file of requirements into the draft
// of a catalogue. Every row is checked first; if anything is wrong the
// result is an *ImportError listing every problem by row and column, and
// nothing is saved. Otherwise, in one transaction with one audit entry:
// sections named in the file that the catalogue lacks are added (matched by
// title, ignoring case), a reference new to the catalogue adds a
// requirement at the end of its section, and a reference the catalogue
// already has updates that requirement (moving it if its section changed).
// Requirements not in the file are left alone: importing never deletes. A
// reference may appear only once in a file.
func (s *Service) Import(ctx context.Context, actor audit.Actor, catalogueID, filename string, r io.Reader) (ImportResult, error) {
	rows, format, err := ReadRequirements(filename, r)
	if err != nil {
		return ImportResult{Format: format}, err
	}
	res := ImportResult{Format: format, Rows: len(rows)}
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		res = ImportResult{Format: format, Rows: len(rows)}
		if err := s.touch(tx, catalogueID); err != nil {
			return err
		}
		secs, existing, err := draft(tx, catalogueID)
		if err != nil {
			return err
		}
		sectionByTitle := map[string]*Section{}
		nextPos := map[string]int{} // section id -> next requirement position
		lastSection := 0
		for i := range secs {
			sectionByTitle[strings.ToLower(secs[i].Title)] = &secs[i]
			lastSection = max(lastSection, secs[i].Position)
		}
		byRef := map[string]*Requirement{}
		for i := range existing {
			byRef[existing[i].Reference] = &existing[i]
			nextPos[existing[i].SectionID] = max(nextPos[existing[i].SectionID], existing[i].Position+1)
		}
		now := s.Clock.Now()
		for _, row := range rows {
			in := row.Requirement
			sec := sectionByTitle[strings.ToLower(in.SectionTitle)]
			if sec == nil {
				lastSection++
				sec = &Section{ID: newID(), CatalogueID: catalogueID, Title: in.SectionTitle, Position: lastSection}
				if err := tx.Create(sec).Error; err != nil {
					return fmt.Errorf("import row %d: create section: %w", row.Row, err)
				}
				sectionByTitle[strings.ToLower(sec.Title)] = sec
				res.SectionsAdded++
			}
			position := func() int {
				p := max(nextPos[sec.ID], 1)
				nextPos[sec.ID] = p + 1
				return p
			}
			old := byRef[in.Reference]
			if old == nil {
				n := in
				n.ID, n.CatalogueID, n.SectionID, n.Position = newID(), catalogueID, sec.ID, position()
				n.Version, n.CreatedAt, n.UpdatedAt = 1, now, now
				if err := tx.Create(&n).Error; err != nil {
					return fmt.Errorf("import row %d: create requirement: %w", row.Row, err)
				}
				res.Added++
				continue
			}
			updated := *old
			if len(changedFields(*old, inSection(in, sec.ID))) == 0 {
				res.Unchanged++
				continue
			}
			if sec.ID != old.SectionID {
				updated.SectionID, updated.Position = sec.ID, position()
			}
			if err := updateRequirement(tx, &updated, in, updated.SectionID, old.Version, now); err != nil {
				return fmt.Errorf("import row %d: %w", row.Row, err)
			}
			res.Updated++
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.import", ObjectType: "catalogue", ObjectID: catalogueID,
			Detail: map[string]any{
				"file": filename, "format": format, "rows": res.Rows, "added": res.Added, "updated": res.Updated,
				"unchanged": res.Unchanged, "sections_added": res.SectionsAdded,
			},
		})
	})
	if err != nil {
		return ImportResult{Format: format}, err
	}
	return res, nil
}

// inSection is r placed in section id, for comparing an imported row with
// the stored requirement.
func inSection(r Requirement, id string) Requirement {
	r.SectionID = id
	return r
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// andList joins names as "A, B and C".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
