package exit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sheet"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
)

// Import limits: a bigger file is refused whole, with one problem saying
// so. The national programme's whole list is under a thousand rows.
const (
	MaxImportBytes = 10 << 20
	MaxImportRows  = 10_000
	// maxImportColumns bounds the header, so a sheet with a cell in its
	// last column cannot make every row sixteen thousand cells wide.
	maxImportColumns = 64
	// maxImportProblems caps the problems listed for one file: a file wrong
	// throughout needs fixing as a whole, not a list of thousands of lines.
	maxImportProblems = 200
	// maxProduct is the longest a product's name may be.
	maxProduct = 200
)

// File formats of an import.
const (
	FormatCSV  = sheet.CSV
	FormatXLSX = sheet.XLSX
)

// Columns of the deployment import. The milestones' columns are
// PlanField(kind) and ActualField(kind) ("cutover_plan"); path and notes
// are FieldPath and FieldNotes, as the exit plan form names them.
const (
	ColNationalContract = "national_contract"
	ColODSCode          = "ods_code"
	ColSystemType       = "system_type"
	ColProduct          = "product"
)

// ImportColumns lists every column the import reads, in the template's
// order: the four that identify a deployment (all required), then its exit
// plan (each optional).
var ImportColumns = func() []string {
	cols := []string{ColNationalContract, ColODSCode, ColSystemType, ColProduct, FieldPath}
	for _, k := range MilestoneKinds {
		cols = append(cols, PlanField(k), ActualField(k))
	}
	return append(cols, FieldNotes)
}()

// requiredImportColumns identify a deployment and must be in every file.
var requiredImportColumns = ImportColumns[:4]

// importColumnAliases are other headings people give the same columns
// (after columnKey), such as the milestones' labels.
var importColumnAliases = func() map[string]string {
	m := map[string]string{
		"national_contract_reference": ColNationalContract, "contract": ColNationalContract, "reference": ColNationalContract,
		"ods": ColODSCode, "trust_ods_code": ColODSCode, "trust_code": ColODSCode,
		"system": ColSystemType, "type": ColSystemType, "exit_path": FieldPath, "note": FieldNotes,
	}
	for _, k := range MilestoneKinds {
		m[columnKey(MilestoneLabel(k)+" plan")] = PlanField(k)
		m[columnKey(MilestoneLabel(k)+" planned")] = PlanField(k)
		m[columnKey(MilestoneLabel(k)+" actual")] = ActualField(k)
	}
	return m
}()

// columnKey makes a heading comparable: case, spaces, hyphens and
// underscores do not matter ("Cut-over plan" is "cut_over_plan", "ODS
// code" is "ods_code").
func columnKey(h string) string {
	h = strings.ToLower(strings.TrimPrefix(h, "\uFEFF"))
	return strings.Join(strings.FieldsFunc(h, func(r rune) bool { return unicode.IsSpace(r) || r == '_' || r == '-' }), "_")
}

// ImportProblem is one thing wrong with an import file, in words a person
// can act on. Row is the spreadsheet row as the person sees it (the header
// is row 1); 0 means the file as a whole. Column is the column's name, ""
// when the problem is not about one column.
type ImportProblem struct {
	Row     int
	Column  string
	Message string
}

func (p ImportProblem) String() string {
	if p.Row == 0 {
		return p.Message
	}
	return fmt.Sprintf("Row %d: %s", p.Row, p.Message)
}

// ImportError lists every problem found in an import file. When it is
// returned nothing from the file has been saved.
type ImportError struct {
	Problems []ImportProblem
}

func (e *ImportError) Error() string { return sheet.Summary(e.Problems) }

func fileProblem(format string, a ...any) *ImportError {
	return &ImportError{Problems: []ImportProblem{{Message: fmt.Sprintf(format, a...)}}}
}

// ImportResult counts what an import did, or (from CheckDeployments) would
// do.
type ImportResult struct {
	Format string // FormatCSV or FormatXLSX
	// SHA256 is the hash of the file's bytes, recorded in the audit entry.
	SHA256    string
	Rows      int
	Created   int
	Updated   int
	Unchanged int
}

// importRow is one deployment read from a file: what identifies it, and
// the exit plan columns it gives (given holds their names: a column left
// empty leaves the stored value alone).
type importRow struct {
	Row              int
	NationalContract string
	ODSCode          string
	SystemType       string
	Product          string
	Path             string
	Milestones
	Notes string
	given map[string]bool
}

