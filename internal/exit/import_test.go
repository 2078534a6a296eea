package exit_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/uktime"
)

// importNow is the import tests' clock: a Monday morning in November.
var importNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// importWorld is a database with the demo organisations and ExitContracts,
// the service and its platform administrator.
type importWorld struct {
	db        *store.DB
	s         *exit.Service
	admin     audit.Actor
	contracts map[string]exit.NationalContract
}

func newImportWorld(t testing.TB, db *store.DB) *importWorld {
	t.Helper()
	clk := clock.NewManual(importNow)
	log := &audit.Log{Clock: clk}
	if _, err := orgs.SeedDemo(context.Background(), db.DB, log, clk.Now(), domaintest.DevIssuer); err != nil {
		t.Fatal(err)
	}
	w := &importWorld{db: db, s: &exit.Service{DB: db, Audit: log, Clock: clk}, admin: domaintest.DemoActor(t, db, "demo-platform-admin")}
	w.contracts = domaintest.RecordExitContracts(t, w.s, w.admin)
	return w
}

// rows is the header and n deployment rows.
func (w *importWorld) rows(t testing.TB, n int) [][]string {
	return domaintest.ExitDeploymentRows(t, w.db, exit.Day(importNow), n)
}

func (w *importWorld) count(t testing.TB, table string) int64 {
	t.Helper()
	var n int64
	if err := w.db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// problems is the import's problems as the page lists them.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var ie *exit.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an *exit.ImportError", err)
	}
	out := make([]string, len(ie.Problems))
	for i, p := range ie.Problems {
		out[i] = p.String()
	}
	return out
}

// datesOf writes a deployment's milestones as the import reads them, for
// comparing.
func datesOf(d exit.Deployment) map[string]string {
	out := map[string]string{}
	for _, k := range exit.MilestoneKinds {
		plan, actual, _ := d.Dates(k)
		for col, t := range map[string]*time.Time{exit.PlanField(k): *plan, exit.ActualField(k): *actual} {
			if t != nil {
				out[col] = t.In(uktime.Location).Format("2006-01-02")
			}
		}
	}
	return out
}

