package evaluation_test

import (
	"context"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/store"
)

// fixture is a live framework (domaintest.Live) with the evaluation
// service on top of its competition service.
type fixture struct {
	*domaintest.Live
	ev *evaluation.Service
}

func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	l := domaintest.LiveFramework(t, db)
	return &fixture{Live: l, ev: &evaluation.Service{DB: db, Audit: l.Log, Clock: l.Clock, Competitions: l.Competitions}}
}

// priced is a bidder and its price per unit of every line.
type priced struct {
	who   audit.Actor
	pence int64
}

// units is how many units the Ready competition's price schedules hold in
// all (6,511 for St George's, 14,000 for Guy's and St Thomas').
const units = 6511 + 14000

// open has each bidder bid at its price on the published competition and
// opens the bids, returning them by supplier organisation.
func (x *fixture) open(t testing.TB, c *competition.Competition, bids ...priced) map[string]competition.Bid {
	t.Helper()
	for _, b := range bids {
		x.Bid(t, c, b.who, b.pence)
	}
	out := map[string]competition.Bid{}
	for _, b := range x.OpenBids(t, c) {
		out[b.SupplierOrgID] = b
	}
	return out
}

// opened publishes a Ready competition and opens the bids (see open).
func (x *fixture) opened(t testing.TB, ref string, bids ...priced) (*competition.Competition, map[string]competition.Bid) {
	t.Helper()
	c := x.Published(t, domaintest.CompetitionInput(ref))
	return c, x.open(t, c, bids...)
}

// reqs are the competition's requirements in order.
func (x *fixture) reqs(t testing.TB, c *competition.Competition) []competition.Requirement {
	t.Helper()
	reqs, err := x.Competitions.Requirements(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// byRef finds a requirement by reference.
func byRef(t testing.TB, reqs []competition.Requirement, ref string) competition.Requirement {
	t.Helper()
	for _, r := range reqs {
		if r.Reference == ref {
			return r
		}
	}
	t.Fatalf("no requirement %s", ref)
	return competition.Requirement{}
}

// marks are a mark for each requirement: pass or fail for the pass/fail
// ones, score for the others (or scores[reference] when given), each with
// a justification.
func marks(reqs []competition.Requirement, score int, pass bool, scores map[string]int) []evaluation.MarkInput {
	out := make([]evaluation.MarkInput, 0, len(reqs))
	for _, r := range reqs {
		m := evaluation.MarkInput{RequirementID: r.ID, Justification: "Against the descriptors: " + r.Reference}
		if r.ResponseType == catalogue.PassFail {
			p := pass
			m.Pass = &p
		} else {
			s := score
			if v, ok := scores[r.Reference]; ok {
				s = v
			}
			m.Score = &s
		}
		out = append(out, m)
	}
	return out
}

// score saves and submits who's marks for every requirement of the bid.
func (x *fixture) score(t testing.TB, who audit.Actor, bid competition.Bid, reqs []competition.Requirement, score int, pass bool) {
	t.Helper()
	ctx := context.Background()
	if err := x.ev.SaveScores(ctx, who, bid.ID, marks(reqs, score, pass, nil)); err != nil {
		t.Fatal(err)
	}
	if err := x.ev.SubmitScores(ctx, who, bid.ID); err != nil {
		t.Fatal(err)
	}
}

// moderate records Aisha's first moderation of the bid: the scores given
// by reference (3 for the rest) and the gates passed or failed.
func (x *fixture) moderate(t testing.TB, bid competition.Bid, reqs []competition.Requirement, pass bool, scores map[string]int) {
	t.Helper()
	if err := x.ev.SaveModeration(context.Background(), x.Aisha, bid.ID, evaluation.ModerationInput{Marks: marks(reqs, 3, pass, scores)}); err != nil {
		t.Fatal(err)
	}
}

func count(t testing.TB, db *store.DB, table, where string, args ...any) int64 {
	t.Helper()
	return domaintest.Count(t, db, table, where, args...)
}

// denied counts the refusals of action on an object in the audit log.
func denied(t testing.TB, db *store.DB, action, objectID string) int64 {
	t.Helper()
	return count(t, db, "audit_entries", "action = ? AND outcome = ? AND object_id = ?", action, audit.Denied, objectID)
}