// key identifies the deployment a row is about within the file.
func (r importRow) key() string {
	return strings.Join([]string{r.NationalContract, r.ODSCode, r.SystemType, strings.ToLower(r.Product)}, "\x00")
}

// readOptions read a deployments file: comma-separated UTF-8, or a
// workbook's first sheet with cells as stored rather than as shown, so a
// date reads as its serial number whatever format shows it. Blank rows are
// left out and each row is cut to the header's width.
var readOptions = sheet.Options{MaxRows: MaxImportRows, MaxColumns: maxImportColumns, HeaderWidth: true, Raw: true}

// readSheet reads a CSV or XLSX file, deciding which by its content: a
// workbook is a zip archive. Rows are numbered by the line they start on
// (a cell with a line break in it is the only difference from the row a
// spreadsheet shows).
func readSheet(data []byte) (*sheet.Table, error) {
	t, err := sheet.Read(data, readOptions)
	var se *sheet.Error
	if !errors.As(err, &se) {
		return t, err
	}
	if se.Reason == sheet.Binary {
		se.Reason = sheet.NotUTF8 // a NUL byte is no more UTF-8 text than a stray Latin-1 one
	}
	switch se.Reason {
	case sheet.Empty:
		return nil, fileProblem("The file is empty. Add a header row naming the columns and one row for each deployment")
	case sheet.BadQuote:
		return nil, &ImportError{Problems: []ImportProblem{{Row: se.StartLine, Message: se.Error()}}}
	case sheet.TooManyColumns:
		return nil, fileProblem("The first row has more than %d columns. It must name only the columns the import reads: %s", maxImportColumns, strings.Join(ImportColumns, ", "))
	}
	return nil, fileProblem("%s", se.Error())
}

// importHeaders finds each column in the header row; unknown, repeated and
// missing columns are problems.
func importHeaders(header []string) (map[string]int, []ImportProblem) {
	at := map[string]int{}
	var problems []ImportProblem
	for i, h := range header {
		key := columnKey(h)
		if key == "" {
			continue
		}
		name := ""
		if slices.Contains(ImportColumns, key) {
			name = key
		} else {
			name = importColumnAliases[key]
		}
		switch {
		case name == "":
			problems = append(problems, ImportProblem{Row: 1, Message: fmt.Sprintf(
				"The column %s is not one the import reads: rename it to one of %s, or remove it", quoted(h), strings.Join(ImportColumns, ", "))})
		case hasKey(at, name):
			problems = append(problems, ImportProblem{Row: 1, Column: name, Message: fmt.Sprintf("The %s column appears more than once; keep one", name)})
		default:
			at[name] = i
		}
	}
	var missing []string
	for _, c := range requiredImportColumns {
		if !hasKey(at, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, ImportProblem{Row: 1, Message: fmt.Sprintf(
			"The file is missing the column %s. The first row must name the columns, including %s",
			strings.Join(missing, ", "), strings.Join(requiredImportColumns, ", "))})
	}
	return at, problems
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

// parseDeployments reads and checks an import file without the database:
// the header, every cell, each row's milestones in order (as of today) and
// rows repeated in the file. It never panics on any input.
func parseDeployments(data []byte, today time.Time) ([]importRow, string, []ImportProblem) {
	sh, err := readSheet(data)
	if err != nil {
		var ie *ImportError
		if errors.As(err, &ie) {
			return nil, "", ie.Problems
		}
		return nil, "", []ImportProblem{{Message: "The file could not be read. Save it as CSV UTF-8 or as an Excel Workbook (.xlsx) and upload it again"}}
	}
	if len(sh.Rows) == 0 {
		return nil, sh.Format, []ImportProblem{{Message: "The file is empty. Add a header row naming the columns and one row for each deployment"}}
	}
	at, problems := importHeaders(sh.Rows[0].Cells)
	if len(problems) > 0 {
		return nil, sh.Format, problems
	}
	var out []importRow
	first := map[string]int{} // key -> row it first appears in
	for _, sr := range sh.Rows[1:] {
		rec := sr.Cells
		row := importRow{Row: sr.Line, given: map[string]bool{}}
		add := func(col, msg string) {
			problems = append(problems, ImportProblem{Row: row.Row, Column: col, Message: msg})
		}
		cell := func(col string) string {
			if j, ok := at[col]; ok && j < len(rec) {
				return strings.TrimSpace(rec[j])
			}
			return ""
		}
		row.parse(cell, sh, today, add)
		if row.NationalContract != "" && row.ODSCode != "" && row.SystemType != "" && row.Product != "" {
			if prev, dup := first[row.key()]; dup {
				add("", fmt.Sprintf("This is the same deployment as row %d (same national contract, trust, system type and product); each deployment may appear only once in a file", prev))
			} else {
				first[row.key()] = row.Row
			}
		}
		out = append(out, row)
	}
	if len(out) == 0 && len(problems) == 0 {
		problems = append(problems, ImportProblem{Message: "The file has no deployments: add one row for each deployment below the header row"})
	}
	return out, sh.Format, problems
}

// odsPattern is what an ODS code looks like.
var odsPattern = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)

