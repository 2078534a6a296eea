package evaluation_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// race is one competition evaluated to the end of moderation: three bids,
// Meridian at 100p a unit, Northgate at 70p and Supplier 00 at 10p; Ben
// declared a conflict with Supplier 00, so only Chloe scores it.
type race struct {
	c                              *competition.Competition
	reqs                           []competition.Requirement
	meridian, northgate, supplier0 competition.Bid
}

// evaluate runs a competition to the end of moderation with the tie-break
// rule given. The consensus makes Meridian and Northgate equal on total
// points: Meridian 4 and 4 (quality 60) and price 70/100 x 40 = 28, total
// 88; Northgate 4 and 2 (quality 48) and the lowest price, 40, total 88.
// Supplier 00, cheapest of all, fails the pass/fail gate, so it is not
// ranked and its price is not the lowest the others are scored against.
// moderator moderates Supplier 00's bid (the others are Aisha's).
func (x *fixture) evaluate(t *testing.T, ref, tieBreak string, extra, moderator audit.Actor) race {
	t.Helper()
	ctx := context.Background()
	c, bids := x.opened(t, ref, priced{x.Sarah, 100}, priced{x.James, 70}, priced{extra, 10})
	r := race{c: c, reqs: x.reqs(t, c), meridian: bids[x.Sarah.OrgID], northgate: bids[x.James.OrgID], supplier0: bids[extra.OrgID]}
	x.Declare(t, c, x.Ben, map[string]string{extra.OrgID: "The managing director of Supplier 00 is my partner."})
	x.Declare(t, c, x.Chloe, nil)
	for _, b := range []competition.Bid{r.meridian, r.northgate} {
		x.score(t, x.Ben, b, r.reqs, 3, true)
	}
	for _, b := range []competition.Bid{r.meridian, r.northgate, r.supplier0} {
		x.score(t, x.Chloe, b, r.reqs, 2, b.ID != r.supplier0.ID)
	}
	x.moderate(t, r.meridian, r.reqs, true, map[string]int{"EPR-MED-001": 4, "EPR-MED-002": 4})
	x.moderate(t, r.northgate, r.reqs, true, map[string]int{"EPR-MED-001": 4, "EPR-MED-002": 2})
	if err := x.ev.SetTieBreak(ctx, x.Aisha, c.ID, tieBreak); err != nil {
		t.Fatal(err)
	}
	gate := byRef(t, r.reqs, "EPR-SEC-001")
	in := marks([]competition.Requirement{gate}, 0, false, nil)
	if err := x.ev.SaveModeration(ctx, moderator, r.supplier0.ID, evaluation.ModerationInput{Marks: in}); err != nil {
		t.Fatal(err)
	}
	return r
}

// wantResults checks the ranking, points and prices.
func wantResults(t *testing.T, res *evaluation.Results, r race, first, second competition.Bid) {
	t.Helper()
	if len(res.Bids) != 3 || res.Bids[0].Bid.ID != first.ID || res.Bids[1].Bid.ID != second.ID || res.Bids[2].Bid.ID != r.supplier0.ID {
		t.Fatalf("results in the order %+v", res.Bids)
	}
	if res.Lowest != 70*units {
		t.Fatalf("lowest price %d, want Northgate's %d (Supplier 00 failed a gate)", res.Lowest, 70*units)
	}
	want := map[string]struct {
		quality, price, total float64
		pence                 int64
		passed                bool
	}{
		r.meridian.ID:  {60, 28, 88, 100 * units, true},
		r.northgate.ID: {48, 40, 88, 70 * units, true},
		r.supplier0.ID: {0, 0, 0, 10 * units, false},
	}
	for i, b := range res.Bids {
		w := want[b.Bid.ID]
		if b.Quality != w.quality || b.Price != w.price || b.Total != w.total || b.TotalPrice != w.pence || b.Passed != w.passed {
			t.Errorf("%s: quality %v price %v total %v (%dp, passed %v), want %+v", b.Bid.Supplier.Name, b.Quality, b.Price, b.Total, b.TotalPrice, b.Passed, w)
		}
		if wantRank := []int{1, 2, 0}[i]; b.Rank != wantRank || b.Tied {
			t.Errorf("%s ranks %d (tied %v), want %d", b.Bid.Supplier.Name, b.Rank, b.Tied, wantRank)
		}
	}
	if f := res.Bids[2]; len(f.Failed) != 1 || f.Failed[0].Reference != "EPR-SEC-001" {
		t.Errorf("Supplier 00 failed %+v", f.Failed)
	}
}

