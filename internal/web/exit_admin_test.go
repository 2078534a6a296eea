package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/web"
)

// eachExitAdmin runs fn on a portal of every database without the exit
// tracker's demo deployments, so the tests count their own.
func eachExitAdmin(t *testing.T, fn func(t *testing.T, h *apptest.Harness)) {
	t.Helper()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, apptest.New(t, kind, func(_ *config.Config, o *app.Options) { o.NoExitDemo = true }))
		})
	}
}

func deploymentCount(t *testing.T, h *apptest.Harness) int64 {
	t.Helper()
	var n int64
	if err := h.App.DB.Model(&exit.Deployment{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var importCheckLocation = regexp.MustCompile(`^/exit/admin/import/([0-9a-f-]{36})$`)

// TestExitAdminNationalContracts: the platform administrator adds and
// changes a national contract through the form, which keeps what was
// typed and names each problem beside its field.
func TestExitAdminNationalContracts(t *testing.T) {
	eachExitAdmin(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		b := h.Browser(t)
		b.SignInAs("demo-platform-admin")
		page := "/exit/admin/national-contracts/new"
		if r := b.Get(page); r.Status != http.StatusOK || !strings.Contains(r.Body, `<option value="Y56">London</option>`) {
			t.Fatalf("form: status %d", r.Status)
		}
		form := url.Values{"reference": {"lsp-london"}, "supplier_name": {"BT Global Services"}, "area": {"Y56"},
			"expires_on-day": {"31"}, "expires_on-month": {"2"}, "expires_on-year": {"2028"}}
		r := b.PostForm(page, page, form)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "nhsuk-error-summary") || !strings.Contains(r.Body, "Enter the last day as a real date") ||
			!strings.Contains(r.Body, `value="BT Global Services"`) || !strings.Contains(r.Body, `<option value="Y56" selected>`) {
			t.Fatalf("impossible date: status %d\n%s", r.Status, r.Body)
		}
		form.Set("expires_on-day", "31")
		form.Set("expires_on-month", "10")
		form.Set("procurement_complete_by-day", "1")
		form.Set("procurement_complete_by-month", "11")
		form.Set("procurement_complete_by-year", "2028")
		r = b.PostForm(page, page, form)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "must be on or before the contract&#39;s last day, 31 October 2028") {
			t.Fatalf("complete-by after the last day: status %d", r.Status)
		}
		form.Set("procurement_complete_by-year", "2027")
		if r = b.PostForm(page, page, form); r.Status != http.StatusSeeOther || r.Location != "/exit/admin" {
			t.Fatalf("add: status %d location %q\n%s", r.Status, r.Location, r.Body)
		}
		list := b.Get("/exit/admin")
		if !strings.Contains(list.Body, "National contract added") || !strings.Contains(list.Body, "LSP-LONDON") || !strings.Contains(list.Body, "1 November 2027") {
			t.Fatalf("overview does not show the new contract:\n%s", list.Body)
		}
		ncs, err := h.App.Exit.NationalContracts(ctx)
		if err != nil || len(ncs) != 1 {
			t.Fatalf("national contracts %v, %v", ncs, err)
		}
		edit := "/exit/admin/national-contracts/" + ncs[0].ID
		shown := b.Get(edit)
		for _, want := range []string{`value="LSP-LONDON"`, `name="expires_on-day" type="text" inputmode="numeric" value="31"`, `name="procurement_complete_by-month" type="text" inputmode="numeric" value="11"`} {
			if !strings.Contains(shown.Body, want) {
				t.Fatalf("change form lacks %s", want)
			}
		}
		form.Set("supplier_name", "BT")
		form.Set("version", "1")
		if r = b.PostForm(edit, edit, form); r.Status != http.StatusSeeOther {
			t.Fatalf("change: status %d\n%s", r.Status, r.Body)
		}
		if r = b.PostForm(edit, edit, form); r.Status != http.StatusConflict {
			t.Fatalf("stale change: status %d, want 409", r.Status)
		}
		if n, _ := h.App.Exit.NationalContract(ctx, ncs[0].ID); n.SupplierName != "BT" || n.Version != 2 {
			t.Fatalf("after the change: %+v", n)
		}
		if r = b.Get("/exit/admin/national-contracts/no-such-contract"); r.Status != http.StatusNotFound {
			t.Fatalf("missing contract: status %d", r.Status)
		}
	})
}