// parse reads one row's cells into r, reporting each problem.
func (r *importRow) parse(cell func(string) string, sh *sheet.Table, today time.Time, add func(col, msg string)) {
	r.NationalContract = strings.ToUpper(cell(ColNationalContract))
	switch {
	case r.NationalContract == "":
		add(ColNationalContract, "Enter the national contract's reference in national_contract")
	case !referencePattern.MatchString(r.NationalContract):
		add(ColNationalContract, fmt.Sprintf("national_contract %s is not a national contract reference: use the reference shown on the national contracts page, such as LSP-LONDON", quoted(r.NationalContract)))
	}
	r.ODSCode = strings.ToUpper(cell(ColODSCode))
	switch {
	case r.ODSCode == "":
		add(ColODSCode, "Enter the trust's ODS code in ods_code, such as RJ7")
	case !odsPattern.MatchString(r.ODSCode):
		add(ColODSCode, fmt.Sprintf("ods_code %s is not an ODS code: enter the trust's code, such as RJ7", quoted(r.ODSCode)))
	}
	if v := cell(ColSystemType); v == "" {
		add(ColSystemType, "Enter the system type in system_type: "+systemChoices())
	} else if r.SystemType = systemByName[nameKey(v)]; r.SystemType == "" {
		add(ColSystemType, fmt.Sprintf("system_type %s is not a system type: use %s", quoted(v), systemChoices()))
	}
	r.Product = strings.Join(strings.Fields(cell(ColProduct)), " ")
	switch {
	case r.Product == "":
		add(ColProduct, "Enter the product's name in product, such as the system's brand")
	case utf8.RuneCountInString(r.Product) > maxProduct:
		add(ColProduct, fmt.Sprintf("The product's name must be %d characters or fewer", maxProduct))
	}
	if v := cell(FieldPath); v != "" {
		p, ok := pathByName[nameKey(v)]
		if !ok {
			add(FieldPath, fmt.Sprintf("path %s is not an exit path: use %s, or leave it empty", quoted(v), pathChoices()))
		}
		r.Path, r.given[FieldPath] = p, ok
	}
	for _, k := range MilestoneKinds {
		plan, actual, _ := r.Dates(k)
		for _, f := range []struct {
			col string
			t   **time.Time
		}{{PlanField(k), plan}, {ActualField(k), actual}} {
			v := cell(f.col)
			if v == "" {
				continue
			}
			d, ok := parseImportDate(v, sh)
			if !ok {
				add(f.col, fmt.Sprintf("%s %s is not a date: use YYYY-MM-DD or DD/MM/YYYY", f.col, quoted(v)))
				continue
			}
			*f.t, r.given[f.col] = &d, true
		}
	}
	if v := cell(FieldNotes); v != "" {
		if utf8.RuneCountInString(v) > MaxNotes {
			add(FieldNotes, "The notes must be 5,000 characters or fewer")
		}
		r.Notes, r.given[FieldNotes] = v, true
	}
	checkMilestones(r.Milestones, today, add)
}

// Dates the import reads: years outside these are typing slips.
const (
	minImportYear = 2000
	maxImportYear = 2099
)

