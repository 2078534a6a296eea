package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/uktime"
)

// liveFramework takes a framework of the London consortium from
// publication to live through the domain: both demo suppliers apply to its
// one lot and are appointed (apptest's GoLive). The clock is left just
// after the standstill.
func liveFramework(t *testing.T, h *apptest.Harness) (*framework.Framework, framework.Lot) {
	t.Helper()
	fw, lot := openForApplications(t, h, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	applyAs(t, h, fw, lot, "demo-supplier", "Meridian", "sarah.lund@meridian.example.com", "Live at 40 trusts.")
	applyAs(t, h, fw, lot, "demo-supplier-2", "Northgate", "james.whitfield@northgate.example.com", "Piloting.")
	return h.GoLive(t, fw), lot
}

// setMoment fills a date and time input with t in UK time.
func setMoment(f url.Values, name string, t time.Time) {
	u := t.In(uktime.Location)
	f.Set(name+"-day", strconv.Itoa(u.Day()))
	f.Set(name+"-month", strconv.Itoa(int(u.Month())))
	f.Set(name+"-year", strconv.Itoa(u.Year()))
	f.Set(name+"-time", u.Format("15:04"))
}

// competitionDetails is a valid details and timeline form from now on:
// questions for a week, bids for three.
func competitionDetails(lotID string, now time.Time) url.Values {
	day := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, uktime.Location)
	f := url.Values{
		"lot": {lotID}, "reference": {"SWL-EPR-2027-01"}, "title": {"EPR for St George's and Guy's and St Thomas'"},
		"description": {"Replacing the national EPR contract"}, "quality_weight": {"60"}, "price_weight": {"40"},
		"show_bid_count": {"yes"}, "expression_of_interest": {"no"},
	}
	setMoment(f, competition.FieldQuestionDeadline, day.AddDate(0, 0, 7).Add(5*time.Hour))
	setMoment(f, competition.FieldSubmissionDeadline, day.AddDate(0, 0, 21))
	setMoment(f, competition.FieldEvaluationEnd, day.AddDate(0, 0, 35))
	setMoment(f, competition.FieldPlannedAward, day.AddDate(0, 0, 42))
	return f
}

func notified(t *testing.T, h *apptest.Harness, subject, kind, contains string) bool {
	t.Helper()
	list, err := h.App.Notify.List(context.Background(), h.UserID(t, subject), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.Kind == kind && strings.Contains(n.BodyText, contains) {
			return true
		}
	}
	return false
}