// TestExitAdminImport: a file is uploaded, checked with nothing imported,
// then imported on confirmation; a bad file lists its problems row by row
// and cannot be imported; the template names every column.
func TestExitAdminImport(t *testing.T) {
	eachExitAdmin(t, func(t *testing.T, h *apptest.Harness) {
		admin := domaintest.DemoActor(t, h.App.DB, "demo-platform-admin")
		domaintest.RecordExitContracts(t, h.App.Exit, admin)
		b := h.Browser(t)
		b.SignInAs("demo-platform-admin")
		page := "/exit/admin/import"
		guide := b.Get(page)
		if guide.Status != http.StatusOK || !strings.Contains(guide.Body, "<code>cutover_actual</code>") || !strings.Contains(guide.Body, `enctype="multipart/form-data"`) {
			t.Fatalf("import page: status %d", guide.Status)
		}
		tpl := b.Get(page + "/template.csv")
		if tpl.Status != http.StatusOK || strings.TrimSpace(tpl.Body) != strings.Join(exit.ImportColumns, ",") || !strings.Contains(tpl.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("template: status %d %q", tpl.Status, tpl.Body)
		}

		rows := domaintest.ExitDeploymentRows(t, h.App.DB, exit.Day(h.Clock.Now()), 765)
		up := uploadFile(t, h, b, page, page, "deployments.csv", domaintest.SheetCSV(t, rows))
		m := importCheckLocation.FindStringSubmatch(up.Location)
		if up.Status != http.StatusSeeOther || m == nil {
			t.Fatalf("upload: status %d location %q\n%s", up.Status, up.Location, up.Body)
		}
		check := b.Get(up.Location)
		if check.Status != http.StatusOK || !strings.Contains(check.Body, `id="created">765<`) || !strings.Contains(check.Body, "Import 765 rows") {
			t.Fatalf("check page: status %d\n%s", check.Status, check.Body)
		}
		if n := deploymentCount(t, h); n != 0 {
			t.Fatalf("%d deployments imported before confirming", n)
		}
		done := b.PostForm(up.Location, up.Location, nil)
		if done.Status != http.StatusSeeOther || done.Location != "/exit/admin" {
			t.Fatalf("confirm: status %d\n%s", done.Status, done.Body)
		}
		if r := b.Get("/exit/admin"); !strings.Contains(r.Body, "Imported 765 rows: 765 new, 0 updated, 0 unchanged") {
			t.Fatal("no confirmation of the import")
		}
		if n := deploymentCount(t, h); n != 765 {
			t.Fatalf("%d deployments after importing, want 765", n)
		}

		// A workbook changing one deployment's plan.
		xlsx := domaintest.SheetXLSX(t, [][]string{rows[0], append(append([]string(nil), rows[1][:13]...), "2029-01-31", "", "Cut-over moved")}, exit.PlanField(exit.MilestoneCutover))
		up = uploadFile(t, h, b, page, page, "changes.xlsx", xlsx)
		if check = b.Get(up.Location); !strings.Contains(check.Body, `id="updated">1<`) {
			t.Fatalf("workbook check: status %d %q\n%s", check.Status, up.Location, check.Body)
		}

		// A bad file: every problem by row, nothing imported, even when
		// confirmed regardless.
		bad := "national_contract,ods_code,system_type,product,award_plan,cutover_plan\n" +
			"LSP-LONDON,RJ7,pas,New PAS,2027-06-30,2028-03-31\n" +
			"LSP-LONDON,RXX1,pas,New PAS,,\n" +
			"LSP-LONDON,RJ1,epr,New EPR,2027-06-30,31/02/2016\n"
		up = uploadFile(t, h, b, page, page, "bad.csv", []byte(bad))
		check = b.Get(up.Location)
		for _, want := range []string{"The file cannot be imported", "The file has 2 problems and nothing has been imported", `href="#problems"`,
			"Row 3: ODS code RXX1 is not a trust in the portal", "Row 4: cutover_plan &#39;31/02/2016&#39; is not a date: use YYYY-MM-DD or DD/MM/YYYY"} {
			if !strings.Contains(check.Body, want) {
				t.Errorf("bad file's check page lacks %q", want)
			}
		}
		if strings.Contains(check.Body, "Import 3 rows") {
			t.Error("a bad file offers to import")
		}
		if r := b.PostForm(up.Location, up.Location, nil); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Row 3: ODS code RXX1") {
			t.Fatalf("confirming a bad file: status %d", r.Status)
		}
		if n := deploymentCount(t, h); n != 765 {
			t.Fatalf("%d deployments after a bad file, want 765", n)
		}

		// Someone else's document is not an import file.
		if r := b.Get("/exit/admin/import/00000000-0000-0000-0000-000000000000"); r.Status != http.StatusNotFound {
			t.Fatalf("unknown file: status %d", r.Status)
		}
	})
}