// parseImportDate reads a date as YYYY-MM-DD or DD/MM/YYYY or, in a
// workbook, as the serial number a date cell holds. The result is midnight
// at the start of that UK date.
func parseImportDate(v string, sh *sheet.Table) (time.Time, bool) {
	var t time.Time
	var err error
	switch {
	case strings.Contains(v, "-"):
		t, err = time.Parse("2006-1-2", v)
	case strings.Contains(v, "/"):
		t, err = time.Parse("2/1/2006", v)
	case sh.Format == FormatXLSX:
		var serial float64
		if serial, err = strconv.ParseFloat(v, 64); err == nil && serial >= 1 && serial < 100_000 {
			t, err = excelize.ExcelDateToTime(serial, sh.Date1904)
		} else {
			err = errors.New("not a date serial")
		}
	default:
		return time.Time{}, false
	}
	if err != nil || t.Year() < minImportYear || t.Year() > maxImportYear {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, uktime.Location).UTC(), true
}

// nameKey makes a system type's or path's name comparable: case, spaces,
// hyphens, underscores and brackets do not matter.
func nameKey(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("_-()", r)
	}), " ")
}

// systemByName and pathByName find a system type or path by its code,
// its label, or the words of either.
var (
	systemByName = func() map[string]string {
		m := map[string]string{}
		for _, t := range SystemTypes {
			label := SystemLabel(t)
			m[nameKey(t)], m[nameKey(label)] = t, t
			if short := SystemShort(t); short != "system" {
				m[nameKey(short)] = t // "theatres system"
			}
			if short, _, ok := strings.Cut(label, " ("); ok {
				m[nameKey(short)] = t // "Patient administration"
				m[nameKey(strings.TrimSuffix(label[len(short)+2:], ")"))] = t
			}
		}
		m["ehr"], m["electronic health record"] = SystemEPR, SystemEPR
		return m
	}()
	pathByName = func() map[string]string {
		m := map[string]string{"none": PathNone, "not chosen": PathNone, "call off": PathCallOff, "open procurement": PathOpen}
		for _, p := range Paths {
			m[nameKey(p)], m[nameKey(PathLabel(p))] = p, p
		}
		return m
	}()
)

func systemChoices() string {
	return strings.Join(SystemTypes, ", ") + " (or their names, such as Patient administration)"
}

func pathChoices() string {
	return strings.Join(Paths, ", ") + " (or their names, such as Direct award)"
}

// quoted shows a value from the file in a message: in single quotes, cut
// short, with control characters removed.
func quoted(v string) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, v)
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	return "'" + v + "'"
}

// errDryRun rolls back a check's transaction once it has done everything
// an import would.
var errDryRun = errors.New("dry run")

// ImportDeployments reads a CSV or Excel (.xlsx) file of deployments, one a
// row, and records them. Every row is checked first, against the file and
// then against the portal (the national contract and the trust must exist;
// milestones must be in order, once merged with those recorded); if
// anything is wrong the result is an *ImportError listing every problem by
// row and column, and nothing is saved. Otherwise, in one transaction with
// one audit entry: a row naming a deployment not recorded (by national
// contract, trust, system type and product) creates it; a row naming one
// recorded changes the exit plan columns it gives, leaving those it leaves
// empty alone, and is unchanged when they match. Importing never deletes.
// Only a platform administrator may import.
func (s *Service) ImportDeployments(ctx context.Context, actor audit.Actor, filename string, r io.Reader) (ImportResult, error) {
	return s.importDeployments(ctx, actor, filename, r, true)
}

// CheckDeployments does everything ImportDeployments does, rolled back:
// it reports what the import would create, update and leave unchanged, or
// the problems that would stop it, for the check before importing.
func (s *Service) CheckDeployments(ctx context.Context, actor audit.Actor, filename string, r io.Reader) (ImportResult, error) {
	return s.importDeployments(ctx, actor, filename, r, false)
}