// TestModerationRankingAndRecommendation runs two competitions to the
// recommendation, the same bids and marks in both, one breaking ties by
// quality, the other by price: moderation, the pass/fail gate that drops a
// bid from the ranking, the tie-break both ways, who may see the results,
// the recommendation and who may make it, the report and the assessment
// summaries.
func TestModerationRankingAndRecommendation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		extra := x.AppointMore(t, 1)[0]
		lena := domaintest.AddUser(t, db, domaintest.T0, "u-lena", "Lena Brooks", "trust_lead", x.RJ7)
		david := domaintest.DemoActor(t, db, "demo-board-member-gstt")

		// Quality breaks the tie: Meridian first.
		q := x.evaluate(t, "SWL-EPR-2027-01", evaluation.TieBreakQuality, extra, x.Aisha)
		res, err := x.ev.Results(ctx, x.Aisha, q.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, res, q, q.meridian, q.northgate)
		if res.PriceFormula != evaluation.FormulaLowestOverBid || res.TieBreak != evaluation.TieBreakQuality {
			t.Fatalf("rules %s, %s", res.PriceFormula, res.TieBreak)
		}
		if rules, err := x.ev.Rules(ctx, q.c.ID); err != nil || rules.ModeratedAt == nil || rules.RecommendedAt != nil {
			t.Fatalf("rules %+v (err %v)", rules, err)
		}
		if got := x.Reload(t, q.c.ID); got.Status != competition.StatusPublished || got.State(x.Clock.Now()) != competition.StateClosed {
			t.Fatalf("the competition's own state changed: %s, %s", got.Status, got.State(x.Clock.Now()))
		}

		// The moderation, with each mark beside the consensus.
		mod, err := x.ev.Moderation(ctx, x.Aisha, q.supplier0.ID)
		if err != nil || mod.Version != 1 || len(mod.Lines) != 3 {
			t.Fatalf("Supplier 00's moderation %+v (err %v)", mod, err)
		}
		for _, l := range mod.Lines {
			if len(l.Marks) != 1 || l.Marks[0].Evaluator.UserID != x.Chloe.UserID {
				t.Fatalf("%s: marks beside the consensus %+v (Ben is conflicted)", l.Requirement.Reference, l.Marks)
			}
			if (l.Requirement.Reference == "EPR-SEC-001") != (l.Consensus != nil) {
				t.Fatalf("%s: consensus %+v", l.Requirement.Reference, l.Consensus)
			}
		}
		if mod, err := x.ev.Moderation(ctx, x.Aisha, q.meridian.ID); err != nil || len(mod.Lines[0].Marks) != 2 || *mod.Lines[0].Consensus.Score != 4 {
			t.Fatalf("Meridian's moderation %+v (err %v)", mod, err)
		}

		// Only the lead trust sees results before the recommendation.
		for _, who := range []audit.Actor{x.Omar, x.Ben, x.Sarah, david} {
			if _, err := x.ev.Results(ctx, who, q.c.ID); !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s saw the results: %v", who.Label, err)
			}
		}
		if n := denied(t, db, "evaluation.results.read", q.c.ID); n != 4 {
			t.Fatalf("refused results audited %d times", n)
		}
		if _, err := x.ev.AssessmentSummary(ctx, q.c.ID, x.James.OrgID); !errors.Is(err, evaluation.ErrNoRecommendation) || !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an assessment summary before the recommendation: %v", err)
		}

		// Recommendation: the lead trust's trust lead only, the top bid only.
		due := x.Clock.Now().Add(14 * 24 * time.Hour)
		in := evaluation.RecommendationInput{CompetitionID: q.c.ID, BidID: q.meridian.ID, Rationale: "Highest quality on equal points.", ApprovalDue: due}
		for _, who := range []audit.Actor{x.Omar, x.Ben, x.Chloe, x.Sarah, david, x.Yara} {
			if _, err := x.ev.Recommend(ctx, who, in); !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s recommended: %v", who.Label, err)
			}
		}
		if n := denied(t, db, "evaluation.recommend", q.c.ID); n != 6 {
			t.Fatalf("refused recommendations audited %d times", n)
		}
		bad := in
		bad.BidID = q.northgate.ID
		_, err = x.ev.Recommend(ctx, x.Aisha, bad)
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldBid: "Northgate Clinical Software Ltd's bid ranks 2; recommend the top-ranked bid (Meridian Health Systems Ltd)",
		})
		bad.BidID = q.supplier0.ID
		_, err = x.ev.Recommend(ctx, x.Aisha, bad)
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldBid: "Supplier 00 Ltd's bid failed a pass/fail requirement, so it cannot be recommended",
		})
		bad = in
		bad.Rationale, bad.Quorum, bad.ApprovalDue = " ", 6, x.Clock.Now()
		_, err = x.ev.Recommend(ctx, x.Aisha, bad)
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldRationale:   "Say why this bid is recommended; the boards read it",
			evaluation.FieldQuorum:      "Enter how many approvals each buying trust's board must give, from 1 to 5",
			evaluation.FieldApprovalDue: "The approval date must be in the future, after midday on 15 March 2027 (UK time)",
		})
		if n := count(t, db, "competition_recommendations", ""); n != 0 {
			t.Fatalf("%d recommendations saved from refused input", n)
		}
		rec, err := x.ev.Recommend(ctx, x.Aisha, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.ev.Recommendation(ctx, q.c.ID)
		if err != nil || got.BidID != q.meridian.ID || got.SupplierOrgID != x.Sarah.OrgID || got.Quorum != evaluation.DefaultQuorum ||
			!got.ApprovalDue.Equal(due) || got.RecommendedBy != x.Aisha.UserID || got.Version != 1 || *rec != *got {
			t.Fatalf("recommendation %+v, made %+v (err %v)", got, rec, err)
		}
		values, err := x.ev.ValuePerBuyer(ctx, q.c.ID)
		if err != nil || len(values) != 2 || values[x.RJ7] != 100*6511 || values[x.RJ1] != 100*14000 {
			t.Fatalf("values %v (err %v)", values, err)
		}

		// The report, now for the buying trusts' boards too.
		report, err := x.ev.Report(ctx, david, q.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if report.Recommendation == nil || report.RecommendedByName != "Aisha Khan" || len(report.Values) != 2 ||
			report.Values[0].Buyer.OrganisationID != x.RJ7 || report.Values[0].TotalPence != 651_100 || report.Value() != 100*units {
			t.Fatalf("report's recommendation %+v by %q, values %+v", report.Recommendation, report.RecommendedByName, report.Values)
		}
		if len(report.Conflicts) != 1 || report.Conflicts[0].Name != "Ben Carter" || report.Conflicts[0].SupplierName != "Supplier 00 Ltd" ||
			report.Conflicts[0].Details != "The managing director of Supplier 00 is my partner." || report.Declared != 2 {
			t.Fatalf("report's conflicts %+v (%d declared)", report.Conflicts, report.Declared)
		}
		if len(report.Results.Bids) != 3 || report.Results.Bids[0].Rank != 1 || len(report.Results.Bids[0].Consensus) != 3 ||
			report.Results.Bids[0].Consensus[0].Rationale == "" || len(report.Panel) != 2 {
			t.Fatalf("report's results %+v", report.Results)
		}
		if _, err := x.ev.Report(ctx, x.Omar, q.c.ID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("another buying trust's lead read the report: %v", err)
		}

		// Once recommended, the evaluation is fixed.
		err = x.ev.SaveModeration(ctx, x.Aisha, q.northgate.ID, evaluation.ModerationInput{Marks: marks(q.reqs, 4, true, nil), Version: 1})
		domaintest.WantErrors(t, err, map[string]string{evaluation.FieldModeration: "The award has been recommended, so the evaluation can no longer change"})
		err = x.ev.SetTieBreak(ctx, x.Aisha, q.c.ID, evaluation.TieBreakPrice)
		domaintest.WantErrors(t, err, map[string]string{evaluation.FieldTieBreak: "Moderation is complete, so the tie-break rule can no longer change"})
		err = x.ev.SetPriceFormula(ctx, x.Aisha, q.c.ID, evaluation.FormulaLinear)
		domaintest.WantErrors(t, err, map[string]string{evaluation.FieldPriceFormula: "Moderation has started, so the price formula can no longer change"})

		// Assessment summaries: the supplier's own numbers and the winner's.
		sum, err := x.ev.AssessmentSummary(ctx, q.c.ID, x.James.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		if sum.SupplierName != "Northgate Clinical Software Ltd" || sum.WinnerName != "Meridian Health Systems Ltd" || sum.Successful ||
			sum.Own != (evaluation.SummaryPoints{Passed: true, Quality: 48, Price: 40, Total: 88}) ||
			sum.Winner != (evaluation.SummaryPoints{Passed: true, Quality: 60, Price: 28, Total: 88}) || len(sum.Lines) != 3 {
			t.Fatalf("Northgate's summary %+v", sum)
		}
		for _, l := range sum.Lines {
			switch l.Reference {
			case "EPR-MED-001":
				if *l.Own.Score != 4 || *l.Winner.Score != 4 || l.Weight != 60 {
					t.Errorf("EPR-MED-001 line %+v", l)
				}
			case "EPR-MED-002":
				if *l.Own.Score != 2 || *l.Winner.Score != 4 || l.Weight != 40 {
					t.Errorf("EPR-MED-002 line %+v", l)
				}
			case "EPR-SEC-001":
				if !l.PassFail || !*l.Own.Pass || !*l.Winner.Pass {
					t.Errorf("EPR-SEC-001 line %+v", l)
				}
			}
		}
		b, _ := json.Marshal(sum)
		for _, other := range []string{"Supplier 00", extra.OrgID, q.supplier0.ID, q.meridian.ID, q.northgate.ID, x.Sarah.OrgID, "Rationale", "Highest quality"} {
			if strings.Contains(string(b), other) {
				t.Fatalf("Northgate's summary holds %q: %s", other, b)
			}
		}
		failed, err := x.ev.AssessmentSummary(ctx, q.c.ID, extra.OrgID)
		if err != nil || failed.Own.Passed || failed.Own.Total != 0 || failed.Lines[0].Own.Score != nil || *failed.Lines[0].Winner.Score != 4 {
			t.Fatalf("Supplier 00's summary %+v (err %v)", failed, err)
		}
		if won, err := x.ev.AssessmentSummary(ctx, q.c.ID, x.Sarah.OrgID); err != nil || !won.Successful || won.Own != won.Winner {
			t.Fatalf("Meridian's summary %+v (err %v)", won, err)
		}
		if _, err := x.ev.AssessmentSummary(ctx, q.c.ID, x.Carl.OrgID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a summary for a supplier that did not bid: %v", err)
		}

		// Price breaks the tie: Northgate first. Here the lead also declared
		// a conflict with Supplier 00, so a second trust lead moderates its
		// bid and only she sees the results.
		x.Clock.Set(domaintest.At(2027, 3, 16, 9, 0))
		in2 := domaintest.CompetitionInput("SWL-EPR-2027-02")
		in2.Timeline = competition.Timeline{QuestionDeadline: domaintest.At(2027, 3, 20, 17, 0), SubmissionDeadline: domaintest.At(2027, 3, 30, 12, 0),
			EvaluationEnd: domaintest.At(2027, 4, 30, 17, 0), PlannedAward: domaintest.At(2027, 5, 14, 9, 0)}
		p := x.evaluatePrice(t, in2, extra, lena)
		if _, err := x.ev.Results(ctx, x.Aisha, p.c.ID); !errors.Is(err, evaluation.ErrConflictedLead) {
			t.Fatalf("a conflicted lead saw the results: %v", err)
		}
		res, err = x.ev.Results(ctx, lena, p.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, res, p, p.northgate, p.meridian)
		if _, err := x.ev.Recommend(ctx, x.Aisha, evaluation.RecommendationInput{CompetitionID: p.c.ID, BidID: p.northgate.ID, Rationale: "Lowest price", ApprovalDue: due}); !errors.Is(err, evaluation.ErrConflictedLead) {
			t.Fatalf("a conflicted lead recommended: %v", err)
		}

		// Marks, rationales and prices stay out of the audit log.
		var details []string
		db.Table("audit_entries").Where("detail <> ''").Pluck("detail", &details)
		for _, d := range details {
			for _, secret := range []string{strconv.Itoa(100 * units), strconv.Itoa(70 * units), "Against the descriptors", "my partner"} {
				if strings.Contains(d, secret) {
					t.Fatalf("the audit log holds %q: %s", secret, d)
				}
			}
		}
	})
}

