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

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
)

// biddingCompetition publishes, through the domain, a competition led by
// the actor's trust that shows its bid count: the lot's requirements (the
// scored ones weighted), one price item and the evaluators on the panel.
func biddingCompetition(t testing.TB, h *apptest.Harness, lead audit.Actor, lotID string, panel ...string) (*competition.Competition, competition.PriceItem) {
	t.Helper()
	return biddingCompetitionRef(t, h, lead, lotID, "SWL-EPR-2027-09", panel...)
}

// biddingCompetitionRef is biddingCompetition with the reference given,
// for a test that needs several (references are unique).
func biddingCompetitionRef(t testing.TB, h *apptest.Harness, lead audit.Actor, lotID, reference string, panel ...string) (*competition.Competition, competition.PriceItem) {
	t.Helper()
	ctx := context.Background()
	s := h.App.Competition
	now := h.Clock.Now()
	c, err := s.CreateCompetition(ctx, lead, lotID, lead.OrgID, competition.CompetitionInput{
		Reference: reference, Title: "Sealed call-off", QualityWeight: 70, PriceWeight: 30, ShowBidCount: true,
		Timeline: competition.Timeline{
			QuestionDeadline: now.AddDate(0, 0, 7), SubmissionDeadline: now.AddDate(0, 0, 21),
			EvaluationEnd: now.AddDate(0, 0, 35), PlannedAward: now.AddDate(0, 0, 42),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := s.CopyLotRequirements(ctx, lead, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	weighted := 0
	for _, r := range reqs {
		if r.Weighted() {
			weighted++
		}
	}
	total, seen := 0, 0
	for _, r := range reqs {
		if !r.Weighted() {
			continue
		}
		seen++
		w := 100 / weighted
		if seen == weighted {
			w = 100 - total
		}
		total += w
		if err := s.UpdateRequirement(ctx, lead, competition.RequirementEdit{RequirementID: r.ID, Text: r.Text, Weight: w, Version: r.Version}); err != nil {
			t.Fatal(err)
		}
	}
	item, err := s.AddPriceItem(ctx, lead, c.ID, competition.PriceItemInput{OrganisationID: lead.OrgID, Name: "Licences", Unit: "licence", Quantity: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AssignPanel(ctx, lead, c.ID, panel); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, lead, c.ID); err != nil {
		t.Fatal(err)
	}
	c, err = s.Competition(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c, *item
}

// answersFor is a complete section form for the requirements.
func answersFor(reqs []framework.LotRequirement) url.Values {
	f := url.Values{}
	for _, r := range reqs {
		switch r.ResponseType {
		case catalogue.PassFail:
			f.Set("meets-"+r.ID, "yes")
		case catalogue.Numeric:
			f.Set("number-"+r.ID, "12")
		case catalogue.PriceSchedule:
			f.Set("price-"+r.ID, "1,250.50")
		}
		f.Set("text-"+r.ID, "Live at 40 trusts; see the case studies.")
	}
	return f
}

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// submitFrom posts the submit, withdraw or reconfirm form of page with the
// submission version page carries.
func submitFrom(t *testing.T, b *apptest.Browser, page, action string) apptest.Response {
	t.Helper()
	m := versionField.FindStringSubmatch(b.Get(page).Body)
	if m == nil {
		t.Fatalf("no submission version on %s", page)
	}
	return b.PostForm(page, action, url.Values{"version": {m[1]}})
}

// TestBidJourney: a supplier fills its bid through the pages, is blocked
// with the list of what is missing, submits, is refused a stale version,
// resubmits, withdraws and submits again, confirms its bid after the terms
// change, and submits one second before the deadline; at the deadline it
// is refused, naming the deadline. Another supplier and the buyer see
// nothing of it; the lead sees only the count, and after the deadline two
// different keyholders open the bids (one person twice is refused).
func TestBidJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		_, lot := liveFramework(t, h)
		rj7 := orgID(t, h, "RJ7")
		aisha := audit.Actor{UserID: h.UserID(t, "demo-trust-lead"), OrgID: rj7}
		ben := h.UserID(t, "demo-evaluator")
		comp, item := biddingCompetition(t, h, aisha, lot.ID, ben)
		page := "/competitions/" + comp.ID
		bid := page + "/bid"
		tasks := bid + "/tasks"

		sarah := h.Browser(t)
		sarah.SignInAs("demo-supplier")
		if r := sarah.Get(bid); !strings.Contains(r.Body, `href="`+tasks+`"`) {
			t.Fatalf("the supplier's page does not link to the bid:\n%s", r.Body)
		}
		if r := sarah.Get(tasks); r.Status != http.StatusOK || !strings.Contains(r.Body, "Prices for") {
			t.Fatalf("task list: status %d\n%s", r.Status, r.Body)
		}

		// Blocked first, with every gap linked to its task.
		r := sarah.PostForm(bid+"/check", bid+"/submit", url.Values{"version": {"0"}})
		summary := errorSummary(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(summary, bid+"/section/1#") ||
			!strings.Contains(summary, bid+"/prices/"+rj7+"#price-"+item.ID) || !strings.Contains(summary, bid+"/declarations") ||
			!strings.Contains(summary, "Enter the price per licence of Licences") {
			t.Fatalf("incomplete submit: status %d\n%s", r.Status, summary)
		}

		// Filling it in through the pages.
		reqs := mustCompetitionReqs(t, h, comp.ID)
		lrs := make([]framework.LotRequirement, len(reqs))
		for i, rq := range reqs {
			lrs[i] = rq.AsLotRequirement()
		}
		for i, sec := range framework.Sections(lrs) {
			if r := saveTask(t, sarah, bid+"/section/"+strconv.Itoa(i+1), answersFor(sec.Requirements)); r.Status != http.StatusSeeOther {
				t.Fatalf("section %d: status %d\n%s", i+1, r.Status, errorSummary(r.Body))
			}
		}
		prices := bid + "/prices/" + rj7
		if r := saveTask(t, sarah, prices, url.Values{"price-" + item.ID: {"twelve"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `value="twelve"`) {
			t.Fatalf("a price that is not a number: status %d", r.Status)
		}
		if r := saveTask(t, sarah, prices, url.Values{"price-" + item.ID: {"12.50"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("prices: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := sarah.Get(prices); !strings.Contains(r.Body, "£1,250.00") {
			t.Fatalf("the line total is not shown:\n%s", r.Body)
		}
		// A stale tab: the prices page opened before the declarations were
		// saved elsewhere conflicts and keeps what was typed.
		stale := draftVersionField.FindStringSubmatch(sarah.Get(prices).Body)[1]
		decl := url.Values{}
		for _, d := range framework.Declarations {
			decl.Add("declaration", d.Key)
		}
		if r := saveTask(t, sarah, bid+"/declarations", decl); r.Status != http.StatusSeeOther {
			t.Fatalf("declarations: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		r = sarah.PostForm(prices, prices, url.Values{"price-" + item.ID: {"99.99"}, "draft_version": {stale}})
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "changed in another tab") || !strings.Contains(r.Body, `value="99.99"`) {
			t.Fatalf("stale save: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// Submit, a stale submission, resubmit, withdraw, submit again.
		r = submitFrom(t, sarah, bid+"/check", bid+"/submit")
		if r.Status != http.StatusSeeOther || r.Location != bid+"/receipts/1" {
			t.Fatalf("submit: status %d %s\n%s", r.Status, r.Location, errorSummary(r.Body))
		}
		st, err := h.App.Competition.BidStatus(ctx, audit.Actor{UserID: h.UserID(t, "demo-supplier"), OrgID: demoSupplier(t, h, "Meridian").ID}, comp.ID, demoSupplier(t, h, "Meridian").ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := sarah.Get(bid + "/receipts/1"); !strings.Contains(r.Body, "Bid received") || !strings.Contains(r.Body, st.Receipts[0].SHA256) {
			t.Fatalf("receipt:\n%s", r.Body)
		}
		r = sarah.PostForm(bid+"/check", bid+"/submit", url.Values{"version": {"0"}})
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "from another tab or by a colleague") {
			t.Fatalf("stale submit: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := submitFrom(t, sarah, bid+"/check", bid+"/submit"); r.Status != http.StatusSeeOther || r.Location != bid+"/receipts/2" {
			t.Fatalf("resubmit: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := submitFrom(t, sarah, tasks, bid+"/withdraw"); r.Status != http.StatusSeeOther || r.Location != bid+"/receipts/3" {
			t.Fatalf("withdraw: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := sarah.Get(bid + "/receipts/3"); !strings.Contains(r.Body, "Bid withdrawn") {
			t.Fatal("withdrawal receipt")
		}
		if r := submitFrom(t, sarah, bid+"/check", bid+"/submit"); r.Status != http.StatusSeeOther || r.Location != bid+"/receipts/4" {
			t.Fatalf("submit after withdrawing: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// A change to the terms: the bid needs confirming again.
		if r := sarah.Get(tasks); strings.Contains(r.Body, "Confirm your bid again") {
			t.Fatal("reconfirmation offered before any change")
		}
		h.Clock.Set(h.Clock.Now().Add(time.Minute))
		rq := reqs[0]
		if err := h.App.Competition.ChangeRequirement(ctx, aisha, comp.ID, competition.RequirementChange{
			Reason: "Clarified", Edits: []competition.RequirementEdit{{RequirementID: rq.ID, Text: rq.Text + " (clarified)", Weight: rq.Weight, Version: rq.Version}},
		}); err != nil {
			t.Fatal(err)
		}
		if r := sarah.Get(tasks); !strings.Contains(r.Body, "Confirm your bid again") {
			t.Fatalf("no reconfirmation offered after the change:\n%s", r.Body)
		}
		if r := submitFrom(t, sarah, tasks, bid+"/reconfirm"); r.Status != http.StatusSeeOther || r.Location != bid+"/receipts/5" {
			t.Fatalf("reconfirm: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := sarah.Get(tasks); strings.Contains(r.Body, "Confirm your bid again") {
			t.Fatal("reconfirmation still offered after confirming")
		}

		// Nobody else sees it: another supplier, the buyer.
		james := h.Browser(t)
		james.SignInAs("demo-supplier-2")
		if r := james.Get(tasks); r.Status != http.StatusOK || strings.Contains(r.Body, "/receipts/1") {
			t.Fatalf("another supplier's task list: status %d", r.Status)
		}
		for _, p := range []string{bid + "/receipts/1", bid + "/receipts/5"} {
			if r := james.Get(p); r.Status != http.StatusNotFound {
				t.Fatalf("another supplier GET %s: status %d", p, r.Status)
			}
		}
		lead := h.Browser(t)
		lead.SignInAs("demo-trust-lead")
		for _, p := range []string{tasks, bid + "/receipts/1", bid + "/check"} {
			if r := lead.Get(p); r.Status != http.StatusNotFound {
				t.Fatalf("the lead GET %s: status %d", p, r.Status)
			}
		}
		r = lead.Get(page + "/bids")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "1 bid is in") || strings.Contains(r.Body, "Meridian") || strings.Contains(r.Body, st.Receipts[0].SHA256) {
			t.Fatalf("the lead's bids page before the deadline: status %d\n%s", r.Status, r.Body)
		}
		if r := lead.Get(page); !strings.Contains(r.Body, page+"/bids") {
			t.Fatal("the competition page does not link to the bids")
		}
		if r := lead.PostForm(page+"/bids", page+"/open", nil); r.Status != http.StatusConflict || !strings.Contains(r.Body, "Bids stay sealed until the submission deadline") {
			t.Fatalf("opening before the deadline: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// One second before the deadline: accepted. At it: refused, naming it.
		h.Clock.Set(comp.SubmissionDeadline.Add(-time.Second))
		sarah.SignInAs("demo-supplier") // three weeks on: a new session
		if r := submitFrom(t, sarah, bid+"/check", bid+"/submit"); r.Status != http.StatusSeeOther || r.Location != bid+"/receipts/6" {
			t.Fatalf("submit a second before the deadline: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		page6 := sarah.Get(bid + "/check")
		h.Clock.Set(comp.SubmissionDeadline)
		m := versionField.FindStringSubmatch(page6.Body)
		r = sarah.PostForm(bid+"/check", bid+"/submit", url.Values{"version": {m[1]}})
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "The deadline was") || !strings.Contains(r.Body, "your submission reached us at") {
			t.Fatalf("submit at the deadline: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := saveTask(t, sarah, prices, url.Values{"price-" + item.ID: {"1"}}); r.Status != http.StatusConflict || !strings.Contains(r.Body, "The deadline was") {
			t.Fatalf("save at the deadline: status %d", r.Status)
		}

		// Two keys by two different people open the bids.
		h.Clock.Set(comp.SubmissionDeadline.Add(time.Minute))
		lead.SignInAs("demo-trust-lead")
		if r := lead.Get(page + "/bids"); !strings.Contains(r.Body, "Turn your key") {
			t.Fatalf("no key to turn after the deadline:\n%s", r.Body)
		}
		if r := lead.PostForm(page+"/bids", page+"/open", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("first key: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := lead.Post(page+"/open", url.Values{"_csrf": {lead.CSRF(page)}}); r.Status != http.StatusConflict || !strings.Contains(r.Body, "You have already turned your key") {
			t.Fatalf("the same person twice: status %d\n%s", r.Status, r.Body)
		}
		evaluator := h.Browser(t)
		evaluator.SignInAs("demo-evaluator")
		if r := evaluator.Get(page + "/bids"); !strings.Contains(r.Body, "Turn the second key and open the bids") {
			t.Fatalf("the panel member's page:\n%s", r.Body)
		}
		if r := evaluator.PostForm(page+"/bids", page+"/open", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("second key: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		st, _ = h.App.Competition.BidStatus(ctx, audit.Actor{UserID: h.UserID(t, "demo-supplier"), OrgID: demoSupplier(t, h, "Meridian").ID}, comp.ID, demoSupplier(t, h, "Meridian").ID)
		last := st.Receipts[len(st.Receipts)-1]
		if r := lead.Get(page + "/bids"); !strings.Contains(r.Body, "Meridian") || !strings.Contains(r.Body, last.SHA256) || !strings.Contains(r.Body, "Opened for evaluation") {
			t.Fatalf("the opened bids:\n%s", r.Body)
		}
		if countAudit(h, "competition.bids.key", audit.Denied, comp.ID) < 2 {
			t.Error("the early and the repeated key were not both audited")
		}
		if n, brk, err := audit.Verify(ctx, h.App.DB); err != nil || brk != nil {
			t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
		}
	})
}
