package evaluation_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestUndeclaredSeesNoBid: after the opening, a panel member who has not
// declared their interests can read, mark or see the marks of no bid, and
// every refusal is audited; the lead trust's trust lead, not on the
// panel, reads without declaring.
func TestUndeclaredSeesNoBid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		c, bids := x.opened(t, "SWL-EPR-2027-01", priced{x.Sarah, 100}, priced{x.James, 100})
		reqs := x.reqs(t, c)
		for _, b := range bids {
			if _, err := x.Competitions.BidContent(ctx, x.Ben, b.ID); !errors.Is(err, competition.ErrUndeclared) {
				t.Fatalf("an undeclared panel member read %s: %v", b.Supplier.Name, err)
			}
			if err := x.ev.SaveScores(ctx, x.Ben, b.ID, marks(reqs, 3, true, nil)); !errors.Is(err, competition.ErrUndeclared) {
				t.Fatalf("an undeclared panel member marked %s: %v", b.Supplier.Name, err)
			}
			if _, err := x.ev.MyScores(ctx, x.Ben, b.ID); !errors.Is(err, competition.ErrUndeclared) {
				t.Fatalf("an undeclared panel member opened a mark sheet: %v", err)
			}
			if _, err := x.ev.Scores(ctx, x.Ben, b.ID); !errors.Is(err, competition.ErrUndeclared) {
				t.Fatalf("an undeclared panel member read the marks: %v", err)
			}
			for action, want := range map[string]int64{"competition.bid.read": 1, "evaluation.scores.save": 1, "evaluation.scores.read": 2} {
				if n := denied(t, db, action, b.ID); n != want {
					t.Errorf("%s refused %d times in the audit log, want %d", action, n, want)
				}
			}
			if _, err := x.Competitions.BidContent(ctx, x.Aisha, b.ID); err != nil {
				t.Fatalf("the lead reading a bid: %v", err)
			}
		}
		if n := count(t, db, "competition_scores", ""); n != 0 {
			t.Fatalf("%d marks saved", n)
		}
		// Once declared, the bids open to the panel member.
		x.Declare(t, c, x.Ben, nil)
		for _, b := range bids {
			if _, err := x.Competitions.BidContent(ctx, x.Ben, b.ID); err != nil {
				t.Fatalf("a declared panel member reading %s: %v", b.Supplier.Name, err)
			}
		}
	})
}

// TestConflictBlocksScoring: an evaluator who declared a conflict with a
// supplier can neither see nor score its bid, nor see its marks, and every
// refusal is audited; they score the other bid, and the conflicted bid is
// scored by the rest of the panel alone.
func TestConflictBlocksScoring(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		c, bids := x.opened(t, "SWL-EPR-2027-01", priced{x.Sarah, 100}, priced{x.James, 100})
		reqs := x.reqs(t, c)
		meridian, northgate := bids[x.Sarah.OrgID], bids[x.James.OrgID]
		x.Declare(t, c, x.Ben, map[string]string{x.Sarah.OrgID: "I was employed by Meridian until last year."})
		x.Declare(t, c, x.Chloe, nil)

		if _, err := x.Competitions.BidContent(ctx, x.Ben, meridian.ID); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("a conflicted evaluator read the bid: %v", err)
		}
		if err := x.ev.SaveScores(ctx, x.Ben, meridian.ID, marks(reqs, 3, true, nil)); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("a conflicted evaluator marked the bid: %v", err)
		}
		if err := x.ev.SubmitScores(ctx, x.Ben, meridian.ID); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("a conflicted evaluator submitted marks: %v", err)
		}
		if _, err := x.ev.MyScores(ctx, x.Ben, meridian.ID); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("a conflicted evaluator opened a mark sheet: %v", err)
		}
		for action, want := range map[string]int64{"competition.bid.read": 1, "evaluation.scores.save": 1, "evaluation.scores.submit": 1, "evaluation.scores.read": 1} {
			if n := denied(t, db, action, meridian.ID); n != want {
				t.Errorf("%s refused %d times in the audit log, want %d", action, n, want)
			}
		}
		var detail string
		db.Table("audit_entries").Select("detail").Where("action = ? AND object_id = ?", "evaluation.scores.save", meridian.ID).Scan(&detail)
		if !strings.Contains(detail, "you declared a conflict of interest with this supplier") {
			t.Fatalf("refused marking audited as %s", detail)
		}
		if n := count(t, db, "competition_scores", "bid_id = ?", meridian.ID); n != 0 {
			t.Fatalf("%d marks saved for the conflicted bid", n)
		}

		// Ben scores Northgate; Chloe alone scores Meridian, and once she
		// has, Meridian's marks are complete without Ben's.
		x.score(t, x.Ben, northgate, reqs, 3, true)
		x.score(t, x.Chloe, meridian, reqs, 2, true)
		progress, err := x.ev.Progress(ctx, x.Aisha, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]int{}
		for _, p := range progress {
			got[p.Bid.SupplierOrgID] = [2]int{p.Scorers, p.Submitted}
		}
		if got[x.Sarah.OrgID] != [2]int{1, 1} || got[x.James.OrgID] != [2]int{2, 1} {
			t.Fatalf("progress %v", got)
		}
		sc, err := x.ev.Scores(ctx, x.Chloe, meridian.ID)
		if err != nil || len(sc.Evaluations) != 1 || sc.Evaluations[0].Evaluator.UserID != x.Chloe.UserID {
			t.Fatalf("Meridian's marks %+v (err %v)", sc, err)
		}
		if _, err := x.ev.Scores(ctx, x.Ben, meridian.ID); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("a conflicted evaluator read the marks once complete: %v", err)
		}
		if n := denied(t, db, "evaluation.scores.read", meridian.ID); n != 2 {
			t.Fatalf("marks reads refused %d times, want 2", n)
		}
	})
}