// evaluatePrice is evaluate for a competition breaking ties by price, in
// which Aisha declared a conflict with Supplier 00: she cannot moderate
// its bid (refused and audited), lena does. It also checks the moderation
// rules on the way: a missing gate and rationale, a stale version, and the
// tie-break rule needed before the last bid.
func (x *fixture) evaluatePrice(t *testing.T, in competition.CompetitionInput, extra, lena audit.Actor) race {
	t.Helper()
	ctx := context.Background()
	c := x.Published(t, in)
	bids := x.open(t, c, priced{x.Sarah, 100}, priced{x.James, 70}, priced{extra, 10})
	r := race{c: c, reqs: x.reqs(t, c), meridian: bids[x.Sarah.OrgID], northgate: bids[x.James.OrgID], supplier0: bids[extra.OrgID]}
	x.Declare(t, c, x.Ben, map[string]string{extra.OrgID: "The managing director of Supplier 00 is my partner."})
	x.Declare(t, c, x.Chloe, nil)
	x.Declare(t, c, x.Aisha, map[string]string{extra.OrgID: "Supplier 00 is my former employer."})
	for _, b := range []competition.Bid{r.meridian, r.northgate} {
		x.score(t, x.Ben, b, r.reqs, 3, true)
	}
	for _, b := range []competition.Bid{r.meridian, r.northgate, r.supplier0} {
		x.score(t, x.Chloe, b, r.reqs, 2, b.ID != r.supplier0.ID)
	}
	med1, gate := byRef(t, r.reqs, "EPR-MED-001"), byRef(t, r.reqs, "EPR-SEC-001")

	four := 4
	err := x.ev.SaveModeration(ctx, x.Aisha, r.meridian.ID, evaluation.ModerationInput{Marks: []evaluation.MarkInput{{RequirementID: med1.ID, Score: &four}}})
	domaintest.WantErrors(t, err, map[string]string{
		evaluation.FieldJustification(med1):                   "Explain why you gave EPR-MED-001 this mark",
		evaluation.FieldMark(byRef(t, r.reqs, "EPR-MED-002")): "Record the panel's consensus mark for EPR-MED-002",
		evaluation.FieldMark(gate):                            "Record the panel's consensus for EPR-SEC-001: pass or fail",
	})
	x.moderate(t, r.meridian, r.reqs, true, map[string]int{"EPR-MED-001": 4, "EPR-MED-002": 3})
	// Saved again from the first version: refused as stale; from the
	// current one it replaces the first.
	err = x.ev.SaveModeration(ctx, x.Aisha, r.meridian.ID, evaluation.ModerationInput{Marks: marks(r.reqs, 4, true, nil)})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a stale moderation: %v", err)
	}
	if err := x.ev.SaveModeration(ctx, x.Aisha, r.meridian.ID, evaluation.ModerationInput{Marks: marks(r.reqs, 4, true, nil), Version: 1}); err != nil {
		t.Fatal(err)
	}
	x.moderate(t, r.northgate, r.reqs, true, map[string]int{"EPR-MED-001": 4, "EPR-MED-002": 2})

	failGate := evaluation.ModerationInput{Marks: marks([]competition.Requirement{gate}, 0, false, nil)}
	if err := x.ev.SaveModeration(ctx, x.Aisha, r.supplier0.ID, failGate); !errors.Is(err, competition.ErrConflicted) {
		t.Fatalf("a conflicted lead moderated: %v", err)
	}
	if _, err := x.ev.Moderation(ctx, x.Aisha, r.supplier0.ID); !errors.Is(err, competition.ErrConflicted) {
		t.Fatalf("a conflicted lead read the moderation: %v", err)
	}
	if n := denied(t, x.DB, "evaluation.moderation.save", r.supplier0.ID) + denied(t, x.DB, "evaluation.moderation.read", r.supplier0.ID); n != 2 {
		t.Fatalf("conflicted moderation refusals audited %d times", n)
	}
	if _, err := x.ev.Results(ctx, lena, c.ID); !errors.Is(err, evaluation.ErrNotModerated) {
		t.Fatalf("results before moderation is complete: %v", err)
	}
	err = x.ev.SaveModeration(ctx, lena, r.supplier0.ID, failGate)
	domaintest.WantErrors(t, err, map[string]string{
		evaluation.FieldTieBreak: "Record the tie-break rule (higher quality points or lower total price) before moderating the last bid",
	})
	err = x.ev.SetTieBreak(ctx, x.Aisha, c.ID, "coin")
	domaintest.WantErrors(t, err, map[string]string{evaluation.FieldTieBreak: "Choose how a tie is broken: higher quality points or lower total price"})
	if err := x.ev.SetTieBreak(ctx, lena, c.ID, evaluation.TieBreakPrice); err != nil {
		t.Fatal(err)
	}
	if err := x.ev.SaveModeration(ctx, lena, r.supplier0.ID, failGate); err != nil {
		t.Fatal(err)
	}
	return r
}