// TestImport765CSVAndXLSX imports the national programme's size of list,
// 765 deployments over the real trusts, as CSV and as a workbook with real
// date cells: both give the same deployments, quickly, with one audit entry
// of counts; importing the file again changes nothing.
func TestImport765CSVAndXLSX(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newImportWorld(t, db)
		rows := w.rows(t, 765)
		csvFile := domaintest.SheetCSV(t, rows)

		if res, err := w.s.CheckDeployments(ctx, w.admin, "deployments.csv", bytes.NewReader(csvFile)); err != nil || res.Created != 765 || res.Rows != 765 {
			t.Fatalf("check = %+v, %v; want 765 to create", res, err)
		}
		if n := w.count(t, "deployments"); n != 0 {
			t.Fatalf("the check saved %d deployments", n)
		}
		audits := w.count(t, "audit_entries")
		start := time.Now()
		res, err := w.s.ImportDeployments(ctx, w.admin, "deployments.csv", bytes.NewReader(csvFile))
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if res.Format != exit.FormatCSV || res.Created != 765 || res.Updated != 0 || res.Unchanged != 0 {
			t.Fatalf("import = %+v", res)
		}
		if took > 5*time.Second {
			t.Errorf("importing 765 rows took %v; it should take well under a few seconds", took)
		}
		t.Logf("765 rows imported in %v", took)
		if n := w.count(t, "deployments"); n != 765 {
			t.Fatalf("%d deployments recorded, want 765", n)
		}
		var entry audit.Entry
		if err := db.Where("action = ?", "deployment.import").First(&entry).Error; err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"created":765`, `"unchanged":0`, `"file":"deployments.csv"`, res.SHA256} {
			if !strings.Contains(entry.Detail, want) {
				t.Errorf("audit detail %s lacks %s", entry.Detail, want)
			}
		}
		if n := w.count(t, "audit_entries"); n != audits+1 {
			t.Errorf("%d audit entries written, want 1", n-audits)
		}

		// What was read: a row given by label, with UK dates, and a path.
		list, err := w.s.Deployments(ctx, exit.National)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]exit.Deployment{}
		for _, d := range list {
			byKey[d.NationalContract.Reference+"/"+d.Organisation.ODS()+"/"+d.SystemType+"/"+d.Product] = d
		}
		col := map[string]int{}
		for i, c := range rows[0] {
			col[c] = i
		}
		for _, i := range []int{1, 2, 3, 4, 5, 764} {
			r := rows[i+1]
			system := r[col[exit.ColSystemType]]
			for _, s := range exit.SystemTypes {
				if exit.SystemLabel(s) == system {
					system = s
				}
			}
			d, ok := byKey[r[col[exit.ColNationalContract]]+"/"+r[col[exit.ColODSCode]]+"/"+system+"/"+r[col[exit.ColProduct]]]
			if !ok {
				t.Fatalf("row %d (%v) not recorded", i+2, r)
			}
			got := datesOf(d)
			for _, k := range exit.MilestoneKinds {
				for _, c := range []string{exit.PlanField(k), exit.ActualField(k)} {
					want := r[col[c]]
					if p, err := time.Parse("02/01/2006", want); err == nil {
						want = p.Format("2006-01-02")
					}
					if got[c] != want {
						t.Errorf("row %d %s = %q, want %q", i+2, c, got[c], want)
					}
				}
			}
			if wantPath := r[col[exit.FieldPath]]; wantPath != "" && exit.PathLabel(d.Path) != wantPath && d.Path != wantPath {
				t.Errorf("row %d path = %q, want %q", i+2, d.Path, wantPath)
			}
		}

		// The same file again: nothing to do.
		res, err = w.s.ImportDeployments(ctx, w.admin, "deployments.csv", bytes.NewReader(csvFile))
		if err != nil || res.Created != 0 || res.Updated != 0 || res.Unchanged != 765 {
			t.Fatalf("re-import = %+v, %v; want 765 unchanged", res, err)
		}

		// The same rows as a workbook with real date cells, into a fresh
		// database: the same deployments with the same dates.
		w2 := newImportWorld(t, storetest.Open(t, db.Kind))
		isoRows := make([][]string, len(rows))
		for i, r := range rows {
			isoRows[i] = append([]string(nil), r...)
			for j, v := range r {
				if p, err := time.Parse("02/01/2006", v); err == nil {
					isoRows[i][j] = p.Format("2006-01-02")
				}
			}
		}
		var dateCols []string
		for _, k := range exit.MilestoneKinds {
			dateCols = append(dateCols, exit.PlanField(k), exit.ActualField(k))
		}
		xlsx := domaintest.SheetXLSX(t, isoRows, dateCols...)
		res, err = w2.s.ImportDeployments(ctx, w2.admin, "deployments.xlsx", bytes.NewReader(xlsx))
		if err != nil || res.Format != exit.FormatXLSX || res.Created != 765 {
			t.Fatalf("xlsx import = %+v, %v", res, err)
		}
		list2, err := w2.s.Deployments(ctx, exit.National)
		if err != nil || len(list2) != 765 {
			t.Fatalf("%d deployments from the workbook, %v", len(list2), err)
		}
		for i := range list {
			a, b := list[i], list2[i]
			if a.Organisation.ODS() != b.Organisation.ODS() || a.SystemType != b.SystemType || a.Product != b.Product || a.Path != b.Path ||
				a.Notes != b.Notes || !sameDates(datesOf(a), datesOf(b)) {
				t.Fatalf("deployment %d differs: CSV %+v, workbook %+v", i, a, b)
			}
		}
	})
}

func sameDates(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestImportChangesOnlyTheColumnsGiven: a row for a recorded deployment
// changes the plan columns it fills in and leaves the empty ones alone.
func TestImportChangesOnlyTheColumnsGiven(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newImportWorld(t, db)
		first := "National contract,ODS code,System type,Product,Path,Award plan,Cutover plan,Notes\n" +
			"LSP-LONDON,RJ7,Patient administration,Lorenzo,open,2027-06-30,2028-03-31,First plan\n" +
			"LSP-LONDON,RJ1,pacs,Sectra PACS,,,,\n"
		if res, err := w.s.ImportDeployments(ctx, w.admin, "a.csv", strings.NewReader(first)); err != nil || res.Created != 2 {
			t.Fatalf("first import = %+v, %v", res, err)
		}
		second := "ods_code,national_contract,system_type,product,cutover_plan,path\n" +
			"rj7,lsp-london,PAS,LORENZO,31/05/2028,\n" +
			"RJ1,LSP-LONDON,PACS,Sectra PACS,,\n" +
			"RJZ,LSP-LONDON,EPR,Cerner Millennium,,calloff\n"
		res, err := w.s.ImportDeployments(ctx, w.admin, "b.csv", strings.NewReader(second))
		if err != nil || res.Created != 1 || res.Updated != 1 || res.Unchanged != 1 {
			t.Fatalf("second import = %+v, %v; want 1 created, 1 updated, 1 unchanged", res, err)
		}
		list, err := w.s.Deployments(ctx, exit.National)
		if err != nil || len(list) != 3 {
			t.Fatalf("%d deployments, %v", len(list), err)
		}
		for _, d := range list {
			if d.Organisation.ODS() != "RJ7" {
				continue
			}
			got := datesOf(d)
			if d.Product != "Lorenzo" || d.Path != exit.PathOpen || d.Notes != "First plan" || got["award_plan"] != "2027-06-30" ||
				got["cutover_plan"] != "2028-05-31" || d.Version != 2 {
				t.Fatalf("RJ7's deployment after the update: %+v %v", d, got)
			}
		}
	})
}

// TestBadImportFilesSaveNothing: each kind of problem is named by row and
// column in plain English, and nothing from the file is saved, not even
// its good rows.
func TestBadImportFilesSaveNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newImportWorld(t, db)
		recorded := "national_contract,ods_code,system_type,product,award_plan\nLSP-NORTH,RR8,epr,Lorenzo EPR,2027-09-30\n"
		if _, err := w.s.ImportDeployments(ctx, w.admin, "recorded.csv", strings.NewReader(recorded)); err != nil {
			t.Fatal(err)
		}
		good := "LSP-LONDON,RJ7,pas,Lorenzo\n"
		head := "national_contract,ods_code,system_type,product,path,award_plan,cutover_plan,award_actual\n"
		big := domaintest.SheetCSV(t, w.rows(t, 765))
		cases := []struct {
			name string
			file []byte
			want []string
		}{
			{"unknown trust", []byte(head + good + "LSP-LONDON,RXX1,pas,Lorenzo\n"), []string{"Row 3: ODS code RXX1 is not a trust in the portal"}},
			{"not a date", []byte(head + "LSP-LONDON,RJ7,pas,Lorenzo,,,31/02/2016\n"),
				[]string{"Row 2: cutover_plan '31/02/2016' is not a date: use YYYY-MM-DD or DD/MM/YYYY"}},
			{"cut-over before the award", []byte(head + "LSP-LONDON,RJ7,pas,Lorenzo,,2027-06-30,2027-01-31\n"),
				[]string{"Row 2: The planned cut-over date (31 January 2027) cannot be before the planned award date (30 June 2027)"}},
			{"actual date to come", []byte(head + "LSP-LONDON,RJ7,pas,Lorenzo,,,,2027-01-01\n"),
				[]string{"Row 2: The actual date of the award cannot be in the future"}},
			{"repeated row", []byte(head + good + "\n" + strings.ToLower(good)),
				[]string{"Row 4: This is the same deployment as row 2"}},
			{"problems in the file and in the portal", []byte(head + "LSP-LONDON,RXX1,pas,Lorenzo\nLSP-LONDON,RJ7,pas,Lorenzo,,,31/02/2016\n"),
				[]string{"Row 2: ODS code RXX1 is not a trust in the portal", "Row 3: cutover_plan '31/02/2016' is not a date"}},
			{"unknown column", []byte("national_contract,ods_code,system_type,product,colour\n" + good), []string{"Row 1: The column 'colour' is not one the import reads"}},
			{"missing column", []byte("national_contract,ods_code,system_type\nLSP-LONDON,RJ7,pas\n"), []string{"Row 1: The file is missing the column product"}},
			{"repeated column", []byte("national_contract,ods_code,system_type,product,Product\n" + good), []string{"Row 1: The product column appears more than once"}},
			{"unknown national contract", []byte(head + "LSP-MARS,RJ7,pas,Lorenzo\n"), []string{"Row 2: National contract LSP-MARS is not recorded in the portal"}},
			{"bad system type and path", []byte(head + "LSP-LONDON,RJ7,mainframe,Lorenzo,lottery\n"),
				[]string{"Row 2: system_type 'mainframe' is not a system type", "Row 2: path 'lottery' is not an exit path"}},
			{"empty cells", []byte(head + ",,,,open\n"), []string{"Row 2: Enter the national contract's reference", "Row 2: Enter the trust's ODS code", "Row 2: Enter the system type", "Row 2: Enter the product's name"}},
			{"merged dates out of order", []byte("national_contract,ods_code,system_type,product,cutover_plan\nLSP-NORTH,RR8,epr,Lorenzo EPR,2027-03-31\n"),
				[]string{"Row 2: The planned cut-over date (31 March 2027) cannot be before the planned award date (30 September 2027). One of the dates is already recorded in the portal"}},
			{"one bad row in 765", append(append([]byte(nil), big...), "LSP-SOUTH,R1C,pas,Lorenzo,,,,,,,,,,not a date\n"...), []string{"Row 767: cutover_plan 'not a date' is not a date"}},
			{"empty file", []byte("\uFEFF \n"), []string{"The file is empty"}},
			{"header only", []byte(head), []string{"The file has no deployments"}},
			{"unclosed quote", []byte(head + "LSP-LONDON,RJ7,\"pas,Lorenzo\n"), []string{"Row 2: This row could not be read"}},
			{"not UTF-8", []byte(head + "LSP-LONDON,RJ7,pas,Caf\xe9\n"), []string{"The file is not a CSV file in UTF-8"}},
			{"damaged workbook", []byte("PK\x03\x04 not really a zip"), []string{"could not be opened as an Excel workbook"}},
			{"old workbook", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, []string{"old Excel workbook (.xls)"}},
			{"workbook with a bad row", domaintest.SheetXLSX(t, [][]string{{"National contract", "ODS code", "System type", "Product"}, {"LSP-LONDON", "RXX1", "EPR", "Epic"}}),
				[]string{"Row 2: ODS code RXX1 is not a trust in the portal"}},
		}
		deployments, audits := w.count(t, "deployments"), w.count(t, "audit_entries")
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := w.s.ImportDeployments(ctx, w.admin, "bad.csv", bytes.NewReader(c.file))
				got := problems(t, err)
				for _, want := range c.want {
					found := false
					for _, p := range got {
						found = found || strings.HasPrefix(p, want) || (!strings.HasPrefix(want, "Row") && strings.Contains(p, want))
					}
					if !found {
						t.Errorf("problems %q lack %q", got, want)
					}
				}
				if n := w.count(t, "deployments"); n != deployments {
					t.Errorf("%d deployments saved from a bad file", n-deployments)
				}
				if n := w.count(t, "audit_entries"); n != audits {
					t.Errorf("%d audit entries written for a bad file", n-audits)
				}
			})
		}
	})
}

// TestImportRefusesContradictingRules: deploying a system type under a
// national contract whose 'procurement complete by' date leaves it less
// than its migration lead time makes the rules contradict each other, so
// the file is refused whole.
func TestImportRefusesContradictingRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newImportWorld(t, db)
		south := w.contracts["Y57"]
		completeBy := time.Date(2027, time.September, 30, 0, 0, 0, 0, uktime.Location).UTC()
		in := domaintest.ExitContracts["Y57"]
		in.ProcurementCompleteBy, in.Version = &completeBy, south.Version
		if _, err := w.s.SaveNationalContract(ctx, w.admin, south.ID, in); err != nil {
			t.Fatal(err)
		}
		// Six months from 30 September 2027 to 31 March 2028: enough for
		// a clinical portal (6 months), not for an EPR (12).
		file := "national_contract,ods_code,system_type,product\nLSP-SOUTH,R1C,clinical portal,Orion\nLSP-SOUTH,R1F,epr,Epic\n"
		got := problems(t, func() error {
			_, err := w.s.ImportDeployments(ctx, w.admin, "south.csv", strings.NewReader(file))
			return err
		}())
		if len(got) != 1 || !strings.Contains(got[0], "The rules contradict each other: LSP-SOUTH asks for procurement to be complete by 30 September 2027, but EPR migration needs 12 months") {
			t.Fatalf("problems = %q", got)
		}
		if n := w.count(t, "deployments"); n != 0 {
			t.Fatalf("%d deployments saved", n)
		}
		ok := "national_contract,ods_code,system_type,product\nLSP-SOUTH,R1C,clinical portal,Orion\n"
		if res, err := w.s.ImportDeployments(ctx, w.admin, "south.csv", strings.NewReader(ok)); err != nil || res.Created != 1 {
			t.Fatalf("import = %+v, %v", res, err)
		}
	})
}

// TestOnlyAdministratorsImport: a trust lead is refused, the refusal
// audited, and nothing is saved or checked for them.
func TestOnlyAdministratorsImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newImportWorld(t, db)
		lead := domaintest.DemoActor(t, db, "demo-trust-lead")
		file := "national_contract,ods_code,system_type,product\nLSP-LONDON,RJ7,pas,Lorenzo\n"
		if _, err := w.s.ImportDeployments(ctx, lead, "a.csv", strings.NewReader(file)); !errors.Is(err, exit.ErrNotAdmin) {
			t.Fatalf("trust lead's import: err = %v, want ErrNotAdmin", err)
		}
		if _, err := w.s.CheckDeployments(ctx, lead, "a.csv", strings.NewReader("nonsense")); !errors.Is(err, exit.ErrNotAdmin) {
			t.Fatalf("trust lead's check: err = %v, want ErrNotAdmin", err)
		}
		var denied int64
		db.Model(&audit.Entry{}).Where("action = ? AND outcome = ?", "deployment.import", audit.Denied).Count(&denied)
		if denied != 2 || w.count(t, "deployments") != 0 {
			t.Fatalf("%d refusals audited, %d deployments", denied, w.count(t, "deployments"))
		}
	})
}

// TestImportRefusesAZipBomb: a small workbook that unzips to more than the
// limit is refused before it is expanded in memory.
func TestImportRefusesAZipBomb(t *testing.T) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		f, _ := z.Create(name)
		_, _ = f.Write([]byte("<?xml version=\"1.0\"?><x/>"))
	}
	f, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 120 {
		if _, err := f.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 1<<20 {
		t.Fatalf("bomb is %d bytes; it should be small", buf.Len())
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newImportWorld(t, db)
		_, err := w.s.ImportDeployments(context.Background(), w.admin, "bomb.xlsx", bytes.NewReader(buf.Bytes()))
		if got := problems(t, err); len(got) != 1 || !strings.Contains(got[0], "could not be opened as an Excel workbook") {
			t.Fatalf("problems = %q", got)
		}
	})
}

// BenchmarkImport765 imports the national programme's 765 deployments into
// an empty tracker.
func BenchmarkImport765(b *testing.B) {
	for _, kind := range storetest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				w := newImportWorld(b, storetest.Open(b, kind))
				file := domaintest.SheetCSV(b, w.rows(b, 765))
				b.StartTimer()
				res, err := w.s.ImportDeployments(context.Background(), w.admin, "d.csv", bytes.NewReader(file))
				if err != nil || res.Created != 765 {
					b.Fatalf("import = %+v, %v", res, err)
				}
			}
		})
	}
}