// TestMarksHiddenUntilAllSubmitted: an evaluator's marks stay theirs until
// every panel member who can score the bid has submitted: the others and
// the lead see counts only, and moderation is refused; submitted marks are
// final; once all are in, each sees all.
func TestMarksHiddenUntilAllSubmitted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		c, bids := x.opened(t, "SWL-EPR-2027-01", priced{x.Sarah, 100}, priced{x.James, 100})
		reqs := x.reqs(t, c)
		bid := bids[x.Sarah.OrgID]
		x.Declare(t, c, x.Ben, nil)
		x.Declare(t, c, x.Chloe, nil)

		x.score(t, x.Ben, bid, reqs, 4, true)
		if err := x.ev.SaveScores(ctx, x.Chloe, bid.ID, marks(reqs, 1, true, nil)); err != nil {
			t.Fatal(err)
		}
		for _, who := range []struct {
			name string
			err  func() error
		}{
			{"Ben", func() error { _, err := x.ev.Scores(ctx, x.Ben, bid.ID); return err }},
			{"Chloe", func() error { _, err := x.ev.Scores(ctx, x.Chloe, bid.ID); return err }},
			{"the lead", func() error { _, err := x.ev.Scores(ctx, x.Aisha, bid.ID); return err }},
			{"the lead moderating", func() error { _, err := x.ev.Moderation(ctx, x.Aisha, bid.ID); return err }},
		} {
			if err := who.err(); !errors.Is(err, evaluation.ErrScoresHidden) {
				t.Fatalf("%s saw the marks before all were in: %v", who.name, err)
			}
		}
		if n := denied(t, db, "evaluation.scores.read", bid.ID) + denied(t, db, "evaluation.moderation.read", bid.ID); n != 4 {
			t.Fatalf("hidden reads audited %d times, want 4", n)
		}
		mine, err := x.ev.MyScores(ctx, x.Chloe, bid.ID)
		if err != nil || mine.Submitted() || len(mine.Marks) != len(reqs) || *mine.Marks[0].Score != 1 {
			t.Fatalf("Chloe's own draft %+v (err %v)", mine, err)
		}
		progress, err := x.ev.Progress(ctx, x.Aisha, c.ID)
		if err != nil || progress[0].Bid.ID != bid.ID || progress[0].Scorers != 2 || progress[0].Submitted != 1 || progress[0].Complete() {
			t.Fatalf("progress %+v (err %v)", progress, err)
		}
		if _, err := x.ev.Progress(ctx, x.Omar, c.ID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("another trust's lead read the progress: %v", err)
		}

		// Moderation waits for every mark.
		err = x.ev.SaveModeration(ctx, x.Aisha, bid.ID, evaluation.ModerationInput{Marks: marks(reqs, 3, true, nil)})
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldModeration: "Moderate this bid once all its marks are in: 1 of the 2 panel members who can score it have submitted theirs",
		})
		if n := count(t, db, "competition_moderations", "") + count(t, db, "competition_consensus", ""); n != 0 {
			t.Fatalf("moderation saved before the marks were in: %d rows", n)
		}

		// Submitted marks are final.
		err = x.ev.SaveScores(ctx, x.Ben, bid.ID, marks(reqs, 0, false, nil))
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldScores: "You submitted your marks for this bid at midday on 15 March 2027 (UK time); they can no longer be changed",
		})

		if err := x.ev.SubmitScores(ctx, x.Chloe, bid.ID); err != nil {
			t.Fatal(err)
		}
		for _, actor := range []audit.Actor{x.Ben, x.Chloe, x.Aisha} {
			sc, err := x.ev.Scores(ctx, actor, bid.ID)
			if err != nil || len(sc.Evaluations) != 2 || !sc.Progress.Complete() {
				t.Fatalf("%s reading the marks once all are in: %+v (err %v)", actor.Label, sc, err)
			}
			for _, e := range sc.Evaluations {
				want := map[string]int{x.Ben.UserID: 4, x.Chloe.UserID: 1}[e.Evaluator.UserID]
				if m, ok := e.For(byRef(t, reqs, "EPR-MED-001").ID); !ok || *m.Score != want || !e.Submitted() {
					t.Fatalf("%s's marks as %s reads them: %+v", e.Evaluator.Name, actor.Label, e)
				}
			}
		}
	})
}

