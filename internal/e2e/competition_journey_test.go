package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
)

const (
	cmpReference = "SWL-EPR-2027-01"
	cmpTitle     = "EPR for St George's"
	cmpQuestion  = "Is the pathology interface HL7 v2 or FHIR?"
	cmpPublicQ   = "Which standard does the pathology interface use?"
	cmpAnswer    = "FHIR UK Core."
	cmpEssay     = "Live at 40 trusts; see the case studies."
	cmpChanged   = "Live at 41 trusts since January."
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestCompetitionJourney drives a real Chromium through a mini-competition
// under a live framework lot, on every database kind. The framework is
// taken to live through the domain; everything after is through the pages:
// the trust lead sets up the competition (a price item, the lot's
// requirements weighted, the panel) and publishes it; the supplier opens
// its invitation and asks a question the lead answers for everyone; the
// supplier fills in its bid through the task list, submits (a receipt with
// a SHA-256), changes an answer and resubmits (a second receipt); the
// clock passes the submission deadline; the lead turns the first key, the
// evaluator on the panel the second, and the opened bid is listed.
func TestCompetitionJourney(t *testing.T) {
	exe := chromiumPath(t)
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		started := time.Now()
		lotID := liveLot(t, h)
		rj7 := h.Org(t, orgs.KindTrust, "RJ7").ID
		j := &journey{t: t, h: h, b: startBrowser(t, exe)}
		lead, sarah, ben := j.open("cmp-lead"), j.open("cmp-sarah"), j.open("cmp-evaluator")

		page := setUpCompetition(lead, lotID, rj7)
		askAndAnswer(sarah, lead, page)
		first, second := bidAndResubmit(sarah, page, meridian, "12.50", "£1,250.00")
		if first == second {
			sarah.fatalf("the resubmitted bid has the same SHA-256 as the first: %s", first)
		}

		// The deadline passes; three weeks on, every session has expired.
		deadline := h.Clock.Now().AddDate(0, 0, 30)
		h.Clock.Set(deadline)
		openWithTwoKeys(lead, ben, sarah, page, second, meridian)
		t.Logf("%s: competition journey took %s", h.Kind, time.Since(started).Round(time.Millisecond))
	})
}

