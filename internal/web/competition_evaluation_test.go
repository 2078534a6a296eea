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
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/uktime"
)

// openedCompetition publishes a competition led by St George's with the
// panel given, has Meridian bid 10 pence a licence and Northgate 12, and
// opens the bids with the lead's key and the first panel member's after
// the deadline. It returns the competition and the bids by supplier name.
func openedCompetition(t *testing.T, h *apptest.Harness, lead audit.Actor, panel ...audit.Actor) (*competition.Competition, map[string]competition.Bid) {
	t.Helper()
	ctx := context.Background()
	_, lot := liveFramework(t, h)
	ids := make([]string, len(panel))
	for i, p := range panel {
		ids[i] = p.UserID
	}
	comp, _ := biddingCompetition(t, h, lead, lot.ID, ids...)
	bidAndOpen(t, h, comp, map[string]int64{"demo-supplier": 10, "demo-supplier-2": 12}, lead, panel[0])
	bids, err := h.App.Competition.OpenedBids(ctx, lead, comp.ID)
	if err != nil || len(bids) != 2 {
		t.Fatalf("opened %d bids (err %v)", len(bids), err)
	}
	out := map[string]competition.Bid{}
	for _, b := range bids {
		out[b.Supplier.Name] = b
	}
	return comp, out
}