// rulesValues is the rules form filled in with r.
func rulesValues(r exit.Rules) url.Values {
	f := url.Values{}
	for t, m := range r.MigrationMonths {
		f.Set(exit.MigrationField(t), strconv.Itoa(m))
	}
	for p, m := range r.ProcurementMonths {
		f.Set(exit.ProcurementField(p), strconv.Itoa(m))
	}
	f.Set(exit.FieldRedBelow, strconv.Itoa(r.RedBelow))
	f.Set(exit.FieldAmberBelow, strconv.Itoa(r.AmberBelow))
	return f
}

// TestExitAdminRules: the rules page explains how ratings are worked out;
// thresholds and lead times that contradict each other or a national
// contract are shown beside their fields and nothing is saved.
func TestExitAdminRules(t *testing.T) {
	eachExitAdmin(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		admin := domaintest.DemoActor(t, h.App.DB, "demo-platform-admin")
		south := domaintest.RecordExitContracts(t, h.App.Exit, admin)["Y57"]
		in := domaintest.ExitContracts["Y57"]
		// Six months before the last day, 31 March 2028: enough for a
		// clinical portal's 6 months of migration, and no more.
		completeBy := time.Date(2027, time.September, 30, 0, 0, 0, 0, uktime.Location).UTC()
		in.ProcurementCompleteBy, in.Version = &completeBy, south.Version
		if _, err := h.App.Exit.SaveNationalContract(ctx, admin, south.ID, in); err != nil {
			t.Fatal(err)
		}
		file := "national_contract,ods_code,system_type,product\nLSP-SOUTH,R1C,clinical portal,Orion\n"
		if _, err := h.App.Exit.ImportDeployments(ctx, admin, "south.csv", strings.NewReader(file)); err != nil {
			t.Fatal(err)
		}

		b := h.Browser(t)
		b.SignInAs("demo-platform-admin")
		page := "/exit/admin/rules"
		shown := b.Get(page)
		if shown.Status != http.StatusOK || !strings.Contains(shown.Body, "How a rating is worked out") || !strings.Contains(shown.Body, "Slack of less than 0 months is <strong>red</strong>; less than 3 months, <strong>amber</strong>") ||
			!strings.Contains(shown.Body, `id="migration_epr" name="migration_epr" type="text" value="12"`) {
			t.Fatalf("rules page: status %d\n%s", shown.Status, shown.Body)
		}

		f := rulesValues(exit.DefaultRules())
		f.Set(exit.FieldRedBelow, "3")
		f.Set(exit.FieldAmberBelow, "2")
		f.Set(exit.MigrationField(exit.SystemClinicalPortal), "9")
		f.Set(exit.MigrationField(exit.SystemPACS), "nine")
		r := b.PostForm(page, page, f)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `id="migration_pacs-error"`) || !strings.Contains(r.Body, `value="nine"`) {
			t.Fatalf("not a number: status %d\n%s", r.Status, r.Body)
		}
		f.Set(exit.MigrationField(exit.SystemPACS), "9")
		r = b.PostForm(page, page, f)
		if r.Status != http.StatusBadRequest ||
			!strings.Contains(r.Body, "The amber threshold (2 months) must be more than the red threshold (3 months)") ||
			!strings.Contains(r.Body, `id="amber_below-error"`) || !strings.Contains(r.Body, `value="2"`) {
			t.Fatalf("contradicting thresholds: status %d\n%s", r.Status, r.Body)
		}
		f.Set(exit.FieldAmberBelow, "6")
		r = b.PostForm(page, page, f)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "The rules contradict each other: LSP-SOUTH asks for procurement to be complete by") ||
			!strings.Contains(r.Body, `id="migration_clinical_portal-error"`) {
			t.Fatalf("contradicting a national contract: status %d\n%s", r.Status, r.Body)
		}
		if rules, _ := h.App.Exit.Rules(ctx); rules.RedBelow != 0 || rules.MigrationMonths[exit.SystemClinicalPortal] != 6 {
			t.Fatalf("refused rules were saved: %+v", rules)
		}
		f.Set(exit.MigrationField(exit.SystemClinicalPortal), "6")
		if r = b.PostForm(page, page, f); r.Status != http.StatusSeeOther {
			t.Fatalf("save: status %d\n%s", r.Status, r.Body)
		}
		if r = b.Get(page); !strings.Contains(r.Body, "Rating rules saved") || !strings.Contains(r.Body, "Slack of less than 3 months") {
			t.Fatal("saved rules not shown")
		}
		if rules, _ := h.App.Exit.Rules(ctx); rules.RedBelow != 3 || rules.AmberBelow != 6 || rules.MigrationMonths[exit.SystemPACS] != 9 {
			t.Fatalf("saved rules: %+v", rules)
		}
	})
}

