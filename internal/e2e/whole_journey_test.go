package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify/mailpittest"
	"github.com/nhsprocure/portal/internal/ocds/ocdstest"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestWholeJourney drives a real Chromium through the whole journey on
// PostgreSQL, through the pages only, with every email sent over SMTP to a
// real server (Mailpit): the consortium imports its requirements and sets
// up a framework; Meridian and Northgate apply and are both appointed;
// St George's calls off with Guy's and St Thomas' buying jointly; both
// suppliers ask, bid and are opened with two keys; the evaluator scores,
// the lead moderates and recommends; both trusts' boards approve; the
// standstill runs out and each trust gets its contract, which it signs and
// links to the national deployment it replaces; once cut over, each
// deployment is green on the exit dashboard. The OCDS record then
// validates, and every expected email arrived. The national contract and
// its deployments are reference data, made through the domain.
func TestWholeJourney(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skipf("%s is not set: the whole journey runs on PostgreSQL only", storetest.EnvPostgres)
	}
	exe := chromiumPath(t)
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	mp := mailpittest.Start(t)
	h := apptest.New(t, store.Postgres, func(cfg *config.Config, _ *app.Options) { cfg.SMTPURL = mp.SMTPURL })
	ctx := context.Background()
	rj7, rj1 := h.Org(t, orgs.KindTrust, "RJ7"), h.Org(t, orgs.KindTrust, "RJ1")
	h.AddPerson(t, "demo-trust-lead-gstt", "Grace Mensah", authz.TrustLead, rj1.ID)
	replaced := nationalDeployments(t, h, rj7.ID, rj1.ID)

	j := &journey{t: t, h: h, b: startBrowser(t, exe), mail: mp, appointBoth: true}
	j.lead, j.lead2 = j.open("w-lead"), j.open("w-lead-2")
	j.sarah, j.james = j.open("w-sarah"), j.open("w-james")
	j.evaluator, j.trust = j.open("w-evaluator"), j.open("w-trust-lead")
	// The call-off's lead, and each trust's lead keeping its contract.
	aishaS := j.open("w-aisha")
	contractLeads := map[string]struct {
		s       *session
		subject string
	}{rj7.ID: {j.open("w-contract-rj7"), "demo-trust-lead"}, rj1.ID: {j.open("w-contract-rj1"), "demo-trust-lead-gstt"}}
	margaret, david := j.open("w-board-rj7"), j.open("w-board-rj1")

	// The framework, from requirements to live with both suppliers.
	j.frameworkToLive()

	// The joint call-off: questions, two bids, two keys.
	page := setUpCompetition(aishaS, lot1(t, h, strings.TrimPrefix(j.fw, "/frameworks/")), rj7.ID, rj1)
	competitionID := strings.TrimPrefix(page, "/competitions/")
	askAndAnswer(j.sarah, aishaS, page)
	_, sarahSHA := bidAndResubmit(j.sarah, page, meridian, "12.50", "£1,250.00")
	j.james.signIn("demo-supplier-2")
	bidAndResubmit(j.james, page, "Northgate", "15.00", "£1,500.00")
	h.Clock.Set(h.Clock.Now().AddDate(0, 0, 30))
	openWithTwoKeys(aishaS, j.evaluator, j.sarah, page, sarahSHA, meridian, "Northgate")

	// Evaluation, the boards, the standstill and the contracts. The bids'
	// IDs and requirements are read back to address their pages.
	aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
	bids, err := h.App.Competition.OpenedBids(ctx, aisha, competitionID)
	if err != nil || len(bids) != 2 {
		t.Fatalf("opened %d bids (err %v), want 2", len(bids), err)
	}
	reqs, err := h.App.Competition.Requirements(ctx, competitionID)
	if err != nil {
		t.Fatal(err)
	}
	scoreAndRecommend(j.evaluator, aishaS, page, bids, reqs, "The same quality as the other bid at a lower price.")
	// The periodic reminders job asks each board for its decision, as it
	// would on its next run (unless its own run got there first: the
	// email check below proves each board member was asked).
	if n, err := h.App.Award.SendReminders(ctx); err != nil || n > 2 {
		t.Fatalf("sent %d board reminders (err %v), want one to each buying trust's board member", n, err)
	}
	if n, err := h.App.Award.SendReminders(ctx); err != nil || n != 0 {
		t.Fatalf("a second run sent %d board reminders (err %v)", n, err)
	}
	boardsApprove(page, map[string]*session{"demo-board-member": margaret, "demo-board-member-gstt": david})
	confirmAward(h, aishaS, page, competitionID)

	// Each trust signs its contract, links the deployment it replaces and
	// records the cut-over; the deployment turns green.
	made, err := h.App.Contracts.ForCompetition(ctx, competitionID)
	if err != nil {
		t.Fatal(err)
	}
	winner := h.Org(t, orgs.KindSupplier, "Meridian").ID
	for _, k := range made {
		lead, ok := contractLeads[k.OrganisationID]
		if !ok {
			t.Fatalf("contract %s is for an organisation that is not a buying trust", k.Reference)
		}
		if k.SupplierOrgID != winner {
			t.Fatalf("contract %s is not with %s, the recommended bidder", k.Reference, meridian)
		}
		signAndCutOver(lead.s, lead.subject, k.ID, replaced[k.OrganisationID])
	}
	if len(made) != 2 {
		t.Fatalf("%d contracts, want one for each buying trust", len(made))
	}

	checkOCDS(t, h, competitionID)
	checkEmails(t, mp)
	t.Logf("whole journey took %s", time.Since(started).Round(time.Millisecond))
}