func (s *Service) importDeployments(ctx context.Context, actor audit.Actor, filename string, r io.Reader, commit bool) (ImportResult, error) {
	const action = "deployment.import"
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return ImportResult{}, fmt.Errorf("read import file: %w", err)
	}
	sum := sha256.Sum256(data)
	res := ImportResult{SHA256: hex.EncodeToString(sum[:])}
	today := Day(s.Clock.Now())
	var rows []importRow
	var problems []ImportProblem
	if len(data) > MaxImportBytes {
		problems = fileProblem("The file is larger than 10 MB. Split it into smaller files and import them one at a time").Problems
	} else {
		rows, res.Format, problems = parseDeployments(data, today)
	}
	res.Rows = len(rows)
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := requireAdmin(tx, actor); err != nil {
			return err
		}
		if len(problems) > 0 {
			// The rows read without problems are still checked against
			// the portal, so one upload lists everything to put right.
			bad := map[int]bool{}
			for _, p := range problems {
				bad[p.Row] = true
			}
			rows = slices.DeleteFunc(rows, func(r importRow) bool { return bad[r.Row] })
		}
		p, err := s.planImport(tx, rows, today)
		if err != nil {
			return err
		}
		if problems = append(problems, p.problems...); len(problems) > 0 {
			return importError(problems)
		}
		res.Created, res.Updated, res.Unchanged = len(p.create), len(p.update), p.unchanged
		if err := p.write(tx); err != nil {
			return err
		}
		if len(p.create) > 0 {
			// New system types under a national contract may need longer
			// to migrate than its 'procurement complete by' date leaves.
			rules, err := loadRules(tx)
			if err != nil {
				return err
			}
			var contradictions []ImportProblem
			if err := checkCompleteBy(tx, rules, "", nil, time.Time{}, func(_, msg string) {
				contradictions = append(contradictions, ImportProblem{Message: msg})
			}); err != nil {
				return err
			}
			if len(contradictions) > 0 {
				return importError(contradictions)
			}
		}
		err = s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "deployments", ObjectID: res.SHA256, Detail: map[string]any{
			"file": filename, "format": res.Format, "sha256": res.SHA256, "rows": res.Rows,
			"created": res.Created, "updated": res.Updated, "unchanged": res.Unchanged,
		}})
		if err != nil {
			return err
		}
		if !commit {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return res, nil
	}
	if err != nil {
		return ImportResult{Format: res.Format, SHA256: res.SHA256, Rows: res.Rows}, s.refused(ctx, actor, action, "deployments", res.SHA256, err)
	}
	return res, nil
}

// importError sorts problems by row, then column, and caps how many are
// listed.
func importError(problems []ImportProblem) *ImportError {
	slices.SortStableFunc(problems, func(a, b ImportProblem) int {
		return cmp.Or(cmp.Compare(a.Row, b.Row), cmp.Compare(slices.Index(ImportColumns, a.Column), slices.Index(ImportColumns, b.Column)))
	})
	if len(problems) > maxImportProblems {
		more := len(problems) - maxImportProblems
		problems = append(problems[:maxImportProblems:maxImportProblems], ImportProblem{Message: fmt.Sprintf(
			"There are %d more problems not listed here. Fix the ones above and import the file again", more)})
	}
	return &ImportError{Problems: problems}
}

// importPlan is what an import will write.
type importPlan struct {
	create    []Deployment
	update    []Deployment
	unchanged int
	problems  []ImportProblem
}