// TestBadMarksRefused: a mark outside the scale, a missing justification,
// the wrong kind of mark and one too long are refused, each against its
// requirement, with nothing saved in part; submitting needs every
// requirement marked.
func TestBadMarksRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		c, bids := x.opened(t, "SWL-EPR-2027-01", priced{x.Sarah, 100})
		reqs := x.reqs(t, c)
		bid := bids[x.Sarah.OrgID]
		x.Declare(t, c, x.Ben, nil)
		med1, med2, sec := byRef(t, reqs, "EPR-MED-001"), byRef(t, reqs, "EPR-MED-002"), byRef(t, reqs, "EPR-SEC-001")
		five, minus, three, yes := 5, -1, 3, true

		err := x.ev.SaveScores(ctx, x.Ben, bid.ID, []evaluation.MarkInput{
			{RequirementID: med1.ID, Score: &five, Justification: "Exceeds everything"},
			{RequirementID: med2.ID, Score: &three, Justification: "  "},
			{RequirementID: sec.ID, Score: &three, Justification: "Fine"},
		})
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldMark(med1):          "The mark for EPR-MED-001 must be on the scale of 0 (no response) to 4; 5 is not on it",
			evaluation.FieldJustification(med2): "Explain why you gave EPR-MED-002 this mark",
			evaluation.FieldMark(sec):           "EPR-SEC-001 is marked pass or fail, not on the 0 to 4 scale",
		})
		err = x.ev.SaveScores(ctx, x.Ben, bid.ID, []evaluation.MarkInput{
			{RequirementID: med1.ID, Score: &three, Justification: "Meets"},
			{RequirementID: med2.ID, Score: &minus, Justification: "Below the scale"},
			{RequirementID: sec.ID, Pass: &yes, Justification: strings.Repeat("x", 5001)},
		})
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldMark(med2):         "The mark for EPR-MED-002 must be on the scale of 0 (no response) to 4; -1 is not on it",
			evaluation.FieldJustification(sec): "The justification for EPR-SEC-001 must be 5,000 characters or fewer",
		})
		if n := count(t, db, "competition_scores", ""); n != 0 {
			t.Fatalf("%d marks saved from refused input", n)
		}
		if n := count(t, db, "audit_entries", "action = ?", "evaluation.scores.save"); n != 0 {
			t.Fatalf("refused marks audited as saved %d times", n)
		}

		// A draft of one mark saves; submitting wants the rest.
		if err := x.ev.SaveScores(ctx, x.Ben, bid.ID, []evaluation.MarkInput{{RequirementID: med1.ID, Score: &three, Justification: "Meets the descriptor for 3"}}); err != nil {
			t.Fatal(err)
		}
		err = x.ev.SubmitScores(ctx, x.Ben, bid.ID)
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldMark(med2): "Mark EPR-MED-002 before submitting",
			evaluation.FieldMark(sec):  "Mark EPR-SEC-001 before submitting",
		})
		if n := count(t, db, "competition_evaluations", ""); n != 0 {
			t.Fatalf("incomplete marks submitted")
		}
		// A blank mark clears the draft.
		if err := x.ev.SaveScores(ctx, x.Ben, bid.ID, []evaluation.MarkInput{{RequirementID: med1.ID}}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "competition_scores", ""); n != 0 {
			t.Fatalf("a cleared draft left %d marks", n)
		}
		// The lead trust's lead is not on the panel: they moderate, not mark.
		if err := x.ev.SaveScores(ctx, x.Aisha, bid.ID, marks(reqs, 3, true, nil)); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("the lead marked a bid: %v", err)
		}
	})
}