// setUpCompetition: the trust lead creates the competition on the lot,
// adds a price item, copies and weights the lot's requirements, picks the
// panel and publishes. Each joint trust is added as a buyer too, with its
// own price schedule. It returns the competition's path.
func setUpCompetition(s *session, lotID, rj7 string, joint ...orgs.Organisation) string {
	s.t.Helper()
	s.signIn("demo-trust-lead")
	s.expectText(`[data-testid="acting-for"]`, stGeorges)
	s.navigate("/competitions/new?lot="+lotID, 200)
	s.expectText("h1", "Start a mini-competition")
	s.expectText("#lot", "Patient administration and EPR")
	s.typeInto("reference", cmpReference)
	s.typeInto("title", cmpTitle)
	s.typeInto("description", "Replacing the national EPR contract")
	s.typeInto("quality_weight", "60")
	s.typeInto("price_weight", "40")
	s.choose("show_bid_count-yes")
	s.choose("expression_of_interest-no")
	now := s.h.Clock.Now().In(uktime.Location)
	day := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, uktime.Location)
	for _, d := range []struct {
		name string
		at   time.Time
	}{
		{"question_deadline", day.AddDate(0, 0, 7).Add(5 * time.Hour)},
		{"submission_deadline", day.AddDate(0, 0, 21)},
		{"evaluation_end", day.AddDate(0, 0, 35)},
		{"planned_award", day.AddDate(0, 0, 42)},
	} {
		s.typeDate(d.name, fmt.Sprint(d.at.Day()), fmt.Sprint(int(d.at.Month())), fmt.Sprint(d.at.Year()), d.at.Format("15:04"))
	}
	s.shot("c01-lead-new-competition")
	s.click("Create draft competition", button("Create draft competition"), 200)
	page := s.path()
	if !regexp.MustCompile(`^/competitions/[0-9a-f-]{36}$`).MatchString(page) {
		s.fatalf("after creating the competition the browser is at %s", page)
	}
	s.expectFlash("Mini-competition created as a draft")
	s.expectText("#state", "Draft")

	// A price schedule item for the lead trust.
	s.typeInto("name-"+rj7, "Licences")
	s.typeInto("unit-"+rj7, "licence")
	s.typeInto("quantity-"+rj7, "100")
	s.click("Add item", buttonPrefix("Add item"), 200)
	s.expectFlash("Item added to the price schedule")
	s.expectText("#prices-"+rj7, "Licences")

	for _, o := range joint {
		s.selectOption("organisation", o.Name)
		s.typeInto("volumes", "14,000 staff users")
		s.click("Add buying trust "+o.Name, button("Add buying trust"), 200)
		s.expectFlash("Buying trust added")
		s.expectText("#buyer-"+o.ID, o.Name)
		s.typeInto("name-"+o.ID, "Licences")
		s.typeInto("unit-"+o.ID, "licence")
		s.typeInto("quantity-"+o.ID, "100")
		s.click("Add item for "+o.Name, buttonPrefix("Add item to the price schedule of "+o.Name), 200)
		s.expectFlash("Item added to the price schedule")
		s.expectText("#prices-"+o.ID, "Licences")
	}

	// The lot's requirements, the scored one weighted 100.
	s.click("Copy requirements", button("Copy requirements"), 200)
	s.expectFlash("Requirements copied from the lot")
	weight := eval[string](s, `(() => {
		const card = Array.from(document.querySelectorAll('main .nhsuk-card')).find(c => c.querySelector('h3') && c.querySelector('h3').textContent.trim().startsWith('EPR-MED-001'));
		const w = card && card.querySelector('input[name^="weight-"]');
		return w ? w.id : '';
	})()`)
	if weight == "" {
		s.fatalf("no weight field for the copied requirement EPR-MED-001")
	}
	s.do("clear the weight of EPR-MED-001", chromedp.Clear(chromedp.ID(weight)))
	s.typeInto(weight, "100")
	s.click("Save EPR-MED-001", buttonPrefix("Save EPR-MED-001"), 200)
	s.expectFlash("Requirement saved")
	s.expectText("#requirement_weights", "add up to 100")

	// The panel: Ben Carter, the evaluator.
	benBox := eval[string](s, `(() => {
		const i = Array.from(document.querySelectorAll('input[name="panel"]')).find(i => i.labels[0].textContent.includes('Ben Carter'));
		return i ? i.id : '';
	})()`)
	if benBox == "" {
		s.fatalf("Ben Carter is not offered for the panel")
	}
	s.choose(benBox)
	s.click("Save panel", button("Save panel"), 200)
	s.expectFlash("Evaluation panel saved")
	s.shot("c02-lead-draft")

	s.click("Publish and invite suppliers", button("Publish and invite suppliers"), 200)
	s.expectFlash("Competition published: every supplier appointed to the lot has been invited")
	s.expectText("#state", "Open for questions and bids")
	s.expectText("main", meridian)
	s.shot("c03-lead-published")
	return page
}

// askAndAnswer: the supplier opens its invitation and asks a question; the
// lead answers it for everyone; the supplier reads the answer.
func askAndAnswer(sarah, lead *session, page string) {
	sarah.t.Helper()
	sarah.signIn("demo-supplier")
	sarah.navigate(page+"/bid", 200)
	sarah.expectText("h1", cmpTitle)
	sarah.expectText("#invitation", "is invited by "+stGeorges)
	sarah.expectText("main", "Licences")
	sarah.shot("c04-supplier-invitation")
	sarah.clickLink("Ask a question or read the answers")
	sarah.expectPath(page + "/questions")
	sarah.typeInto("text", cmpQuestion)
	sarah.click("Send question", button("Send question"), 200)
	sarah.expectFlash("Your question has been sent")
	sarah.shot("c05-supplier-question")

	lead.navigate(page, 200)
	lead.clickLink("Clarification questions")
	lead.expectPath(page + "/clarifications")
	lead.expectText("main", "Question from "+meridian)
	lead.expectText("#open-count", "1")
	q := eval[string](lead, `document.querySelector('main form[action$="/answer"] input[name="mode"][value="public"]').id`)
	lead.choose(q)
	pq := eval[string](lead, `document.querySelector('main textarea[name="public_question"]').id`)
	ans := eval[string](lead, `document.querySelector('main textarea[name="answer"]').id`)
	lead.do("reword the question", chromedp.WaitVisible(chromedp.ID(pq)), chromedp.Clear(chromedp.ID(pq)))
	lead.typeInto(pq, cmpPublicQ)
	lead.typeInto(ans, cmpAnswer)
	lead.shot("c06-lead-answer")
	lead.click("Send answer", buttonPrefix("Send answer"), 200)
	lead.expectFlash("Answer shared with every supplier taking part")
	lead.expectText("#open-count", "0")

	sarah.navigate(page+"/questions", 200)
	sarah.expectText("main", cmpPublicQ)
	sarah.expectText("main", cmpAnswer)
	sarah.shot("c07-supplier-answer")
}