// planImport checks the rows against the portal and works out what to
// create and update, reading the national contracts, trusts and
// deployments it needs in a few queries whatever the number of rows.
func (s *Service) planImport(tx *gorm.DB, rows []importRow, today time.Time) (*importPlan, error) {
	p := &importPlan{}
	var ncs []NationalContract
	if err := tx.Find(&ncs).Error; err != nil {
		return nil, fmt.Errorf("read national contracts: %w", err)
	}
	ncByRef := map[string]NationalContract{}
	for _, n := range ncs {
		ncByRef[n.Reference] = n
	}
	var codes []string
	for _, r := range rows {
		codes = append(codes, r.ODSCode)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	trustByCode := map[string]string{} // ODS code -> organisation ID
	for chunk := range slices.Chunk(codes, 500) {
		var trusts []orgs.Organisation
		if err := tx.Select("id, ods_code").Where("kind = ? AND ods_code IN ?", orgs.KindTrust, chunk).Find(&trusts).Error; err != nil {
			return nil, fmt.Errorf("read trusts: %w", err)
		}
		for _, t := range trusts {
			trustByCode[t.ODS()] = t.ID
		}
	}
	var ncIDs []string
	for _, r := range rows {
		if n, ok := ncByRef[r.NationalContract]; ok && !slices.Contains(ncIDs, n.ID) {
			ncIDs = append(ncIDs, n.ID)
		}
	}
	existing := map[string]*Deployment{}
	if len(ncIDs) > 0 {
		var list []Deployment
		if err := tx.Where("national_contract_id IN ?", ncIDs).Find(&list).Error; err != nil {
			return nil, fmt.Errorf("read deployments: %w", err)
		}
		for i := range list {
			list[i].utc()
			existing[deploymentKey(list[i].NationalContractID, list[i].OrganisationID, list[i].SystemType, list[i].Product)] = &list[i]
		}
	}
	now := s.now()
	for _, r := range rows {
		add := func(col, msg string) {
			p.problems = append(p.problems, ImportProblem{Row: r.Row, Column: col, Message: msg})
		}
		n, okNC := ncByRef[r.NationalContract]
		if !okNC {
			add(ColNationalContract, fmt.Sprintf("National contract %s is not recorded in the portal: add it on the national contracts page first, or correct the reference", r.NationalContract))
		}
		orgID, okTrust := trustByCode[r.ODSCode]
		if !okTrust {
			add(ColODSCode, fmt.Sprintf("ODS code %s is not a trust in the portal", r.ODSCode))
		}
		if !okNC || !okTrust {
			continue
		}
		old := existing[deploymentKey(n.ID, orgID, r.SystemType, r.Product)]
		if old == nil {
			p.create = append(p.create, Deployment{
				ID: newID(), NationalContractID: n.ID, OrganisationID: orgID, SystemType: r.SystemType, Product: r.Product,
				Path: r.Path, Milestones: r.Milestones, Notes: r.Notes, Version: 1, CreatedAt: now, UpdatedAt: now,
			})
			continue
		}
		merged, changed := r.mergeInto(*old)
		if !changed {
			p.unchanged++
			continue
		}
		// The row's own dates are in order (parseDeployments checked
		// them); any problem now is with a date already recorded.
		checkMilestones(merged.Milestones, today, func(col, msg string) {
			add(col, msg+". One of the dates is already recorded in the portal: give both in the file")
		})
		merged.Version, merged.UpdatedAt = old.Version+1, now
		p.update = append(p.update, merged)
	}
	return p, nil
}

// deploymentKey identifies a recorded deployment as a file row names it
// (products compared ignoring case).
func deploymentKey(ncID, orgID, systemType, product string) string {
	return strings.Join([]string{ncID, orgID, systemType, strings.ToLower(product)}, "\x00")
}

// mergeInto is d with the plan columns the row gives, and whether any of
// them differs from d's.
func (r importRow) mergeInto(d Deployment) (Deployment, bool) {
	changed := false
	if r.given[FieldPath] && r.Path != d.Path {
		d.Path, changed = r.Path, true
	}
	if r.given[FieldNotes] && r.Notes != d.Notes {
		d.Notes, changed = r.Notes, true
	}
	for _, k := range MilestoneKinds {
		plan, actual, _ := d.Dates(k)
		newPlan, newActual, _ := r.Dates(k)
		for _, f := range []struct {
			col      string
			cur, new **time.Time
		}{{PlanField(k), plan, newPlan}, {ActualField(k), actual, newActual}} {
			if r.given[f.col] && dateValue(*f.cur) != dateValue(*f.new) {
				*f.cur, changed = *f.new, true
			}
		}
	}
	return d, changed
}

// planColumns are the columns an import may change on a recorded
// deployment.
var planColumns = func() []string {
	cols := []string{"path", "notes", "version", "updated_at"}
	for _, k := range MilestoneKinds {
		cols = append(cols, PlanField(k), ActualField(k))
	}
	return cols
}()

// write creates and updates in batches. Updates go as one upsert per batch
// that changes only rows still at the version read, so a plan a trust lead
// changed meanwhile is never overwritten: the import fails with
// store.ErrConflict instead.
func (p *importPlan) write(tx *gorm.DB) error {
	const batch = 200
	if len(p.create) > 0 {
		if err := tx.Omit(clause.Associations).CreateInBatches(p.create, batch).Error; err != nil {
			return fmt.Errorf("create deployments: %w", err)
		}
	}
	if len(p.update) == 0 {
		return nil
	}
	res := tx.Omit(clause.Associations).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns(planColumns),
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "deployments.version = excluded.version - 1"}}},
	}).CreateInBatches(p.update, batch)
	if res.Error != nil {
		return fmt.Errorf("update deployments: %w", res.Error)
	}
	if res.RowsAffected != int64(len(p.update)) {
		return store.ErrConflict
	}
	return nil
}

// WriteImportTemplate writes the import's header row as CSV, for people
// to fill in.
func WriteImportTemplate(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ImportColumns); err != nil {
		return fmt.Errorf("write import template: %w", err)
	}
	cw.Flush()
	return cw.Error()
}
