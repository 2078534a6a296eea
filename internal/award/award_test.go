package award_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/standstill"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// fixture is a competition under a live framework with the award's
// services (domaintest.Award) whose bids from Meridian (cheaper, better
// marked), Northgate and a third supplier have been opened, scored by the
// panel, moderated and ranked, and whose award to Meridian Rita
// recommended: Rita is both a trust lead and a board member of St
// George's, so she may recommend but not decide. Margaret sits on St
// George's board, David on Guy's and St Thomas'.
type fixture struct {
	*domaintest.Award
	c     *competition.Competition
	bids  map[string]competition.Bid // by supplier organisation
	third audit.Actor                // supplier user of the third bidder
	rita  audit.Actor
	rec   *evaluation.Recommendation
}

func setup(t *testing.T, db *store.DB, quorum int) *fixture {
	t.Helper()
	x := &fixture{Award: domaintest.LiveAward(t, db)}
	x.rita = domaintest.AddUser(t, db, domaintest.T0, "u-rita", "Rita Shah", "trust_lead", x.RJ7)
	if err := db.Omit("User", "Organisation").Create(&orgs.Membership{ID: "m-rita-board", UserID: x.rita.UserID, OrganisationID: x.RJ7,
		Role: "board_member", Source: orgs.SourcePortal, CreatedAt: domaintest.T0}).Error; err != nil {
		t.Fatal(err)
	}
	x.third = x.AppointMore(t, 1)[0]

	x.c = x.Published(t, domaintest.CompetitionInput("SWL-EPR-AWARD"))
	x.Bid(t, x.c, x.Sarah, 1000)
	x.Bid(t, x.c, x.James, 1100)
	x.Bid(t, x.c, x.third, 1200)
	score := map[string]int{x.Sarah.OrgID: 4, x.James.OrgID: 3, x.third.OrgID: 2}
	x.bids, x.rec = x.Recommended(t, x.c, score, x.rita, x.Sarah.OrgID, quorum)
	return x
}

func (x *fixture) decide(t *testing.T, who audit.Actor, org, decision, comments string) error {
	t.Helper()
	return x.Awards.Decide(context.Background(), who, award.DecisionInput{CompetitionID: x.c.ID, OrganisationID: org, Decision: decision, Comments: comments})
}

func (x *fixture) approveAll(t *testing.T) {
	t.Helper()
	if err := x.decide(t, x.Margaret, x.RJ7, award.Approve, ""); err != nil {
		t.Fatal(err)
	}
	if err := x.decide(t, x.David, x.RJ1, award.Approve, "Approved at the board meeting of 20 March."); err != nil {
		t.Fatal(err)
	}
}

func (x *fixture) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	a, err := x.Awards.Approvals(ctx, x.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	aw, err := x.Awards.Award(ctx, x.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	chs, err := x.Awards.Challenges(ctx, x.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	open := false
	for _, ch := range chs {
		open = open || ch.Open()
	}
	return award.State(a, aw, open, x.Clock.Now())
}

func wantField(t *testing.T, err error, field, contains string) {
	t.Helper()
	v := domaintest.FieldErrors(t, err)
	if got := v.For(field); !strings.Contains(got, contains) {
		t.Fatalf("%s error %q, want one containing %q (all: %v)", field, got, contains, v)
	}
}

func denials(t *testing.T, db *store.DB, action string) int64 {
	t.Helper()
	return domaintest.Count(t, db, "audit_entries", "action = ? AND outcome = ?", action, audit.Denied)
}

// TestBoardApproval: each buying trust's board decides for its own trust
// only (trust A's board cannot approve for trust B, refused and audited);
// the recommender cannot decide; a rejection needs reasons and stops the
// award; every trust reaching its quorum approves it.
func TestBoardApproval(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := storetest.Open(t, kind)
			x := setup(t, db, 1)
			if st := x.state(t); st != award.StateAwaitingBoards {
				t.Fatalf("state %s, want awaiting boards", st)
			}
			// Margaret sits on St George's board, not Guy's and St Thomas'.
			if err := x.decide(t, x.Margaret, x.RJ1, award.Approve, ""); !errors.Is(err, award.ErrForbidden) {
				t.Fatalf("deciding for another trust: %v", err)
			}
			if n := denials(t, db, "award.board_decision"); n != 1 {
				t.Fatalf("%d refusals audited, want 1", n)
			}
			// The recommender is on St George's board, but cannot decide.
			wantField(t, x.decide(t, x.rita, x.RJ7, award.Approve, ""), award.FieldDecision, "You recommended this award")
			wantField(t, x.decide(t, x.Margaret, x.RJ7, "maybe", ""), award.FieldDecision, "Select whether the board approves")
			wantField(t, x.decide(t, x.Margaret, x.RJ7, award.Reject, " "), award.FieldComments, "Say why the board rejects")
			if n := domaintest.Count(t, db, "award_approvals", "competition_id = ?", x.c.ID); n != 0 {
				t.Fatalf("%d decisions saved from refused attempts", n)
			}
			if err := x.decide(t, x.Margaret, x.RJ7, award.Approve, ""); err != nil {
				t.Fatal(err)
			}
			wantField(t, x.decide(t, x.Margaret, x.RJ7, award.Approve, ""), award.FieldDecision, "already recorded")
			if st := x.state(t); st != award.StateAwaitingBoards {
				t.Fatalf("after one trust: %s", st)
			}
			if err := x.decide(t, x.David, x.RJ1, award.Approve, ""); err != nil {
				t.Fatal(err)
			}
			if st := x.state(t); st != award.StateApproved {
				t.Fatalf("after both trusts: %s", st)
			}
			// The lead trust's leads were told every board approved.
			notes := domaintest.Notes(t, db, award.KindAwardUpdate)
			if len(notes) == 0 || !strings.Contains(notes[len(notes)-1].Data["Update"].(string), "Every buying trust's board has approved") {
				t.Fatalf("approval notices: %+v", notes)
			}
		})
	}
}