// nationalDeployments records, as reference data, a London national
// contract and one EPR deployment under it for each trust, and returns the
// deployments' IDs by trust.
func nationalDeployments(t *testing.T, h *apptest.Harness, trusts ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	admin := h.Actor(t, "demo-platform-admin", orgs.KindPlatform, orgs.DemoPlatform)
	nc, err := h.App.Exit.SaveNationalContract(ctx, admin, "", exit.NationalContractInput{
		Reference: "LPFIT-JOURNEY", SupplierName: "BT", Area: "Y56", ExpiresOn: time.Date(2028, 10, 31, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(trusts))
	for _, org := range trusts {
		d, err := h.App.Exit.CreateDeployment(ctx, admin, exit.DeploymentInput{
			NationalContractID: nc.ID, OrganisationID: org, SystemType: exit.SystemEPR, Product: "Journey EPR"})
		if err != nil {
			t.Fatal(err)
		}
		out[org] = d.ID
	}
	return out
}

// lot1 is the ID of the framework's first lot, which the trust calls off.
func lot1(t *testing.T, h *apptest.Harness, frameworkID string) string {
	t.Helper()
	lots, err := h.App.Framework.Lots(context.Background(), frameworkID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(lots, func(l framework.Lot) bool { return l.Title == lot1Title })
	if i < 0 {
		t.Fatalf("the framework has no lot %q", lot1Title)
	}
	return lots[i].ID
}

// signAndCutOver: the trust lead records on the contract page the date
// signed and the deployment it replaces, then on the deployment page the
// cut-over; the deployment is then green, there and on the dashboard.
func signAndCutOver(s *session, subject, contractID, deploymentID string) {
	s.t.Helper()
	today := s.h.Clock.Now()
	d, m, y := fmt.Sprint(today.Day()), fmt.Sprint(int(today.Month())), fmt.Sprint(today.Year())
	s.signIn(subject)
	s.navigate("/contracts/"+contractID, 200)
	s.typeDate("signed_at", d, m, y, "")
	s.choose("deployment-" + deploymentID)
	s.shot("w01-" + s.name + "-contract")
	s.click("Save the contract", button("Save the contract"), 200)
	s.navigate("/contracts/"+contractID, 200)
	s.expectText("main", "Journey EPR")
	if strings.Contains(s.text("#contract-signed"), "Not yet") {
		s.fatalf("the contract is not shown as signed")
	}
	s.shot("w02-" + s.name + "-contract-signed")

	s.navigate("/exit/deployments/"+deploymentID, 200)
	s.typeDate("cutover_actual", d, m, y, "")
	s.click("Save the exit plan", button("Save the exit plan"), 200)
	s.expectFlash("Exit plan saved")
	s.expectText("#reason", "cut over on")
	s.shot("w03-" + s.name + "-deployment-green")

	s.navigate("/exit", 200)
	tag := eval[string](s, fmt.Sprintf(`(() => {
		const a = document.querySelector('#deployments-table a[href="/exit/deployments/%s"]');
		const t = a && a.closest('tr').querySelector('.nhsuk-tag');
		return t ? t.textContent.trim() : '';
	})()`, deploymentID))
	if tag != "Green" {
		s.fatalf("the replaced deployment shows %q on the exit dashboard, want Green", tag)
	}
	s.shot("w04-" + s.name + "-exit-dashboard")
}

// checkOCDS: the competition's OCDS record package validates against the
// schema and holds tender, award and contract releases.
func checkOCDS(t *testing.T, h *apptest.Harness, competitionID string) {
	t.Helper()
	resp := h.Browser(t).Get("/ocds/records/" + h.App.OCDS.OCID(competitionID))
	if resp.Status != http.StatusOK {
		t.Fatalf("GET the OCDS record: %d\n%s", resp.Status, resp.Body)
	}
	ocdstest.Validate(t, ocdstest.RecordPackage, []byte(resp.Body))
	var pkg struct {
		Records []struct {
			Releases []struct {
				Tag []string `json:"tag"`
			} `json:"releases"`
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &pkg); err != nil || len(pkg.Records) != 1 {
		t.Fatalf("the OCDS record package has %d records (err %v)", len(pkg.Records), err)
	}
	var tags []string
	for _, r := range pkg.Records[0].Releases {
		tags = append(tags, r.Tag...)
	}
	for _, tag := range []string{"tender", "award", "contract"} {
		if !slices.Contains(tags, tag) {
			t.Errorf("the OCDS record has no %s release (tags %q)", tag, tags)
		}
	}
}

// checkEmails: every email the journey should have sent reached the SMTP
// server, each to the right person with the right subject.
func checkEmails(t *testing.T, mp *mailpittest.Server) {
	t.Helper()
	const (
		sarah, james = sarahEmail, jamesEmail
		tom, nadia   = "tom.reilly@stgeorges.example.nhs.uk", "nadia.haddad@gstt.example.nhs.uk"
		aisha, grace = "aisha.khan@stgeorges.example.nhs.uk", "demo-trust-lead-gstt@example.nhs.uk"
		margaret     = "margaret.ellis@stgeorges.example.nhs.uk"
		david        = "david.osei@gstt.example.nhs.uk"
		fw, cmp      = journeyReference + " " + journeyTitle, cmpReference + " " + cmpTitle
	)
	type email struct{ to, subject string }
	var want []email
	each := func(subject string, to ...string) {
		for _, a := range to {
			want = append(want, email{a, subject})
		}
	}
	// The framework.
	each("Invitation to apply: "+fw, sarah, james)
	each("Receipt: application for "+fw+", lot 1: "+lot1Title, sarah, james)
	each("Clarification answered: "+fw, sarah, james)
	each("Award decision: "+fw+", lot 1: "+lot1Title, sarah, james)
	each(fw+": the framework agreement is live", sarah, james, tom, nadia)
	// The call-off.
	each("Invitation to bid: "+cmp, sarah, james)
	each("Clarification answered: "+cmp, sarah, james)
	each("Receipt: bid for "+cmp, sarah, james)
	each("Receipt: changed or confirmed bid for "+cmp, sarah, james)
	each("Board decision needed: "+cmp, margaret, david)
	each("Award decision: "+cmp, sarah, james)
	each("Standstill period started: "+cmp, sarah, james, aisha, grace)
	each("Award update: "+cmp, aisha, grace, sarah)
	var msgs []mailpittest.Summary
	arrived := func(w email) bool {
		return slices.ContainsFunc(msgs, func(m mailpittest.Summary) bool {
			return slices.Contains(m.To, w.to) && m.Subject == w.subject
		})
	}
	// The last emails may still be on their way through the job queue.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		msgs = mp.Messages(t)
		if !slices.ContainsFunc(want, func(w email) bool { return !arrived(w) }) || time.Now().After(deadline) {
			break
		}
	}
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%v: %s", m.To, m.Subject))
	}
	t.Logf("%d emails:\n%s", len(msgs), strings.Join(got, "\n"))
	for _, w := range want {
		if !arrived(w) {
			t.Errorf("no email to %s with the subject %q", w.to, w.subject)
		}
	}
}