// bidAndResubmit: the supplier fills in every task of its bid, submits and
// gets a receipt; changes an answer and resubmits, with a second receipt.
// Every buying trust's licences are priced at price pounds each, which
// for 100 of them the prices page shows as total. It returns both
// receipts' SHA-256 fingerprints.
func bidAndResubmit(s *session, page, supplier, price, total string) (first, second string) {
	s.t.Helper()
	bid := page + "/bid"
	s.navigate(bid, 200)
	s.clickLink("Prepare, submit or change your bid")
	s.expectPath(bid + "/tasks")
	s.expectText("h1", "Your bid: "+cmpTitle)
	s.shot("c08-supplier-tasks")

	sections := eval[[]string](s, `Array.from(document.querySelectorAll('main ul.nhsuk-task-list')[0].querySelectorAll('a')).map(a => a.textContent.trim())`)
	if len(sections) == 0 {
		s.fatalf("the bid's task list has no sections")
	}
	for i, name := range sections {
		s.clickLink(name)
		s.expectText("h1", name)
		s.answerAll(cmpEssay)
		if i == 0 {
			s.shot("c09-supplier-section")
		}
		s.click("Save "+name, button("Save and return to your bid"), 200)
		s.expectFlash("Your answers have been saved")
		s.expectText(fmt.Sprintf("#section-%d-status", i+1), "Completed")
	}

	schedules := eval[[]string](s, `Array.from(document.querySelectorAll('main a')).map(a => a.textContent.replace(/\s+/g, ' ').trim()).filter(t => t.startsWith('Prices for '))`)
	if len(schedules) == 0 {
		s.fatalf("the bid's task list has no price schedules")
	}
	for _, schedule := range schedules {
		s.clickLink(schedule)
		field := eval[string](s, `document.querySelector('main input[name^="price-"]').id`)
		s.typeInto(field, price)
		s.click("Save "+schedule, button("Save and return to your bid"), 200)
		s.expectFlash("Your prices have been saved")
		s.clickLink(schedule)
		s.expectText("main table", total)
		s.shot("c10-" + s.name + "-prices")
		s.navigate(bid+"/tasks", 200)
	}

	s.clickLink("Make the declarations")
	for _, id := range eval[[]string](s, `Array.from(document.querySelectorAll('input[name="declaration"]')).map(i => i.id)`) {
		s.choose(id)
	}
	s.click("Save declarations", button("Save and return to your bid"), 200)
	s.expectFlash("Your declarations have been saved")
	s.expectText("#declarations-status", "Completed")

	s.clickLink("Check your answers and submit")
	s.expectText("h1", "Check your answers before submitting your bid")
	s.expectText("main", cmpEssay)
	s.shot("c11-supplier-check")
	s.click("Submit bid", button("Submit bid"), 200)
	s.expectPath(bid + "/receipts/1")
	s.expectText("h1", "Bid received")
	s.expectText("main dl", supplier)
	first = receiptSHA(s)
	s.shot("c12-supplier-receipt")

	// Change an answer and resubmit.
	s.clickLink("Return to your bid")
	s.clickLink(sections[0])
	text := eval[string](s, `document.querySelector('main textarea[name^="text-"]').id`)
	s.do("clear the first answer", chromedp.Clear(chromedp.ID(text)))
	s.typeInto(text, cmpChanged)
	s.click("Save "+sections[0], button("Save and return to your bid"), 200)
	s.expectFlash("Your answers have been saved")
	s.expectText("main", "You have changed your bid since")
	s.clickLink("Check your answers and submit")
	s.expectText("main", cmpChanged)
	s.click("Submit changed bid", button("Submit changed bid"), 200)
	s.expectPath(bid + "/receipts/2")
	s.expectText("h1", "Bid received")
	s.expectText("main dl", "Changed bid (resubmitted), version 2")
	second = receiptSHA(s)
	s.shot("c13-supplier-resubmitted")
	return first, second
}

func receiptSHA(s *session) string {
	s.t.Helper()
	sha := strings.TrimSpace(s.text("main dl .portal-mono"))
	if !sha256Hex.MatchString(sha) {
		s.fatalf("the receipt's SHA-256 fingerprint is %q, want 64 hex digits", sha)
	}
	return sha
}