// bidAndOpen has each demo supplier named in prices bid that many pence,
// moves the clock past the deadline and opens the bids with the two keys.
func bidAndOpen(t testing.TB, h *apptest.Harness, comp *competition.Competition, prices map[string]int64, keys ...audit.Actor) {
	t.Helper()
	for subject, pence := range prices {
		who := audit.Actor{UserID: h.UserID(t, subject), OrgID: actingOrg(t, h, subject)}
		domaintest.SubmitBid(t, h.App.Competition, comp, who, domaintest.CompleteBid(t, h.App.Competition, comp, subject+" answers", pence))
	}
	h.Clock.Set(comp.SubmissionDeadline.Add(time.Minute))
	for _, who := range keys {
		if _, err := h.App.Competition.OpenBids(context.Background(), who, comp.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// markForm is a complete mark form for the requirements: pass for the
// pass/fail ones, score for the others, each justified with why.
func markForm(reqs []competition.Requirement, score, why string) url.Values {
	f := url.Values{}
	for _, r := range reqs {
		if r.ResponseType == catalogue.PassFail {
			f.Set("pass-"+r.ID, "pass")
		} else {
			f.Set("score-"+r.ID, score)
		}
		f.Set("justification-"+r.ID, why+" "+r.Reference)
	}
	return f
}

// reqByRef finds a requirement by reference.
func reqByRef(t *testing.T, reqs []competition.Requirement, ref string) competition.Requirement {
	t.Helper()
	for _, r := range reqs {
		if r.Reference == ref {
			return r
		}
	}
	t.Fatalf("no requirement %s", ref)
	return competition.Requirement{}
}

var moderationVersion = regexp.MustCompile(`name="version" value="(\d+)"`)

// moderate posts the lead's consensus for a bid from its moderation page,
// with the version the page carries.
func moderate(t *testing.T, b *apptest.Browser, page string, form url.Values) apptest.Response {
	t.Helper()
	m := moderationVersion.FindStringSubmatch(b.Get(page).Body)
	if m == nil {
		t.Fatalf("no moderation version on %s", page)
	}
	form.Set("version", m[1])
	return b.PostForm(page, page, form)
}

// TestCompetitionEvaluationJourney: panel members declare their interests
// (a conflict needs its details; the form keeps what was chosen), a
// conflicted evaluator gets 404 on that bid and the refusal is audited;
// marks outside the scale or without a justification are refused with the
// input kept; nobody sees another's marks until all are in; moderation
// before then is refused with a clear message; the lead moderates (the
// last bid needs the tie-break rule), sees the results and recommends; the
// report shows the ranking, the chart and the conflicts, to the lead and,
// once recommended, the buying trust's board. A supplier gets 404 on every
// evaluation page.
func TestCompetitionEvaluationJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		rj7 := orgID(t, h, "RJ7")
		aisha := audit.Actor{UserID: h.UserID(t, "demo-trust-lead"), OrgID: rj7}
		ben := audit.Actor{UserID: h.UserID(t, "demo-evaluator"), OrgID: rj7}
		chloe := h.AddPerson(t, "eval-chloe", "Chloe Adams", authz.Evaluator, rj7)
		comp, bids := openedCompetition(t, h, aisha, ben, chloe)
		meridian, northgate := bids["Meridian Health Systems Ltd"], bids["Northgate Clinical Software Ltd"]
		if meridian.ID == "" || northgate.ID == "" {
			t.Fatalf("bids by supplier: %v", bids)
		}
		reqs := mustCompetitionReqs(t, h, comp.ID)
		scored := reqByRef(t, reqs, "EPR-MED-001")
		gate := reqByRef(t, reqs, "EPR-MED-002")
		page := "/competitions/" + comp.ID
		ev := page + "/evaluation"
		mPage, nPage := ev+"/bids/"+meridian.ID, ev+"/bids/"+northgate.ID

		// A supplier sees none of it.
		sarah := h.Browser(t)
		sarah.SignInAs("demo-supplier")
		fill := strings.NewReplacer(":id", comp.ID, ":bid", meridian.ID, ":user", ben.UserID)
		walked := 0
		for _, rt := range h.App.Server.Routes() {
			if !strings.HasPrefix(rt.Path, "/competitions/:id/evaluation") {
				continue
			}
			walked++
			p := fill.Replace(rt.Path)
			var r apptest.Response
			if rt.Method == http.MethodGet {
				r = sarah.Get(p)
			} else {
				r = sarah.PostForm("/", p, url.Values{})
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("supplier %s %s: status %d", rt.Method, p, r.Status)
			}
		}
		if walked < 12 {
			t.Fatalf("only %d evaluation routes walked", walked)
		}

		lead := h.Browser(t)
		lead.SignInAs("demo-trust-lead")
		if r := lead.Get(page); !strings.Contains(r.Body, `href="`+ev+`"`) {
			t.Error("the competition page does not link to the evaluation")
		}
		if r := lead.Get(page + "/bids"); !strings.Contains(r.Body, `href="`+ev+`"`) {
			t.Error("the bids page does not link to the evaluation")
		}

		// Ben must declare before seeing any bid.
		bb := h.Browser(t)
		bb.SignInAs("demo-evaluator")
		if r := bb.Get(ev); r.Status != http.StatusOK || !strings.Contains(r.Body, `href="`+ev+`/declaration"`) || !strings.Contains(r.Body, "Declare your interests first") {
			t.Fatalf("Ben's overview before declaring: status %d\n%s", r.Status, r.Body)
		}
		if r := bb.Get(mPage); r.Status != http.StatusNotFound {
			t.Fatalf("a bid before declaring: status %d", r.Status)
		}
		mf, nf := competition.FieldConflict(meridian.SupplierOrgID), competition.FieldConflict(northgate.SupplierOrgID)
		r := bb.PostForm(ev+"/declaration", ev+"/declaration", url.Values{mf: {"yes"}})
		summary := errorSummary(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(summary, "Say what your conflict of interest with Meridian") ||
			!strings.Contains(summary, "Say whether you have a conflict of interest with Northgate") ||
			!strings.Contains(r.Body, `value="yes" aria-controls="conditional-`+mf+`" checked`) {
			t.Fatalf("incomplete declaration: status %d\n%s", r.Status, summary)
		}
		if r := bb.PostForm(ev+"/declaration", ev+"/declaration", url.Values{mf: {"no"}, nf: {"no"}}); r.Status != http.StatusSeeOther || r.Location != ev+"/declaration" {
			t.Fatalf("Ben's declaration: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := bb.Get(ev + "/declaration"); strings.Count(r.Body, "No conflict of interest, declared") != 2 {
			t.Fatalf("what Ben declared is not shown:\n%s", r.Body)
		}

		// Chloe declares a conflict with Northgate: its bid is 404 to her, audited.
		cb := h.Browser(t)
		cb.SignInAs("eval-chloe")
		const conflict = "My brother is Northgate's sales director"
		if r := cb.PostForm(ev+"/declaration", ev+"/declaration", url.Values{mf: {"no"}, nf: {"yes"}, competition.FieldConflictDetails(northgate.SupplierOrgID): {conflict}}); r.Status != http.StatusSeeOther {
			t.Fatalf("Chloe's declaration: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		before := countAudit(h, "evaluation.scores.read", audit.Denied, northgate.ID)
		if r := cb.Get(nPage); r.Status != http.StatusNotFound || strings.Contains(r.Body, "demo-supplier-2 answers") {
			t.Fatalf("the conflicted evaluator's GET: status %d", r.Status)
		}
		if r := cb.PostForm(ev, nPage, markForm(reqs, "4", "x")); r.Status != http.StatusNotFound {
			t.Fatalf("the conflicted evaluator's marks: status %d", r.Status)
		}
		if countAudit(h, "evaluation.scores.read", audit.Denied, northgate.ID) <= before {
			t.Error("the conflicted evaluator's attempt was not audited")
		}
		if r := cb.Get(ev); !strings.Contains(r.Body, "You declared a conflict of interest: you do not see or score this bid") {
			t.Errorf("Chloe's overview does not say she does not score Northgate:\n%s", r.Body)
		}

		// The lead gives Chloe the medicines section; taking it from Ben
		// too would leave interoperability to nobody.
		if r := lead.PostForm(ev, ev+"/panel/"+chloe.UserID, url.Values{"section": {"Medicines"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("Chloe's sections: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		r = lead.PostForm(ev, ev+"/panel/"+ben.UserID, url.Values{"section": {"Medicines"}})
		if r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "Nobody on the panel would evaluate section Interoperability") ||
			!strings.Contains(r.Body, `id="sections-`+ben.UserID+`-error"`) {
			t.Fatalf("leaving a section to nobody: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// Ben's marks: off the scale and unjustified are refused, input kept.
		bad := markForm(reqs, "7", "Strong live references")
		bad.Set("justification-"+gate.ID, "")
		bad.Set("action", "save")
		r = bb.PostForm(mPage, mPage, bad)
		summary = errorSummary(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(summary, "The mark for EPR-MED-001 must be on the scale of 0 (no response) to 4; 7 is not on it") ||
			!strings.Contains(summary, "Explain why you gave EPR-MED-002 this mark") || !strings.Contains(r.Body, "Strong live references EPR-MED-001</textarea>") {
			t.Fatalf("bad marks: status %d\n%s", r.Status, summary)
		}
		if r := bb.PostForm(mPage, mPage, url.Values{"score-" + scored.ID: {"3"}, "justification-" + scored.ID: {"Draft"}, "action": {"save"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("draft: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := bb.Get(ev); !strings.Contains(r.Body, "Draft saved: 1 of 3 marked") {
			t.Errorf("the overview does not show Ben's draft:\n%s", r.Body)
		}
		submit := markForm(reqs, "4", "Ben: live at 40 trusts")
		submit.Set("action", "submit")
		if r := bb.PostForm(mPage, mPage, submit); r.Status != http.StatusSeeOther {
			t.Fatalf("Ben submits Meridian: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// Chloe's draft stays hidden from Ben until she submits.
		chloeMarks := url.Values{}
		for k, v := range markForm([]competition.Requirement{scored, gate}, "3", "Chloe: strong prescribing") {
			chloeMarks[k] = v
		}
		chloeMarks.Set("action", "save")
		if r := cb.PostForm(mPage, mPage, chloeMarks); r.Status != http.StatusSeeOther {
			t.Fatalf("Chloe's draft: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		r = bb.Get(mPage)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "You submitted your marks") || !strings.Contains(r.Body, `id="marks-hidden"`) ||
			strings.Contains(r.Body, "Chloe: strong prescribing") || strings.Contains(r.Body, `name="score-`+scored.ID+`"`) {
			t.Fatalf("Ben's page before everyone has submitted:\n%s", r.Body)
		}

		// Moderation before all marks are in: refused, with the count.
		if r := lead.Get(mPage + "/moderate"); r.Status != http.StatusOK || !strings.Contains(r.Body, "once all its marks are in: 1 of the 2 panel members") || strings.Contains(r.Body, "Ben: live at 40 trusts") {
			t.Fatalf("moderation page before all marks: status %d\n%s", r.Status, r.Body)
		}
		r = lead.PostForm(mPage+"/moderate", mPage+"/moderate", markForm(reqs, "4", "Consensus"))
		if r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "Moderate this bid once all its marks are in: 1 of the 2 panel members") {
			t.Fatalf("moderating before all marks: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// Everyone submits: the marks are shown to the panel.
		chloeMarks.Set("action", "submit")
		if r := cb.PostForm(mPage, mPage, chloeMarks); r.Status != http.StatusSeeOther {
			t.Fatalf("Chloe submits: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		northgateMarks := markForm(reqs, "3", "Ben: piloting only")
		northgateMarks.Set("action", "submit")
		if r := bb.PostForm(nPage, nPage, northgateMarks); r.Status != http.StatusSeeOther {
			t.Fatalf("Ben submits Northgate: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := bb.Get(mPage); !strings.Contains(r.Body, "Chloe: strong prescribing EPR-MED-001") || strings.Contains(r.Body, `id="marks-hidden"`) {
			t.Fatalf("the marks are not shown once all are in:\n%s", r.Body)
		}

		// The lead moderates; the last bid needs the tie-break rule.
		if r := lead.Get(mPage + "/moderate"); !strings.Contains(r.Body, "Chloe: strong prescribing EPR-MED-001") || !strings.Contains(r.Body, "Ben: live at 40 trusts EPR-MED-001") {
			t.Fatalf("the moderation page does not show the marks:\n%s", r.Body)
		}
		if r := lead.PostForm(ev, ev+"/price-formula", url.Values{"price_formula": {"lowest_over_bid"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("price formula: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := moderate(t, lead, mPage+"/moderate", markForm(reqs, "4", "Agreed: excellent")); r.Status != http.StatusSeeOther {
			t.Fatalf("moderating Meridian: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		r = moderate(t, lead, nPage+"/moderate", markForm(reqs, "3", "Agreed: good"))
		if r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), `href="`+ev+`#tie_break"`) || !strings.Contains(r.Body, "Agreed: good EPR-MED-001</textarea>") {
			t.Fatalf("moderating the last bid without a tie-break rule: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := lead.PostForm(ev, ev+"/tie-break", url.Values{"tie_break": {"price"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("tie-break: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := moderate(t, lead, nPage+"/moderate", markForm(reqs, "3", "Agreed: good")); r.Status != http.StatusSeeOther {
			t.Fatalf("moderating Northgate: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		// Results, and the report for the lead only until recommended.
		margaret := h.Browser(t)
		margaret.SignInAs("demo-board-member")
		if r := margaret.Get(ev + "/report"); r.Status != http.StatusNotFound {
			t.Fatalf("the board before the recommendation: status %d", r.Status)
		}
		r = lead.Get(ev)
		if !strings.Contains(r.Body, `id="ranking"`) || !strings.Contains(r.Body, "100.00") || !strings.Contains(r.Body, "77.50") {
			t.Fatalf("the results:\n%s", r.Body)
		}
		due := h.Clock.Now().In(uktime.Location).AddDate(0, 0, 14)
		rec := url.Values{"bid": {meridian.ID}, "quorum": {"9"},
			"approval_due-day": {strconv.Itoa(due.Day())}, "approval_due-month": {strconv.Itoa(int(due.Month()))}, "approval_due-year": {strconv.Itoa(due.Year())}}
		r = lead.PostForm(ev, ev+"/recommendation", rec)
		summary = errorSummary(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(summary, "Say why this bid is recommended") || !strings.Contains(summary, "from 1 to 5") || !strings.Contains(r.Body, `value="9"`) {
			t.Fatalf("a bad recommendation: status %d\n%s", r.Status, summary)
		}
		rec.Set("quorum", "2")
		rec.Set("rationale", "Best quality at the lowest price.")
		if r := lead.PostForm(ev, ev+"/recommendation", rec); r.Status != http.StatusSeeOther {
			t.Fatalf("recommending: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := lead.Get(ev); !strings.Contains(r.Body, "You recommended the award to <strong>Meridian") || !strings.Contains(r.Body, `href="`+page+`/award"`) {
			t.Fatalf("the overview after recommending:\n%s", r.Body)
		}

		if r := margaret.Get(ev); !strings.Contains(r.Body, `href="`+ev+`/report"`) || strings.Contains(r.Body, `id="ranking"`) {
			t.Errorf("the board's overview does not link to the report, or shows the results:\n%s", r.Body)
		}

		// The report: ranking, chart, values, conflicts.
		for who, b := range map[string]*apptest.Browser{"lead": lead, "board": margaret} {
			r := b.Get(ev + "/report")
			for _, want := range []string{`role="img"`, "Total points per bid", `id="ranking"`, "Chloe Adams", conflict, "£10.00", "Best quality at the lowest price.", "Agreed: excellent EPR-MED-001"} {
				if !strings.Contains(r.Body, strings.ReplaceAll(want, "'", "&#39;")) {
					t.Errorf("%s's report (status %d) lacks %q", who, r.Status, want)
				}
			}
		}
		if r := bb.Get(ev + "/report"); r.Status != http.StatusNotFound {
			t.Errorf("a panel member who is not a lead reads the report: status %d", r.Status)
		}
		if r := sarah.Get(ev + "/report"); r.Status != http.StatusNotFound {
			t.Errorf("the supplier reads the report: status %d", r.Status)
		}
		if n, brk, err := audit.Verify(ctx, h.App.DB); err != nil || brk != nil {
			t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
		}
	})
}
