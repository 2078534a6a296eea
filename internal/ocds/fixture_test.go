package ocds_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/ocds"
	"github.com/nhsprocure/portal/internal/ocds/ocdstest"
	"github.com/nhsprocure/portal/internal/store"
)

// Distinctive bid content: each supplier's answers and price per unit, so
// a test can look for them anywhere in the published JSON.
const (
	winnerText  = "Quokka-7781 sealed answer"
	loserText   = "Narwhal-4412 sealed answer"
	winnerPence = 123457 // £1,234.57 a unit
	loserPence  = 198761 // £1,987.61 a unit
	// units is how many units the price schedules of domaintest's Ready
	// competition hold: 6,511 for St George's and 14,000 for Guy's and St
	// Thomas'.
	unitsRJ7 = 6511
	unitsRJ1 = 14000
)

// fixture is a competition under a live framework (domaintest.Live) with
// sealed bids from Meridian (the winner) and Northgate carrying the
// distinctive content above, and the services to take it through
// evaluation, award and contracts; and the publisher.
type fixture struct {
	*domaintest.Live
	ev       *evaluation.Service
	aw       *award.Service
	k        *contracts.Service
	pub      *ocds.Publisher
	c        *competition.Competition
	bids     map[string]competition.Bid
	margaret audit.Actor
	david    audit.Actor
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	l := domaintest.LiveFramework(t, db)
	x := &fixture{Live: l, ev: &evaluation.Service{DB: db, Audit: l.Log, Clock: l.Clock, Competitions: l.Competitions, AwardSent: award.DecisionSent}}
	x.k = &contracts.Service{DB: db, Audit: l.Log, Clock: l.Clock}
	x.aw = &award.Service{DB: db, Audit: l.Log, Clock: l.Clock, Competitions: l.Competitions, Evaluation: x.ev, Contracts: x.k, Notify: l.Notify}
	x.pub = &ocds.Publisher{DB: db, Clock: l.Clock, Prefix: "ocds-test01", BaseURL: "https://portal.example.nhs.uk"}
	x.margaret = domaintest.DemoActor(t, db, "demo-board-member")
	x.david = domaintest.DemoActor(t, db, "demo-board-member-gstt")
	x.c = x.Published(t, domaintest.CompetitionInput("SWL-EPR-OCDS"))
	return x
}

// bid submits both sealed bids.
func (x *fixture) bid(t *testing.T) {
	t.Helper()
	domaintest.SubmitBid(t, x.Competitions, x.c, x.Sarah, domaintest.CompleteBid(t, x.Competitions, x.c, winnerText, winnerPence))
	domaintest.SubmitBid(t, x.Competitions, x.c, x.James, domaintest.CompleteBid(t, x.Competitions, x.c, loserText, loserPence))
}

// evaluate opens the bids, has both panel members mark them (Meridian 4,
// Northgate 2), moderates them and recommends Meridian with a quorum of
// one; both boards approve.
func (x *fixture) evaluate(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	x.bids = map[string]competition.Bid{}
	for _, b := range x.OpenBids(t, x.c) {
		x.bids[b.SupplierOrgID] = b
	}
	reqs, err := x.Competitions.Requirements(ctx, x.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.ev.SetTieBreak(ctx, x.Aisha, x.c.ID, evaluation.TieBreakQuality); err != nil {
		t.Fatal(err)
	}
	for _, who := range []audit.Actor{x.Ben, x.Chloe} {
		x.Declare(t, x.c, who, nil)
	}
	score := map[string]int{x.Sarah.OrgID: 4, x.James.OrgID: 2}
	for org, b := range x.bids {
		for _, who := range []audit.Actor{x.Ben, x.Chloe} {
			if err := x.ev.SaveScores(ctx, who, b.ID, domaintest.Marks(reqs, score[org])); err != nil {
				t.Fatal(err)
			}
			if err := x.ev.SubmitScores(ctx, who, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := x.ev.SaveModeration(ctx, x.Aisha, b.ID, evaluation.ModerationInput{Marks: domaintest.Marks(reqs, score[org])}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.ev.Recommend(ctx, x.Aisha, evaluation.RecommendationInput{CompetitionID: x.c.ID, BidID: x.bids[x.Sarah.OrgID].ID,
		Rationale: "Highest quality and lowest price.", Quorum: 1, ApprovalDue: x.Clock.Now().Add(14 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		who audit.Actor
		org string
	}{{x.margaret, x.RJ7}, {x.david, x.RJ1}} {
		if err := x.aw.Decide(ctx, d.who, award.DecisionInput{CompetitionID: x.c.ID, OrganisationID: d.org, Decision: award.Approve}); err != nil {
			t.Fatal(err)
		}
	}
}

// send sends the award decision (2015 regulations: a call-off needs no
// standstill).
func (x *fixture) send(t *testing.T) {
	t.Helper()
	if err := x.aw.SendDecision(context.Background(), x.Aisha, award.SendInput{CompetitionID: x.c.ID}); err != nil {
		t.Fatal(err)
	}
}

// confirm confirms the award an hour later, with a contract term from 1
// June 2027 to 31 May 2032, and returns the contracts, St George's first.
func (x *fixture) confirm(t *testing.T) []contracts.Contract {
	t.Helper()
	ctx := context.Background()
	x.Clock.Set(x.Clock.Now().Add(time.Hour))
	if err := x.aw.Confirm(ctx, x.Aisha, award.ConfirmInput{CompetitionID: x.c.ID, Start: domaintest.At(2027, 6, 1, 0, 0), End: domaintest.At(2032, 5, 31, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	made, err := x.k.ForCompetition(ctx, x.c.ID)
	if err != nil || len(made) != 2 {
		t.Fatalf("contracts %+v (err %v)", made, err)
	}
	if made[0].OrganisationID != x.RJ7 {
		made[0], made[1] = made[1], made[0]
	}
	return made
}

// outputs is every kind of JSON the publisher gives, each validated
// against its schema: the release and record packages of the competition
// and of its framework, each release on its own, the first page of every
// release, and the bulk download.
func (x *fixture) outputs(t *testing.T) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	for name, id := range map[string]string{"competition": x.c.ID, "framework": x.Framework.ID} {
		ocid := x.pub.OCID(id)
		rp, err := x.pub.ReleasePackage(ctx, ocid)
		if err != nil {
			t.Fatal(err)
		}
		out[name+" releases"] = valid(t, ocdstest.ReleasePackage, rp)
		for _, r := range rp.Releases {
			out[name+" release "+r.ID] = valid(t, ocdstest.Release, r)
		}
		rec, err := x.pub.RecordPackage(ctx, ocid)
		if err != nil {
			t.Fatal(err)
		}
		out[name+" record"] = valid(t, ocdstest.RecordPackage, rec)
	}
	page, _, err := x.pub.ReleasesPage(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	out["page 1"] = valid(t, ocdstest.ReleasePackage, page)
	var bulk bytes.Buffer
	if err := x.pub.WriteBulk(ctx, &bulk); err != nil {
		t.Fatal(err)
	}
	ocdstest.Validate(t, ocdstest.RecordPackage, bulk.Bytes())
	out["bulk"] = bulk.Bytes()
	return out
}

// valid is v as JSON, validated against the schema.
func valid(t *testing.T, schema string, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ocdstest.Validate(t, schema, b)
	return b
}

// tags are the releases' tags in order, one each.
func tags(list []ocds.Release) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Tag[0]
	}
	return out
}
