package domaintest

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
)

// ExitContracts are the national contracts the exit tracker's tests use,
// one for each English region, by region code: references, suppliers and
// areas as the national programme had them, with last days after the test
// clocks' start so plans can still be made.
var ExitContracts = map[string]exit.NationalContractInput{
	"Y56": {Reference: "LSP-LONDON", SupplierName: "BT Global Services", Area: "Y56", ExpiresOn: ukDay(2028, time.October, 31)},
	"Y54": {Reference: "LSP-NORTH", SupplierName: "CSC Computer Sciences", Area: "Y54", ExpiresOn: ukDay(2029, time.July, 31)},
	"Y55": {Reference: "LSP-MIDLANDS-EAST", SupplierName: "CSC Computer Sciences", Area: "Y55", ExpiresOn: ukDay(2029, time.July, 31)},
	"Y57": {Reference: "LSP-SOUTH", SupplierName: "Fujitsu Services", Area: "Y57", ExpiresOn: ukDay(2028, time.March, 31)},
}

func ukDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, uktime.Location).UTC()
}

// RecordExitContracts records ExitContracts through s as admin (a platform
// administrator) and returns them by region code.
func RecordExitContracts(t testing.TB, s *exit.Service, admin audit.Actor) map[string]exit.NationalContract {
	t.Helper()
	out := map[string]exit.NationalContract{}
	for region, in := range ExitContracts {
		n, err := s.SaveNationalContract(context.Background(), admin, "", in)
		if err != nil {
			t.Fatalf("national contract %s: %v", in.Reference, err)
		}
		out[region] = *n
	}
	return out
}

// exitProducts are real products of each system type, so rows read like
// the national programme's list.
var exitProducts = map[string][]string{
	exit.SystemPAS:            {"Lorenzo", "Cerner Millennium PAS", "iPM"},
	exit.SystemEPR:            {"Lorenzo EPR", "Cerner Millennium", "Epic"},
	exit.SystemClinicalPortal: {"Orion Clinical Portal", "Graphnet CareCentric"},
	exit.SystemPACS:           {"GE Centricity PACS", "Agfa Impax", "Sectra PACS"},
	exit.SystemTheatres:       {"Theatreman", "ORMIS"},
	exit.SystemHosting:        {"Data centre hosting", "Managed N3 hosting"},
	exit.SystemOther:          {"Child health", "Maternity"},
}

// ExitDeploymentRows makes an import file's rows: the header, then n
// deployments spread over the real trusts the demo data holds (from NHS
// Digital's ODS file), each under its region's contract of ExitContracts,
// a trust's rows each of a different system type (up to 7 a trust). Plans
// vary by row: none; a path only; planned dates; procurement started (and
// awarded) before today; given by label rather than code; dates as
// YYYY-MM-DD and DD/MM/YYYY. Every row is valid on and after today.
func ExitDeploymentRows(t testing.TB, db *store.DB, today time.Time, n int) [][]string {
	t.Helper()
	var trusts []orgs.Organisation
	if err := db.Where("kind = ? AND region IN ?", orgs.KindTrust, []string{"Y54", "Y55", "Y56", "Y57"}).Order("ods_code").Find(&trusts).Error; err != nil {
		t.Fatal(err)
	}
	if len(trusts) == 0 || n > len(trusts)*len(exit.SystemTypes) {
		t.Fatalf("%d trusts cannot hold %d deployments", len(trusts), n)
	}
	col := map[string]int{}
	for i, c := range exit.ImportColumns {
		col[c] = i
	}
	iso := func(t time.Time) string { return t.In(uktime.Location).Format("2006-01-02") }
	uk := func(t time.Time) string { return t.In(uktime.Location).Format("02/01/2006") }
	rows := [][]string{append([]string(nil), exit.ImportColumns...)}
	for i := range n {
		trust := trusts[i%len(trusts)]
		system := exit.SystemTypes[i/len(trusts)]
		products := exitProducts[system]
		r := make([]string, len(exit.ImportColumns))
		r[col[exit.ColNationalContract]] = ExitContracts[trust.Region].Reference
		r[col[exit.ColODSCode]] = trust.ODS()
		r[col[exit.ColSystemType]] = system
		if i%4 == 1 {
			r[col[exit.ColSystemType]] = exit.SystemLabel(system)
		}
		r[col[exit.ColProduct]] = products[i%len(products)]
		date := iso
		if i%2 == 1 {
			date = uk
		}
		month := func(k int) string { return date(today.AddDate(0, k, 0)) }
		switch i % 5 {
		case 1:
			r[col[exit.FieldPath]] = exit.PathCallOff
		case 2:
			r[col[exit.FieldPath]] = exit.PathLabel(exit.PathOpen)
			r[col[exit.PlanField(exit.MilestoneProcurementStart)]] = month(1)
			r[col[exit.PlanField(exit.MilestoneAward)]] = month(10)
			r[col[exit.PlanField(exit.MilestoneCutover)]] = month(22)
		case 3:
			r[col[exit.FieldPath]] = exit.PathCallOff
			r[col[exit.ActualField(exit.MilestoneProcurementStart)]] = month(-2)
			r[col[exit.PlanField(exit.MilestoneAward)]] = month(2)
			r[col[exit.PlanField(exit.MilestoneSigned)]] = month(3)
			r[col[exit.PlanField(exit.MilestoneMigrationStart)]] = month(4)
			r[col[exit.PlanField(exit.MilestoneCutover)]] = month(14)
			r[col[exit.FieldNotes]] = "Calling off from the South London framework"
		case 4:
			r[col[exit.FieldPath]] = exit.PathDirect
			r[col[exit.ActualField(exit.MilestoneProcurementStart)]] = month(-4)
			r[col[exit.ActualField(exit.MilestoneAward)]] = month(-1)
			r[col[exit.PlanField(exit.MilestoneSigned)]] = month(1)
		}
		rows = append(rows, r)
	}
	return rows
}

// SheetCSV writes rows as a CSV file.
func SheetCSV(t testing.TB, rows [][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// SheetXLSX writes rows as an Excel workbook's first sheet, every cell as
// text except those dateCols name (by header) holding YYYY-MM-DD dates,
// which are written as real date cells, as Excel keeps them.
func SheetXLSX(t testing.TB, rows [][]string, dateCols ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	isDate := map[int]bool{}
	for i, h := range rows[0] {
		for _, c := range dateCols {
			if h == c {
				isDate[i] = true
			}
		}
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for r, rec := range rows {
		for c, v := range rec {
			cell, err := excelize.CoordinatesToCellName(c+1, r+1)
			if err != nil {
				t.Fatal(err)
			}
			var value any = v
			if d, err := time.Parse("2006-01-02", v); err == nil && r > 0 && isDate[c] {
				value = d
				if err := f.SetCellStyle(sheet, cell, cell, style); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.SetCellValue(sheet, cell, value); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