// openWithTwoKeys: after the deadline, the lead turns the first key, the
// panel's evaluator the second, and the bids of every one of bidders are
// listed, the supplier's with the resubmitted version's fingerprint sha;
// the supplier can no longer change it.
func openWithTwoKeys(lead, ben, sarah *session, page, sha string, bidders ...string) {
	lead.t.Helper()
	lead.signIn("demo-trust-lead")
	lead.navigate(page, 200)
	lead.expectText("#state", "Closed for bids")
	lead.clickLink("Open the bids (two keys)")
	lead.expectPath(page + "/bids")
	count := "1 bid is in"
	if len(bidders) != 1 {
		count = fmt.Sprintf("%d bids are in", len(bidders))
	}
	lead.expectText("#bid-count", count)
	for _, name := range bidders {
		if strings.Contains(lead.text("main"), name) {
			lead.fatalf("the bids page names %s before the bids are opened", name)
		}
	}
	lead.shot("c14-lead-bids-sealed")
	lead.click("Turn your key", button("Turn your key"), 200)
	lead.expectFlash("Your key is turned")
	lead.expectText("main", "You have turned your key")

	ben.signIn("demo-evaluator")
	ben.navigate(page+"/bids", 200)
	ben.expectText("main", "Key turned by Aisha Khan")
	ben.shot("c15-evaluator-second-key")
	ben.click("Turn the second key", button("Turn the second key and open the bids"), 200)
	ben.expectFlash(fmt.Sprintf("Bids opened: %d to evaluate, 0 excluded", len(bidders)))
	lead.navigate(page+"/bids", 200)
	for _, name := range bidders {
		ben.expectText("main table", name)
		lead.expectText("main table", name)
	}
	lead.expectText("main table", "Opened for evaluation")
	lead.expectText("main table", "(version 2)")
	lead.expectText("main table", sha)
	lead.shot("c16-lead-bids-opened")

	sarah.signIn("demo-supplier")
	sarah.navigate(page+"/bid/tasks", 200)
	sarah.expectText("main", "Bids closed")
	sarah.expectText("#opening", "Your bid was opened for evaluation")
	sarah.shot("c17-supplier-opened")
}

// liveLot takes a framework of the London consortium from publication to
// live through the domain, as internal/web's competition tests do: one lot
// holding three of journeyCSV's requirements (one scored), Meridian
// applies and is appointed after two consortium leads open the
// applications and the evaluator scores. The clock is left an hour after
// the standstill; it returns the lot's ID.
func liveLot(t *testing.T, h *apptest.Harness) string {
	t.Helper()
	ctx := context.Background()
	fwSvc := h.App.Framework
	test := audit.Actor{Label: "test"}
	london, err := h.App.Orgs.Organisations(ctx, orgs.KindConsortium, orgs.DemoLondon)
	if err != nil || len(london) != 1 {
		t.Fatalf("the London consortium: %v (%d found)", err, len(london))
	}
	cat, err := h.App.Catalogue.CreateCatalogue(ctx, test, london[0].ID, journeyCatalogue, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Catalogue.Import(ctx, test, cat.ID, "r.csv", bytes.NewReader([]byte(journeyCSV))); err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Catalogue.Publish(ctx, test, cat.ID); err != nil {
		t.Fatal(err)
	}
	fw, err := fwSvc.CreateFramework(ctx, test, london[0].ID, framework.FrameworkInput{
		Reference: journeyReference, Title: journeyTitle, Regime: framework.RegimePA2023, Kind: framework.KindClosed,
		TermStart: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), TermEnd: time.Date(2031, 3, 31, 0, 0, 0, 0, time.UTC),
		ApplicationsOpen: apptest.Start, ClarificationDeadline: journeyDeadline.Add(-24 * time.Hour), ApplicationDeadline: journeyDeadline,
	})
	if err != nil {
		t.Fatal(err)
	}
	lot, err := fwSvc.AddLot(ctx, test, fw.ID, framework.LotInput{Title: lot1Title, Min: 1, Max: 3, CallOff: framework.CallOffBoth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fwSvc.CopyRequirements(ctx, test, lot.ID, cat.ID, 1, []string{"EPR-MED-001", "EPR-MED-002", "EPR-INT-001"}); err != nil {
		t.Fatal(err)
	}
	if err := fwSvc.SetCriteria(ctx, test, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 100}}); err != nil {
		t.Fatal(err)
	}
	if err := fwSvc.Publish(ctx, test, fw.ID); err != nil {
		t.Fatal(err)
	}

	// Meridian applies and is appointed; the standstill passes.
	h.Apply(t, fw, lot.ID, h.Actor(t, "demo-supplier", orgs.KindSupplier, "Meridian"), sarahEmail, "Live at 40 trusts.")
	h.GoLive(t, fw)
	return lot.ID
}
