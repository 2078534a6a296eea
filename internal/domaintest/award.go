package domaintest

import (
	"context"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/store"
)

// Award is a Live framework with the services that take a competition on
// from its opened bids to contracts, wired as the portal wires them
// (evaluation learns from award when the decision has been sent; award
// makes the contracts), and the board members of the two buying trusts.
// Tests of the award package and of what is built on awards (open data)
// start from it.
type Award struct {
	*Live
	Evaluation *evaluation.Service
	Awards     *award.Service
	Contracts  *contracts.Service
	Margaret   audit.Actor // board member, St George's (RJ7)
	David      audit.Actor // board member, Guy's and St Thomas' (RJ1)
}

// LiveAward is LiveFramework with the services and the board members an
// award needs.
func LiveAward(t testing.TB, db *store.DB) *Award {
	t.Helper()
	l := LiveFramework(t, db)
	x := &Award{Live: l, Contracts: &contracts.Service{DB: db, Audit: l.Log, Clock: l.Clock}}
	x.Evaluation = &evaluation.Service{DB: db, Audit: l.Log, Clock: l.Clock, Competitions: l.Competitions, AwardSent: award.DecisionSent}
	x.Awards = &award.Service{DB: db, Audit: l.Log, Clock: l.Clock, Competitions: l.Competitions, Evaluation: x.Evaluation,
		Contracts: x.Contracts, Notify: l.Notify}
	x.Margaret = DemoActor(t, db, "demo-board-member")
	x.David = DemoActor(t, db, "demo-board-member-gstt")
	return x
}

// Recommended opens the competition's bids (OpenBids), breaks ties on
// quality, has the panel (Ben and Chloe) declare no conflict of interest
// and mark every bid with the score scores gives its supplier, moderates
// each bid at the same marks, and has the recommender recommend winner's bid with the
// board quorum given, approval due in 14 days. It returns the opened bids
// by supplier organisation, and the recommendation.
func (x *Award) Recommended(t testing.TB, c *competition.Competition, scores map[string]int, recommender audit.Actor, winner string, quorum int) (map[string]competition.Bid, *evaluation.Recommendation) {
	t.Helper()
	ctx := context.Background()
	bids := map[string]competition.Bid{}
	for _, b := range x.OpenBids(t, c) {
		bids[b.SupplierOrgID] = b
	}
	reqs, err := x.Competitions.Requirements(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Evaluation.SetTieBreak(ctx, x.Aisha, c.ID, evaluation.TieBreakQuality); err != nil {
		t.Fatal(err)
	}
	panel := []audit.Actor{x.Ben, x.Chloe}
	for _, who := range panel {
		x.Declare(t, c, who, nil)
	}
	for org, b := range bids {
		for _, who := range panel {
			if err := x.Evaluation.SaveScores(ctx, who, b.ID, Marks(reqs, scores[org])); err != nil {
				t.Fatal(err)
			}
			if err := x.Evaluation.SubmitScores(ctx, who, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := x.Evaluation.SaveModeration(ctx, x.Aisha, b.ID, evaluation.ModerationInput{Marks: Marks(reqs, scores[org])}); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := x.Evaluation.Recommend(ctx, recommender, evaluation.RecommendationInput{CompetitionID: c.ID, BidID: bids[winner].ID,
		Rationale: "Highest quality and lowest price.", Quorum: quorum, ApprovalDue: x.Clock.Now().Add(14 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return bids, rec
}