// TestSections: a panel member restricted to a section marks only its
// requirements; every section must keep someone to evaluate it; and the
// sections can no longer change once marks are submitted.
func TestSections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		c := x.Ready(t, domaintest.CompetitionInput("SWL-EPR-2027-01"))
		if _, err := x.Competitions.AddRequirement(ctx, x.Aisha, c.ID, competition.RequirementInput{
			Reference: "EPR-IG-001", Text: "The supplier must sign the trust's data processing agreement.", Priority: "Must",
			ResponseType: "Pass/fail", SectionTitle: "Information governance",
		}); err != nil {
			t.Fatal(err)
		}
		if err := x.Competitions.Publish(ctx, x.Aisha, c.ID); err != nil {
			t.Fatal(err)
		}
		c = x.Reload(t, c.ID)
		bids := x.open(t, c, priced{x.Sarah, 100})
		bid := bids[x.Sarah.OrgID]
		reqs := x.reqs(t, c)
		ig := byRef(t, reqs, "EPR-IG-001")

		if err := x.ev.SetSections(ctx, x.Ben, c.ID, x.Ben.UserID, []string{"Medicines"}); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("an evaluator set sections: %v", err)
		}
		if n := denied(t, db, "evaluation.sections.set", c.ID); n != 1 {
			t.Fatalf("refused sections audited %d times", n)
		}
		err := x.ev.SetSections(ctx, x.Aisha, c.ID, x.Ben.UserID, []string{"Estates"})
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldSections: `"Estates" is not a section of this competition's requirements; choose from the sections listed`,
		})
		if err := x.ev.SetSections(ctx, x.Aisha, c.ID, x.Ben.UserID, []string{"Medicines"}); err != nil {
			t.Fatal(err)
		}
		err = x.ev.SetSections(ctx, x.Aisha, c.ID, x.Chloe.UserID, []string{"Medicines"})
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldSections: "Nobody on the panel would evaluate section Information governance; give it to Chloe Adams or to another member",
		})
		if err := x.ev.SetSections(ctx, x.Aisha, c.ID, x.Chloe.UserID, []string{"Information governance"}); err != nil {
			t.Fatal(err)
		}
		panel, err := x.ev.Panel(ctx, c.ID)
		if err != nil || len(panel) != 2 || panel[0].UserID != x.Ben.UserID || strings.Join(panel[0].Sections, ",") != "Medicines" ||
			strings.Join(panel[1].Sections, ",") != "Information governance" {
			t.Fatalf("panel %+v (err %v)", panel, err)
		}

		x.Declare(t, c, x.Ben, nil)
		x.Declare(t, c, x.Chloe, nil)
		err = x.ev.SaveScores(ctx, x.Ben, bid.ID, marks(reqs, 3, true, nil))
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldMark(ig): "EPR-IG-001 is in section Information governance, which you do not evaluate",
		})
		var medicines []competition.Requirement
		for _, r := range reqs {
			if r.SectionTitle == "Medicines" {
				medicines = append(medicines, r)
			}
		}
		x.score(t, x.Ben, bid, medicines, 3, true)
		x.score(t, x.Chloe, bid, []competition.Requirement{ig}, 0, true)
		sc, err := x.ev.Scores(ctx, x.Aisha, bid.ID)
		if err != nil || !sc.Progress.Complete() || len(sc.Evaluations) != 2 || len(sc.Evaluations[0].Marks) != 3 || len(sc.Evaluations[1].Marks) != 1 {
			t.Fatalf("marks by section %+v (err %v)", sc, err)
		}
		err = x.ev.SetSections(ctx, x.Aisha, c.ID, x.Ben.UserID, nil)
		domaintest.WantErrors(t, err, map[string]string{
			evaluation.FieldSections: "Marks have been submitted, so the sections each member evaluates can no longer change",
		})
	})
}