// TestRejectionAndQuorum: with a quorum of two, one approval is not
// enough; a rejection (with reasons) stops the award, refusing further
// decisions and the sending of the decision.
func TestRejectionAndQuorum(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := storetest.Open(t, kind)
			x := setup(t, db, 2)
			ctx := context.Background()
			if err := x.decide(t, x.Margaret, x.RJ7, award.Approve, ""); err != nil {
				t.Fatal(err)
			}
			a, _ := x.Awards.Approvals(ctx, x.c.ID)
			if tr, _ := a.For(x.RJ7); tr.Approved || tr.Approvals != 1 || tr.BoardMembers() != 1 {
				t.Fatalf("St George's with one of two approvals: %+v", tr)
			}
			if err := x.decide(t, x.David, x.RJ1, award.Reject, "The price for Guy's and St Thomas' exceeds the budget."); err != nil {
				t.Fatal(err)
			}
			if st := x.state(t); st != award.StateRejected {
				t.Fatalf("state %s, want rejected", st)
			}
			second := domaintest.AddUser(t, db, domaintest.T0, "u-bm2", "Second Member", "board_member", x.RJ7)
			wantField(t, x.decide(t, second, x.RJ7, award.Approve, ""), award.FieldDecision, "A board has rejected this award")
			wantField(t, x.Awards.SendDecision(ctx, x.Aisha, award.SendInput{CompetitionID: x.c.ID}), award.FieldStandstill, "rejected")
		})
	}
}

