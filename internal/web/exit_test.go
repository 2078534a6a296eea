package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
)

// exitDeployments records, through the domain, the London national
// contract (last day 30 June 2028) and deployments under it: an EPR and a
// PAS at St George's (RJ7) and a PACS at Guy's and St Thomas' (RJ1), plus
// extra PACS deployments at RJ1 numbered from 1. It returns the three
// named deployments.
func exitDeployments(t *testing.T, h *apptest.Harness, extra int) (epr, pas, pacs *exit.Deployment) {
	t.Helper()
	ctx := context.Background()
	admin := h.Actor(t, "demo-platform-admin", orgs.KindPlatform, orgs.DemoPlatform)
	nc, err := h.App.Exit.SaveNationalContract(ctx, admin, "", exit.NationalContractInput{
		Reference: "LSP-LONDON", SupplierName: "BT", Area: "Y56", ExpiresOn: time.Date(2028, 6, 30, 0, 0, 0, 0, uktime.Location)})
	if err != nil {
		t.Fatal(err)
	}
	rj7, rj1 := h.Org(t, orgs.KindTrust, "RJ7").ID, h.Org(t, orgs.KindTrust, "RJ1").ID
	add := func(trust, system, product string) *exit.Deployment {
		d, err := h.App.Exit.CreateDeployment(ctx, admin, exit.DeploymentInput{NationalContractID: nc.ID, OrganisationID: trust, SystemType: system, Product: product})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	epr, pas, pacs = add(rj7, exit.SystemEPR, "Cerner Millennium"), add(rj7, exit.SystemPAS, "RiO"), add(rj1, exit.SystemPACS, "Sectra")
	for i := 1; i <= extra; i++ {
		add(rj1, exit.SystemPACS, fmt.Sprintf("Sectra site %d", i))
	}
	return epr, pas, pacs
}

// TestExitDashboard: the national view counts every deployment with
// charts beside tables, drills down by rating and trust, and exports CSV;
// a trust lead sees only the trust's own deployments, cannot open
// another trust's, and keeps the exit plan through the form (a cut-over
// before the award refused with nothing saved).
func TestExitDashboard(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		epr, pas, pacs := exitDeployments(t, h, 0)
		ctx := context.Background()
		aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
		today := exit.Day(h.Clock.Now())
		if err := h.App.Exit.UpdatePlan(ctx, aisha, pas.ID, exit.PlanInput{Path: exit.PathDirect, Version: pas.Version, Milestones: exit.Milestones{
			AwardActual: &today, SignedActual: &today, MigrationStartActual: &today, CutoverActual: &today}}); err != nil {
			t.Fatal(err)
		}

		helen := h.Browser(t)
		helen.SignInAs("demo-national-viewer")
		r := helen.Get("/exit")
		if r.Status != http.StatusOK {
			t.Fatalf("national dashboard: status %d\n%s", r.Status, r.Body)
		}
		for _, want := range []string{`id="count-green">1<`, `id="count-amber">1<`, `id="count-red">1<`, `role="img"`, `id="by-region-table"`,
			`id="by-system-table"`, `id="trend-table"`, `id="trusts-table"`, "Cerner Millennium", "Sectra", "red: no procurement started, 19 months before expiry"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("national dashboard lacks %q", want)
			}
		}
		r = helen.Get("/exit?rating=green")
		if !strings.Contains(r.Body, "RiO") || strings.Contains(r.Body, `/exit/deployments/`+epr.ID) || !strings.Contains(r.Body, "green: cut over on") {
			t.Errorf("drill-down to green:\n%s", r.Body)
		}
		r = helen.Get("/exit?trust=" + pacs.OrganisationID)
		if !strings.Contains(r.Body, `/exit/deployments/`+pacs.ID) || strings.Contains(r.Body, `/exit/deployments/`+epr.ID) {
			t.Errorf("drill-down to RJ1 lists the wrong deployments")
		}
		r = helen.Get("/exit/deployments/" + epr.ID)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="reason"`) || strings.Contains(r.Body, `action="/exit/deployments/`) {
			t.Errorf("national viewer's deployment page: status %d (a form would be wrong)", r.Status)
		}
		r = helen.Get("/exit.csv?rating=amber")
		rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil || len(rows) != 2 || rows[0][9] != "rating" || rows[1][9] != exit.Amber || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("CSV export: %v %v", rows, err)
		}

		lead := h.Browser(t)
		lead.SignInAs("demo-trust-lead")
		r = lead.Get("/exit")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Cerner Millennium") || strings.Contains(r.Body, "Sectra") || strings.Contains(r.Body, `id="consortium"`) {
			t.Errorf("trust lead's dashboard shows another trust's deployments or the national choice")
		}
		// The scope comes from the acting organisation: parameters naming
		// another trust or a consortium do not widen it, on the page or in
		// the export.
		london := h.Org(t, orgs.KindConsortium, orgs.DemoLondon).ID
		for _, u := range []string{"/exit?trust=" + pacs.OrganisationID, "/exit?consortium=" + london, "/exit.csv?trust=" + pacs.OrganisationID} {
			if r := lead.Get(u); r.Status != http.StatusOK || strings.Contains(r.Body, "Sectra") || strings.Contains(r.Body, pacs.ID) {
				t.Errorf("%s for St George's trust lead: status %d, or it shows Guy's and St Thomas' deployment", u, r.Status)
			}
		}
		if r := lead.Get("/exit/deployments/" + pacs.ID); r.Status != http.StatusNotFound {
			t.Errorf("another trust's deployment: status %d", r.Status)
		}
		page := "/exit/deployments/" + epr.ID
		form := url.Values{"path": {exit.PathCallOff}, "version": {"1"}, "notes": {"Calling off the London framework"}}
		setDate := func(name string, d time.Time) {
			form.Set(name+"-day", fmt.Sprint(d.Day()))
			form.Set(name+"-month", fmt.Sprint(int(d.Month())))
			form.Set(name+"-year", fmt.Sprint(d.Year()))
		}
		setDate("award_plan", time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC))
		setDate("cutover_plan", time.Date(2027, 8, 1, 0, 0, 0, 0, time.UTC))
		form.Set("migration_start_plan-day", "31")
		form.Set("migration_start_plan-month", "2")
		form.Set("migration_start_plan-year", "2027")
		r = lead.PostForm(page, page, form)
		if r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "The planned cut-over date (1 August 2027) cannot be before the planned award date (1 September 2027)") ||
			!strings.Contains(errorSummary(r.Body), "Enter a real date") || !strings.Contains(r.Body, "Calling off the London framework") {
			t.Fatalf("bad plan: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		form.Del("migration_start_plan-day")
		form.Del("migration_start_plan-month")
		form.Del("migration_start_plan-year")
		setDate("cutover_plan", time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC))
		if d, _ := h.App.Exit.Deployment(ctx, epr.ID); d.Version != 1 || d.Path != exit.PathNone {
			t.Fatalf("a refused plan saved: %+v", d)
		}
		if r := lead.PostForm(page, page, form); r.Status != http.StatusSeeOther {
			t.Fatalf("plan: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		r = lead.Get(page)
		if !strings.Contains(r.Body, "Exit plan saved") || !strings.Contains(r.Body, "1 March 2028") || !strings.Contains(r.Body, "Call-off from a framework in the portal") {
			t.Errorf("after saving the plan:\n%s", r.Body)
		}

		sarah := h.Browser(t)
		sarah.SignInAs("demo-supplier")
		if r := sarah.Get("/exit"); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
			t.Errorf("supplier on the exit tracker: status %d", r.Status)
		}
		if r := sarah.Get(page); r.Status != http.StatusNotFound {
			t.Errorf("supplier on a deployment: status %d", r.Status)
		}
	})
}