// TestExitAdminIsForAdministrators: people of other roles are refused
// every administration page and action.
func TestExitAdminIsForAdministrators(t *testing.T) {
	eachExitAdmin(t, func(t *testing.T, h *apptest.Harness) {
		admin := domaintest.DemoActor(t, h.App.DB, "demo-platform-admin")
		domaintest.RecordExitContracts(t, h.App.Exit, admin)
		ab := h.Browser(t)
		ab.SignInAs("demo-platform-admin")
		up := uploadFile(t, h, ab, "/exit/admin/import", "/exit/admin/import", "d.csv", []byte("national_contract,ods_code,system_type,product\nLSP-LONDON,RJ7,pas,Lorenzo\n"))
		if up.Status != http.StatusSeeOther {
			t.Fatalf("admin upload: status %d", up.Status)
		}
		for _, subject := range []string{"demo-trust-lead", "demo-national-viewer", "demo-auditor"} {
			b := h.Browser(t)
			b.SignInAs(subject)
			for _, path := range []string{"/exit/admin", "/exit/admin/national-contracts/new", "/exit/admin/import", "/exit/admin/rules", up.Location} {
				if r := b.Get(path); r.Status != http.StatusForbidden {
					t.Errorf("%s GET %s: status %d, want 403", subject, path, r.Status)
				}
			}
			if r := b.PostForm("/", up.Location, nil); r.Status != http.StatusForbidden {
				t.Errorf("%s confirming an import: status %d", subject, r.Status)
			}
			if r := b.PostForm("/", "/exit/admin/rules", rulesValues(exit.DefaultRules())); r.Status != http.StatusForbidden {
				t.Errorf("%s saving rules: status %d", subject, r.Status)
			}
			if r := uploadFile(t, h, b, "/", "/exit/admin/import", "d.csv", []byte("x")); r.Status != http.StatusForbidden {
				t.Errorf("%s uploading: status %d", subject, r.Status)
			}
		}
		if n := deploymentCount(t, h); n != 0 {
			t.Fatalf("%d deployments imported by people who may not", n)
		}
	})
}

// TestExitAdminRoutesByRole requests every administration route, with an
// empty form for actions, as the demo person of every role: only the
// platform administrator gets past the permission check, and nothing
// fails with a server error.
func TestExitAdminRoutesByRole(t *testing.T) {
	eachExitAdmin(t, func(t *testing.T, h *apptest.Harness) {
		var routes []web.Route
		for _, r := range h.App.Server.Routes() {
			if r.Object == "exit" && r.Action == "admin" {
				routes = append(routes, r)
			}
		}
		if len(routes) < 10 {
			t.Fatalf("%d administration routes", len(routes))
		}
		fill := strings.NewReplacer(":id", "00000000-0000-0000-0000-000000000000", ":doc", "00000000-0000-0000-0000-000000000000")
		for _, demo := range orgs.DemoUsers {
			b := h.Browser(t)
			b.SignInAs(demo.Subject)
			for _, r := range routes {
				path := fill.Replace(r.Path)
				var res apptest.Response
				if r.Method == http.MethodGet {
					res = b.Get(path)
				} else {
					res = b.PostForm("/", path, url.Values{})
				}
				admin := demo.Role == authz.PlatformAdmin
				switch {
				case admin && (res.Status == http.StatusForbidden || res.Status >= 500):
					t.Errorf("administrator %s %s: status %d", r.Method, path, res.Status)
				case !admin && res.Status != http.StatusForbidden:
					t.Errorf("%s %s %s: status %d, want 403", demo.Role, r.Method, path, res.Status)
				}
			}
		}
	})
}