// TestDecisionStandstillChallengeAndConfirm: the award letters carry each
// bidder's own assessment summary against the winner's and nothing of the
// third bidder; a voluntary standstill under the 2015 regulations runs 10
// days; confirming before it ends, or while a challenge is open, is
// refused with the reason; once confirmed the bids are settled and one
// contract per buying trust is made at the winning bid's price for it.
func TestDecisionStandstillChallengeAndConfirm(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := storetest.Open(t, kind)
			x := setup(t, db, 1)
			ctx := context.Background()
			if err := x.Awards.SendDecision(ctx, x.Omar, award.SendInput{CompetitionID: x.c.ID}); !errors.Is(err, award.ErrForbidden) {
				t.Fatalf("a buying trust's lead who does not lead: %v", err)
			}
			wantField(t, x.Awards.SendDecision(ctx, x.Aisha, award.SendInput{CompetitionID: x.c.ID}), award.FieldStandstill, "still to approve")
			x.approveAll(t)
			sent := x.Clock.Now().UTC().Truncate(time.Microsecond)
			if err := x.Awards.SendDecision(ctx, x.Aisha, award.SendInput{CompetitionID: x.c.ID, VoluntaryStandstill: true}); err != nil {
				t.Fatal(err)
			}
			aw, err := x.Awards.Award(ctx, x.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The recommendation can no longer change.
			_, err = x.Evaluation.Recommend(ctx, x.rita, evaluation.RecommendationInput{CompetitionID: x.c.ID, BidID: x.rec.BidID,
				Rationale: "Again.", Quorum: 1, ApprovalDue: x.Clock.Now().Add(24 * time.Hour), Version: x.rec.Version})
			wantField(t, err, evaluation.FieldState, "award decision has been sent")
			if want := standstill.End(standstill.PCR2015, sent); aw.StandstillEnds == nil || !aw.StandstillEnds.Equal(want) {
				t.Fatalf("standstill ends %v, want %v", aw.StandstillEnds, want)
			}
			letters := domaintest.Notes(t, db, award.KindAssessmentSummary)
			if len(letters) != 3 {
				t.Fatalf("%d letters, want one per bidder's supplier user", len(letters))
			}
			for _, l := range letters {
				if !strings.Contains(l.Data["Winner"].(string), "Meridian") {
					t.Fatalf("letter names the winner %v", l.Data["Winner"])
				}
				text := strings.ToLower(strings.Join([]string{l.Data["Organisation"].(string), l.Data["Winner"].(string)}, " "))
				if l.UserID == x.Sarah.UserID && l.Data["Successful"] != true {
					t.Fatalf("Meridian's letter: %+v", l.Data)
				}
				if l.UserID == x.James.UserID && (l.Data["Successful"] != false || strings.Contains(text, "supplier 00")) {
					t.Fatalf("Northgate's letter mentions another bidder: %+v", l.Data)
				}
			}

			// Confirming during the standstill is refused, naming its end.
			wantField(t, x.Awards.Confirm(ctx, x.Aisha, award.ConfirmInput{CompetitionID: x.c.ID, Start: domaintest.At(2027, 6, 1, 0, 0), End: domaintest.At(2032, 6, 1, 0, 0)}),
				award.FieldConfirm, "The standstill runs until")
			ch, err := x.Awards.RecordChallenge(ctx, x.Aisha, award.ChallengeInput{CompetitionID: x.c.ID, SupplierOrgID: x.James.OrgID,
				Details: "Northgate says its price was misread.", ReceivedAt: x.Clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			x.Clock.Set(aw.StandstillEnds.Add(time.Hour))
			if st := x.state(t); st != award.StatePaused {
				t.Fatalf("state with a challenge open: %s", st)
			}
			wantField(t, x.Awards.Confirm(ctx, x.Aisha, award.ConfirmInput{CompetitionID: x.c.ID, Start: domaintest.At(2027, 6, 1, 0, 0), End: domaintest.At(2032, 6, 1, 0, 0)}),
				award.FieldConfirm, "A challenge is open")
			if err := x.Awards.ResolveChallenge(ctx, x.Aisha, x.c.ID, ch.ID, award.ChallengeDismissed, "The price was read correctly."); err != nil {
				t.Fatal(err)
			}
			if st := x.state(t); st != award.StateReady {
				t.Fatalf("state after the challenge: %s", st)
			}
			before := domaintest.Count(t, db, "contracts", "1 = 1")
			if err := x.Awards.Confirm(ctx, x.Aisha, award.ConfirmInput{CompetitionID: x.c.ID, Start: domaintest.At(2032, 6, 1, 0, 0), End: domaintest.At(2027, 6, 1, 0, 0)}); err == nil {
				t.Fatal("a contract ending before it starts was accepted")
			}
			if n := domaintest.Count(t, db, "contracts", "1 = 1"); n != before {
				t.Fatalf("%d contracts made by a refused confirmation", n-before)
			}
			if err := x.Awards.Confirm(ctx, x.Aisha, award.ConfirmInput{CompetitionID: x.c.ID, Start: domaintest.At(2027, 6, 1, 0, 0), End: domaintest.At(2032, 6, 1, 0, 0)}); err != nil {
				t.Fatal(err)
			}
			if st := x.state(t); st != award.StateAwarded {
				t.Fatalf("state after confirming: %s", st)
			}
			values, err := x.Evaluation.ValuePerBuyer(ctx, x.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			made, err := x.Awards.Contracts.ForCompetition(ctx, x.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(made) != 2 {
				t.Fatalf("%d contracts, want one per buying trust", len(made))
			}
			for _, k := range made {
				if k.SupplierOrgID != x.Sarah.OrgID || k.ValuePence != values[k.OrganisationID] || k.ValuePence == 0 {
					t.Fatalf("contract %+v, want Meridian at %d", k, values[k.OrganisationID])
				}
			}
			if n := domaintest.Count(t, db, "competition_bids", "competition_id = ? AND status = ?", x.c.ID, award.BidSuccessful); n != 1 {
				t.Fatalf("%d successful bids", n)
			}
			if n := domaintest.Count(t, db, "competition_bids", "competition_id = ? AND status = ?", x.c.ID, award.BidUnsuccessful); n != 2 {
				t.Fatalf("%d unsuccessful bids", n)
			}
		})
	}
}

// TestCallOffWithoutStandstillAndNoticeUnderPA2023: a call-off under the
// 2015 regulations without a voluntary standstill may be confirmed at
// once; under the Procurement Act 2023 the standstill waits for the
// contract award notice and runs 8 working days from it.
func TestCallOffWithoutStandstillAndNoticeUnderPA2023(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := storetest.Open(t, kind)
			ctx := context.Background()
			x := setup(t, db, 1)
			x.approveAll(t)
			if err := x.Awards.SendDecision(ctx, x.Aisha, award.SendInput{CompetitionID: x.c.ID}); err != nil {
				t.Fatal(err)
			}
			if st := x.state(t); st != award.StateReady {
				t.Fatalf("a call-off without standstill: %s", st)
			}

			y := setup(t, storetest.Open(t, kind), 1)
			if err := y.DB.Exec("UPDATE competitions SET regime = 'pa2023' WHERE id = ?", y.c.ID).Error; err != nil {
				t.Fatal(err)
			}
			y.approveAll(t)
			wantField(t, y.Awards.SendDecision(ctx, y.Aisha, award.SendInput{CompetitionID: y.c.ID, VoluntaryStandstill: true}), award.FieldStandstill, "voluntary standstill")
			wantField(t, y.Awards.PublishNotice(ctx, y.Aisha, y.c.ID), award.FieldStandstill, "Send the award letters")
			if err := y.Awards.SendDecision(ctx, y.Aisha, award.SendInput{CompetitionID: y.c.ID}); err != nil {
				t.Fatal(err)
			}
			if st := y.state(t); st != award.StateAwaitingNotice {
				t.Fatalf("PA 2023 after the letters: %s", st)
			}
			y.Clock.Advance(time.Hour)
			published := y.Clock.Now().UTC().Truncate(time.Microsecond)
			if err := y.Awards.PublishNotice(ctx, y.Aisha, y.c.ID); err != nil {
				t.Fatal(err)
			}
			aw, _ := y.Awards.Award(ctx, y.c.ID)
			if want := standstill.End(standstill.PA2023, published); aw.StandstillEnds == nil || !aw.StandstillEnds.Equal(want) {
				t.Fatalf("standstill ends %v, want %v", aw.StandstillEnds, want)
			}
			if n := len(domaintest.Notes(t, y.DB, award.KindStandstill)); n == 0 {
				t.Fatal("nobody was told the standstill started")
			}
		})
	}
}