// TestExitDashboardQueries counts the database queries one national
// dashboard request makes (those made in the request's context): the same
// with 3 deployments as with 63, so nothing is read once per deployment,
// trust or group.
func TestExitDashboardQueries(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		helen := h.Browser(t)
		helen.SignInAs("demo-national-viewer")
		var n atomic.Int64
		// Only queries made while serving a request count: the
		// background jobs share the database handle.
		counter := func(db *gorm.DB) {
			if ctx := db.Statement.Context; ctx != nil && ctx.Value(http.ServerContextKey) != nil {
				n.Add(1)
			}
		}
		cb := h.App.DB.Callback()
		for i, reg := range []interface {
			Register(string, func(*gorm.DB)) error
		}{cb.Query().After("gorm:query"), cb.Row().After("gorm:row"), cb.Raw().After("gorm:raw")} {
			if err := reg.Register(fmt.Sprintf("test:count_queries_%d", i), counter); err != nil {
				t.Fatal(err)
			}
		}
		count := func() int64 {
			helen.Get("/exit") // warm: the session's first request may do more
			n.Store(0)
			if r := helen.Get("/exit"); r.Status != http.StatusOK {
				t.Fatalf("dashboard: status %d", r.Status)
			}
			return n.Load()
		}
		exitDeployments(t, h, 0)
		few := count()
		admin := h.Actor(t, "demo-platform-admin", orgs.KindPlatform, orgs.DemoPlatform)
		list, _ := h.App.Exit.NationalContracts(context.Background())
		for i := 0; i < 60; i++ {
			trust := h.Org(t, orgs.KindTrust, "RJ7").ID
			if i%2 == 1 {
				trust = h.Org(t, orgs.KindTrust, "RJ1").ID
			}
			if _, err := h.App.Exit.CreateDeployment(context.Background(), admin, exit.DeploymentInput{NationalContractID: list[0].ID, OrganisationID: trust,
				SystemType: exit.SystemTypes[i%len(exit.SystemTypes)], Product: fmt.Sprintf("Product %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		many := count()
		if few != many || many > 15 {
			t.Errorf("a dashboard request made %d queries with 3 deployments and %d with 63; want the same, and few", few, many)
		}
		t.Logf("%d queries per dashboard request", many)
	})
}