// TestCompetitionJourney: a trust lead sets up a mini-competition through
// the pages under a live framework lot (a bad timeline and publishing too
// early each list their problems), adds a second buying trust, copies and
// weights the lot's requirements, gives each trust a price schedule, chooses
// the panel, adds a document and publishes. Both appointed suppliers see
// their invitation; one declines with a reason the lead then sees; the
// other asks a question the lead answers for everyone. The lead extends the
// deadline, changes a requirement and cancels, each with a reason the
// suppliers are told. A trust that is neither lead nor buyer, and a supplier
// not invited, get 404 (audited); a buying trust's user reads but cannot
// change.
func TestCompetitionJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		fw, lot := liveFramework(t, h)
		rj7, rj1 := orgID(t, h, "RJ7"), orgID(t, h, "RJ1")
		lead := h.Browser(t)
		lead.SignInAs("demo-trust-lead")

		// Finding where to start: the list, the buy page, the choice of lot.
		if r := lead.Get("/competitions"); r.Status != http.StatusOK || !strings.Contains(r.Body, "no mini-competitions yet") || !strings.Contains(r.Body, `href="/competitions/new"`) {
			t.Fatalf("empty list: status %d\n%s", r.Status, r.Body)
		}
		if r := lead.Get("/buy"); !strings.Contains(r.Body, "/competitions/new?framework="+fw.ID) {
			t.Fatalf("the buy page offers no mini-competition:\n%s", r.Body)
		}
		if r := lead.Get("/competitions/new?framework=" + fw.ID); !strings.Contains(r.Body, "/competitions/new?lot="+lot.ID) {
			t.Fatalf("the choice of lot lacks the lot:\n%s", r.Body)
		}
		start := "/competitions/new?lot=" + lot.ID
		if r := lead.Get(start); r.Status != http.StatusOK || !strings.Contains(r.Body, fw.Reference) || !strings.Contains(r.Body, "Patient administration and EPR") {
			t.Fatalf("start page: status %d\n%s", r.Status, r.Body)
		}
		if r := lead.Get("/competitions/new?lot=" + fw.ID); r.Status != http.StatusNotFound {
			t.Fatalf("a made-up lot: status %d", r.Status)
		}

		// A bad timeline: a date that does not exist, then dates in the
		// wrong order and too soon. Each time the summary lists the
		// problems, each links to its field, and what was typed is kept.
		now := h.Clock.Now()
		bad := competitionDetails(lot.ID, now)
		bad.Set(competition.FieldEvaluationEnd+"-day", "31")
		bad.Set(competition.FieldEvaluationEnd+"-month", "2")
		r := lead.PostForm(start, "/competitions", bad)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "nhsuk-error-summary") ||
			!strings.Contains(r.Body, `href="#evaluation_end"`) || !strings.Contains(r.Body, "The end of evaluation must be a real date and time") ||
			!strings.Contains(r.Body, `value="SWL-EPR-2027-01"`) {
			t.Fatalf("unreal date: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		bad = competitionDetails(lot.ID, now)
		setMoment(bad, competition.FieldSubmissionDeadline, now.Add(72*time.Hour))
		r = lead.PostForm(start, "/competitions", bad)
		summary := errorSummary(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(summary, "The question deadline must be before the submission deadline") ||
			!strings.Contains(summary, `href="#question_deadline"`) || !strings.Contains(summary, "at least 10 days after publication") ||
			!strings.Contains(r.Body, `id="question_deadline"`) || !strings.Contains(r.Body, "nhsuk-form-group--error") {
			t.Fatalf("bad timeline: status %d\n%s", r.Status, summary)
		}
		if n, err := h.App.Competition.Competitions(ctx, rj7, 1); err != nil || len(n.Competitions) != 0 {
			t.Fatal("a refused form created a competition")
		}

		r = lead.PostForm(start, "/competitions", competitionDetails(lot.ID, now))
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/competitions/") {
			t.Fatalf("create: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		page := r.Location
		id := strings.TrimPrefix(page, "/competitions/")
		if r := lead.Get(page); r.Status != http.StatusOK || !strings.Contains(r.Body, "Mini-competition created as a draft") || !strings.Contains(r.Body, "Draft") {
			t.Fatalf("draft page: status %d", r.Status)
		}

		// Publishing too early lists every problem at once.
		r = lead.PostForm(page, page+"/publish", nil)
		summary = errorSummary(r.Body)
		for _, want := range []string{"Add at least one requirement", "Choose the evaluation panel", "Add at least one item to the price schedule of St George", `href="#panel"`, `href="#prices-` + rj7 + `"`} {
			if !strings.Contains(summary, want) {
				t.Errorf("publishing too early: the summary lacks %q", want)
			}
		}
		if r.Status != http.StatusBadRequest {
			t.Fatalf("publishing too early: status %d", r.Status)
		}

		// Before Guy's and St Thomas' buys in it, its board member cannot
		// see the competition, and nor can a supplier not invited.
		gstt := h.Browser(t)
		gstt.SignInAs("demo-board-member-gstt")
		sarah := h.Browser(t)
		sarah.SignInAs("demo-supplier")
		denied := countAudit(h, "competition.read", audit.Denied, id)
		if r := gstt.Get(page); r.Status != http.StatusNotFound {
			t.Fatalf("a trust neither lead nor buyer: status %d", r.Status)
		}
		if countAudit(h, "competition.read", audit.Denied, id) != denied+1 {
			t.Fatal("the refusal was not audited")
		}
		for _, p := range []string{page, page + "/bid", page + "/questions"} {
			if r := sarah.Get(p); r.Status != http.StatusNotFound {
				t.Fatalf("supplier not invited GET %s: status %d", p, r.Status)
			}
		}
		if countAudit(h, "competition.supplier.read", audit.Denied, id) == 0 {
			t.Fatal("the supplier's attempt was not audited")
		}

		// Buying trusts: Guy's and St Thomas' added; a number of beds that
		// is not a number is refused beside its field.
		r = lead.PostForm(page, page+"/buyers", url.Values{"organisation": {rj1}, "volumes": {"1,100 beds"}, "beds": {"lots"}})
		if r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), `href="#beds"`) || !strings.Contains(r.Body, "1,100 beds") {
			t.Fatalf("beds not a number: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := lead.PostForm(page, page+"/buyers", url.Values{"organisation": {rj1}, "volumes": {"1,100 beds, 14,000 staff"}, "beds": {"1100"}, "sites": {"Guy's; St Thomas'"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("add buyer: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := lead.PostForm(page, page+"/buyers/"+rj7, url.Values{"volumes-" + rj7: {"1,300 beds, 9,000 staff"}, "users-" + rj7: {"9000"}, "version-" + rj7: {"1"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("lead's volumes: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// Requirements: copied from the lot, the scored one weighted 100,
		// one of the competition's own added (a missing wording refused).
		if r := lead.PostForm(page, page+"/requirements/copy", url.Values{"requirements": {""}}); r.Status != http.StatusSeeOther {
			t.Fatalf("copy requirements: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		reqs, _ := h.App.Competition.Requirements(ctx, id)
		if len(reqs) != 3 {
			t.Fatalf("%d requirements copied, want 3", len(reqs))
		}
		var scored competition.Requirement
		for _, rq := range reqs {
			if rq.Weighted() {
				scored = rq
			}
		}
		edit := url.Values{"text-" + scored.ID: {scored.Text + " for every ward"}, "weight-" + scored.ID: {"lots"}, "version-" + scored.ID: {strconv.Itoa(scored.Version)}}
		if r := lead.PostForm(page, page+"/requirements/"+scored.ID+"/edit", edit); r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), `href="#weight-`+scored.ID+`"`) {
			t.Fatalf("a weight that is not a number: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		edit.Set("weight-"+scored.ID, "100")
		if r := lead.PostForm(page, page+"/requirements/"+scored.ID+"/edit", edit); r.Status != http.StatusSeeOther {
			t.Fatalf("weight requirement: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		own := url.Values{"reference": {"EPR-LOC-001"}, "priority": {catalogue.Must}, "weight": {"0"}, "response_type": {catalogue.PassFail}}
		if r := lead.PostForm(page+"/requirements/new", page+"/requirements", own); r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "Enter the requirement") || !strings.Contains(r.Body, `value="EPR-LOC-001"`) {
			t.Fatalf("own requirement without wording: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		own.Set("text", "The system must interface with the trust's pathology system.")
		if r := lead.PostForm(page+"/requirements/new", page+"/requirements", own); r.Status != http.StatusSeeOther {
			t.Fatalf("own requirement: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// A price schedule for each trust; a line added by mistake removed.
		for _, it := range []struct{ org, name, unit, qty string }{
			{rj7, "Licences", "licence", "9000"}, {rj7, "Hosting per year", "year", "5"}, {rj7, "Mistake", "year", "1"}, {rj1, "Licences", "licence", "14000"},
		} {
			f := url.Values{"name-" + it.org: {it.name}, "unit-" + it.org: {it.unit}, "quantity-" + it.org: {it.qty}}
			if r := lead.PostForm(page, page+"/buyers/"+it.org+"/prices", f); r.Status != http.StatusSeeOther {
				t.Fatalf("price item %s: status %d\n%s", it.name, r.Status, errorSummary(r.Body))
			}
		}
		if r := lead.PostForm(page, page+"/buyers/"+rj1+"/prices", url.Values{"name-" + rj1: {"Support"}, "unit-" + rj1: {"year"}, "quantity-" + rj1: {"0"}}); r.Status != http.StatusBadRequest ||
			!strings.Contains(errorSummary(r.Body), `href="#quantity-`+rj1+`"`) {
			t.Fatalf("quantity 0: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		scheds, _ := h.App.Competition.PriceSchedules(ctx, id)
		for _, it := range scheds[0].Items {
			if it.Name == "Mistake" {
				if r := lead.PostForm(page, page+"/prices/"+it.ID+"/remove", nil); r.Status != http.StatusSeeOther {
					t.Fatalf("remove item: status %d", r.Status)
				}
			}
		}

		// The panel, and a document from the lead trust's library.
		ben := h.UserID(t, "demo-evaluator")
		if r := lead.PostForm(page, page+"/panel", url.Values{"panel": {ben}}); r.Status != http.StatusSeeOther {
			t.Fatalf("panel: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		aisha := audit.Actor{UserID: h.UserID(t, "demo-trust-lead"), OrgID: rj7}
		doc, err := h.App.Docs.Put(ctx, aisha, documents.Upload{OrganisationID: rj7, OwnerType: "library", Name: "specification.pdf",
			Body: strings.NewReader("%PDF-1.4\nThe specification\n%%EOF\n")})
		if err != nil {
			t.Fatal(err)
		}
		if r := lead.Get(page + "/documents/new"); !strings.Contains(r.Body, "specification.pdf") {
			t.Fatalf("the library is not offered:\n%s", r.Body)
		}
		if r := lead.PostForm(page+"/documents/new", page+"/documents", url.Values{"document": {doc.ID}}); r.Status != http.StatusSeeOther {
			t.Fatalf("add document: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// Guy's and St Thomas' now buys in it: its board member reads the
		// competition but can change nothing.
		if r := gstt.Get(page); r.Status != http.StatusOK || !strings.Contains(r.Body, "1,100 beds, 14,000 staff") || strings.Contains(r.Body, page+"/publish") || strings.Contains(r.Body, page+"/details") {
			t.Fatalf("buying trust's board member: status %d\n%s", r.Status, r.Body)
		}
		writes := countAudit(h, "competition.write", audit.Denied, id)
		for _, p := range []string{"/details", "/publish", "/panel", "/cancel", "/buyers/" + rj1 + "/remove"} {
			if r := gstt.PostForm(page, page+p, url.Values{"reason": {"x"}}); r.Status != http.StatusNotFound {
				t.Fatalf("buying trust's board member POST %s: status %d", p, r.Status)
			}
		}
		if r := gstt.Get(page + "/cancel"); r.Status != http.StatusNotFound {
			t.Fatalf("buying trust's board member GET cancel: status %d", r.Status)
		}
		if countAudit(h, "competition.write", audit.Denied, id) != writes+6 {
			t.Fatal("the buying trust's attempts to change were not all audited")
		}

		// Publish: both appointed suppliers invited.
		if r := lead.PostForm(page, page+"/publish", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("publish: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		shown := lead.Get(page)
		if !strings.Contains(shown.Body, "every supplier appointed to the lot has been invited") || !strings.Contains(shown.Body, "Meridian Health Systems Ltd") ||
			!strings.Contains(shown.Body, "Northgate Clinical Software Ltd") || strings.Contains(shown.Body, page+"/details") {
			t.Fatalf("published page:\n%s", shown.Body)
		}
		for _, s := range []string{"demo-supplier", "demo-supplier-2"} {
			if !notified(t, h, s, notify.KindInvitation, "") {
				t.Errorf("%s was not told of the invitation", s)
			}
		}

		// Both suppliers see their invitation and the terms.
		james := h.Browser(t)
		james.SignInAs("demo-supplier-2")
		sarah.SignInAs("demo-supplier")
		c, _ := h.App.Competition.Competition(ctx, id)
		for _, b := range []*apptest.Browser{sarah, james} {
			r := b.Get(page + "/bid")
			for _, want := range []string{"is invited by St George", "EPR-LOC-001", "Licences", "14000", "specification.pdf",
				"Bids open at " + uktime.MomentWithDay(*c.PublishedAt), "close at " + uktime.MomentWithDay(c.SubmissionDeadline)} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("invitation page lacks %q", want)
				}
			}
			if r.Status != http.StatusOK {
				t.Fatalf("invitation page: status %d", r.Status)
			}
		}
		if r := sarah.Get(page + "/documents/" + doc.ID); r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "%PDF") {
			t.Fatalf("invited supplier downloads the tender pack: status %d", r.Status)
		}
		if r := sarah.Get(page); r.Status != http.StatusNotFound {
			t.Fatalf("a supplier GET the buyers' page: status %d", r.Status)
		}

		// Northgate declines, with a reason the lead sees.
		if r := james.PostForm(page+"/bid", page+"/decline", nil); r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), `href="#reason"`) {
			t.Fatalf("decline without a reason: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := james.PostForm(page+"/bid", page+"/decline", url.Values{"reason": {"We cannot support the go-live date."}}); r.Status != http.StatusSeeOther {
			t.Fatalf("decline: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := james.Get(page + "/bid"); !strings.Contains(r.Body, "declined") || strings.Contains(r.Body, page+"/decline") {
			t.Fatal("the supplier's page does not show it declined")
		}
		if r := lead.Get(page); !strings.Contains(r.Body, "Declined: We cannot support the go-live date.") {
			t.Fatalf("the lead does not see the decline:\n%s", r.Body)
		}

		// Meridian asks a question; the lead answers everyone invited.
		if r := sarah.PostForm(page+"/questions", page+"/questions", url.Values{"text": {"Is the pathology interface HL7 v2 or FHIR?"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("ask: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		qs := lead.Get(page + "/clarifications")
		if qs.Status != http.StatusOK || !strings.Contains(qs.Body, "Question from Meridian") {
			t.Fatalf("lead's questions: status %d\n%s", qs.Status, qs.Body)
		}
		list, _ := h.App.Clarify.ForLead(ctx, competition.ClarifyProcedure(c))
		if len(list) != 1 {
			t.Fatalf("%d questions, want 1", len(list))
		}
		answer := url.Values{"mode": {"public"}, "version": {strconv.Itoa(list[0].Version)}, "public_question": {"Which standard does the pathology interface use?"}, "answer": {"FHIR UK Core."}}
		if r := lead.PostForm(page+"/clarifications", page+"/clarifications/"+list[0].ID+"/answer", answer); r.Status != http.StatusSeeOther {
			t.Fatalf("answer: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if !notified(t, h, "demo-supplier-2", notify.KindClarificationAnswered, "FHIR UK Core") {
			t.Error("the other invited supplier was not told the public answer")
		}
		if r := gstt.PostForm(page, page+"/clarifications/"+list[0].ID+"/answer", answer); r.Status != http.StatusNotFound {
			t.Fatalf("a buying trust's board member answers: status %d", r.Status)
		}

		// The lead extends the deadline, with a reason every invitee is told.
		dates := page + "/dates"
		form := url.Values{"version": {strconv.Itoa(c.Version)}}
		setMoment(form, competition.FieldQuestionDeadline, c.QuestionDeadline)
		setMoment(form, competition.FieldSubmissionDeadline, c.SubmissionDeadline.AddDate(0, 0, 7))
		setMoment(form, competition.FieldEvaluationEnd, c.EvaluationEnd)
		setMoment(form, competition.FieldPlannedAward, c.PlannedAward)
		if r := lead.PostForm(dates, dates, form); r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "Say why the dates are changing") {
			t.Fatalf("extension without a reason: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		form.Set("reason", "Trusts asked for more time over the holidays.")
		if r := lead.PostForm(dates, dates, form); r.Status != http.StatusSeeOther {
			t.Fatalf("extend: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		for _, s := range []string{"demo-supplier", "demo-supplier-2"} {
			if !notified(t, h, s, notify.KindDeadlineChange, "more time over the holidays") {
				t.Errorf("%s was not told of the new deadline", s)
			}
		}
		newDeadline := uktime.MomentWithDay(c.SubmissionDeadline.AddDate(0, 0, 7))
		if r := sarah.Get(page + "/bid"); !strings.Contains(r.Body, "close at "+newDeadline) || !strings.Contains(r.Body, "Changes since publication") {
			t.Fatalf("the supplier's page does not show the new deadline %s", newDeadline)
		}

		// A changed requirement, with its reason.
		change := page + "/requirements/change"
		cf := url.Values{"reason": {"Clarified after questions."}}
		for _, rq := range mustCompetitionReqs(t, h, id) {
			cf.Set("text-"+rq.ID, rq.Text)
			cf.Set("weight-"+rq.ID, strconv.Itoa(rq.Weight))
			cf.Set("version-"+rq.ID, strconv.Itoa(rq.Version))
			if rq.Reference == "EPR-LOC-001" {
				cf.Set("text-"+rq.ID, "The system must interface with pathology through FHIR UK Core.")
			}
		}
		if r := lead.PostForm(change, change, cf); r.Status != http.StatusSeeOther {
			t.Fatalf("change requirement: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if !notified(t, h, "demo-supplier", notify.KindProcurementChange, "through FHIR UK Core") {
			t.Error("the supplier was not told of the changed requirement")
		}

		// Cancelled, with a reason every invitee is told.
		if r := lead.PostForm(page+"/cancel", page+"/cancel", nil); r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "Say why the competition is cancelled") {
			t.Fatalf("cancel without a reason: status %d", r.Status)
		}
		if r := lead.PostForm(page+"/cancel", page+"/cancel", url.Values{"reason": {"Funding withdrawn."}}); r.Status != http.StatusSeeOther {
			t.Fatalf("cancel: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if !notified(t, h, "demo-supplier-2", notify.KindProcurementChange, "Funding withdrawn.") {
			t.Error("a declined supplier was not told of the cancellation")
		}
		if r := sarah.Get(page + "/bid"); !strings.Contains(r.Body, "Cancelled") || !strings.Contains(r.Body, "Funding withdrawn.") {
			t.Fatal("the supplier's page does not say the competition was cancelled")
		}
		if r := lead.Get("/competitions"); !strings.Contains(r.Body, "SWL-EPR-2027-01") || !strings.Contains(r.Body, "Cancelled") {
			t.Fatalf("the lead's list:\n%s", r.Body)
		}
		if r := gstt.Get("/competitions"); !strings.Contains(r.Body, "SWL-EPR-2027-01") {
			t.Fatal("the buying trust's list lacks the competition")
		}

		// A second competition, published while Northgate's appointment is
		// suspended: Northgate is not invited, so it finds nothing of it.
		tom := audit.Actor{UserID: h.UserID(t, "demo-consortium-lead"), OrgID: fw.ConsortiumID}
		apps, _ := h.App.Framework.Applications(ctx, fw.ID)
		for _, a := range apps {
			if a.Supplier.Name == "Northgate Clinical Software Ltd" {
				if err := h.App.Framework.SetAppointment(ctx, tom, a.ID, framework.AppointmentSuspended, "Insolvency notice received"); err != nil {
					t.Fatal(err)
				}
			}
		}
		secondComp, _ := biddingCompetition(t, h, aisha, lot.ID, ben)
		second := secondComp.ID
		if err := h.App.Competition.AddDocument(ctx, aisha, second, doc.ID, "Specification"); err != nil {
			t.Fatal(err)
		}
		other := "/competitions/" + second
		for _, p := range []string{other + "/bid", other + "/questions", other + "/documents/" + doc.ID, other} {
			if r := james.Get(p); r.Status != http.StatusNotFound {
				t.Fatalf("supplier not invited GET %s: status %d", p, r.Status)
			}
		}
		if r := james.PostForm(page+"/bid", other+"/decline", url.Values{"reason": {"x"}}); r.Status != http.StatusNotFound {
			t.Fatalf("supplier not invited declines: status %d", r.Status)
		}
		if countAudit(h, "competition.supplier.read", audit.Denied, second) != 3 || countAudit(h, "competition.supplier.write", audit.Denied, second) != 1 {
			t.Fatal("the uninvited supplier's attempts were not all audited")
		}
		if r := sarah.Get(other + "/bid"); r.Status != http.StatusOK {
			t.Fatalf("invited supplier GET the second competition: status %d", r.Status)
		}
		if n, brk, err := audit.Verify(ctx, h.App.DB); err != nil || brk != nil {
			t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
		}
	})
}

func mustCompetitionReqs(t *testing.T, h *apptest.Harness, id string) []competition.Requirement {
	t.Helper()
	reqs, err := h.App.Competition.Requirements(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}