// TestReminders: board members still to decide are told when the award
// is recommended, again within three days of the approval date and once
// it has passed, each once, whichever instance runs the job; those who
// decided, and the recommender, are not.
func TestReminders(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := storetest.Open(t, kind)
			ctx := context.Background()
			x := setup(t, db, 1)
			n, err := x.Awards.SendReminders(ctx)
			if err != nil || n != 2 {
				t.Fatalf("first run sent %d (err %v), want Margaret and David", n, err)
			}
			if n, _ := x.Awards.SendReminders(ctx); n != 0 {
				t.Fatalf("second run sent %d", n)
			}
			if err := x.decide(t, x.Margaret, x.RJ7, award.Approve, ""); err != nil {
				t.Fatal(err)
			}
			x.Clock.Set(x.rec.ApprovalDue.Add(-48 * time.Hour))
			if n, _ := x.Awards.SendReminders(ctx); n != 1 {
				t.Fatalf("due soon: sent %d, want David only", n)
			}
			x.Clock.Set(x.rec.ApprovalDue.Add(time.Hour))
			if n, _ := x.Awards.SendReminders(ctx); n != 1 {
				t.Fatalf("overdue: sent %d, want David only", n)
			}
			for _, note := range domaintest.Notes(t, db, award.KindApprovalReminder) {
				if note.UserID == x.rita.UserID {
					t.Fatal("the recommender was reminded")
				}
			}
		})
	}
}
