package e2e_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
)

// TestExitDashboardJourney drives a real Chromium through the exit
// tracker with the demo's 765 deployments, on every database kind: the
// national viewer sees the charts beside their tables, follows the red
// count to the drill-down (every row red, each with its reason), opens a
// deployment, and narrows the dashboard to a consortium; St George's trust
// lead opens the trust's dashboard, records a deployment's exit plan
// through the form, and sees it saved with the rating worked out again.
func TestExitDashboardJourney(t *testing.T) {
	exe := chromiumPath(t)
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		started := time.Now()
		ctx := context.Background()
		if _, err := exit.SeedDemo(ctx, h.App.DB.DB, h.App.Audit, h.Clock.Now(), 1); err != nil {
			t.Fatal(err)
		}
		ncs, err := h.App.Exit.NationalContracts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var london string
		for _, nc := range ncs {
			if nc.Area == "Y56" {
				london = nc.ID
			}
		}
		fresh, err := h.App.Exit.CreateDeployment(ctx, h.Actor(t, "demo-platform-admin", orgs.KindPlatform, orgs.DemoPlatform), exit.DeploymentInput{
			NationalContractID: london, OrganisationID: h.Org(t, orgs.KindTrust, "RJ7").ID, SystemType: exit.SystemEPR, Product: "Journey EPR"})
		if err != nil {
			t.Fatal(err)
		}
		j := &journey{t: t, h: h, b: startBrowser(t, exe)}
		helen, aisha := j.open("exit-national"), j.open("exit-trust")

		helen.signIn("demo-national-viewer")
		helen.clickLink("Exit tracker")
		helen.expectPath("/exit")
		helen.expectText("h2#summary", fmt.Sprintf("%d deployments", exit.DemoDeployments+1))
		if n := eval[int](helen, `document.querySelectorAll('main svg[role="img"] desc').length`); n < 5 {
			helen.fatalf("%d charts with a description, want the trend and four groupings", n)
		}
		for _, id := range []string{"#trend-table", "#by-region-table", "#by-system-table", "#by-path-table", "#by-stage-table", "#trusts-table"} {
			if eval[int](helen, fmt.Sprintf(`document.querySelectorAll('%s tbody tr').length`, id)) == 0 {
				helen.fatalf("table %s is empty", id)
			}
		}
		red := helen.text("#count-red")
		helen.shot("x01-national-dashboard")

		// Follow the red count to the drill-down.
		helen.click("the red count", css("#rating-counts a[href*='rating=red']"), 200)
		helen.expectText("#showing", "of "+red)
		tags := eval[[]string](helen, `Array.from(document.querySelectorAll('#deployments-table tbody .nhsuk-tag')).map(t => t.textContent.trim())`)
		if len(tags) == 0 {
			helen.fatalf("the red drill-down lists nothing")
		}
		for _, tag := range tags {
			if tag != "Red" {
				helen.fatalf("the red drill-down lists a %s deployment", tag)
			}
		}
		helen.expectText("#deployments-table", "red: ")
		helen.shot("x02-red-drill-down")
		helen.click("the first deployment", css("#deployments-table tbody a"), 200)
		helen.expectText("#reason", "red: ")
		helen.expectText("#milestones", "Cut-over")
		helen.shot("x03-deployment")

		// Narrow the dashboard to a consortium.
		helen.navigate("/exit", 200)
		helen.selectOption("consortium", "South London Clinical Systems Consortium")
		helen.click("Show the dashboard", button("Show the dashboard"), 200)
		helen.expectText(".nhsuk-caption-l", "South London Clinical Systems Consortium")
		helen.shot("x04-consortium-dashboard")

		// The trust lead keeps an exit plan.
		aisha.signIn("demo-trust-lead")
		aisha.clickLink("Exit tracker")
		aisha.expectText(".nhsuk-caption-l", stGeorges)
		aisha.expectText("#deployments-table", "Journey EPR")
		aisha.click("the new deployment", css("#deployments-table a[href='/exit/deployments/"+fresh.ID+"']"), 200)
		aisha.expectText("#stage", "Not started")
		aisha.choose("path-" + exit.PathCallOff)
		today := h.Clock.Now()
		aisha.typeDate("procurement_start_actual", fmt.Sprint(today.Day()), fmt.Sprint(int(today.Month())), fmt.Sprint(today.Year()), "")
		aisha.typeInto("notes", "Calling off the consortium's framework.")
		aisha.click("Save the exit plan", button("Save the exit plan"), 200)
		aisha.expectFlash("Exit plan saved")
		aisha.expectText("#deployment-summary", "Call-off from a framework in the portal")
		aisha.expectText("#stage", "Procurement in progress")
		aisha.expectText("#reason", "procurement started on")
		aisha.shot("x05-exit-plan-saved")
		t.Logf("%s: exit dashboard journey took %s", h.Kind, time.Since(started).Round(time.Millisecond))
	})
}
