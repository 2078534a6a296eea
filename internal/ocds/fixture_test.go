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

// fixture is a competition under a live framework with the award's
// services (domaintest.Award), with sealed bids from Meridian (the winner)
// and Northgate carrying the distinctive content above; and the publisher.
type fixture struct {
	*domaintest.Award
	pub *ocds.Publisher
	c   *competition.Competition
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	a := domaintest.LiveAward(t, db)
	x := &fixture{Award: a}
	x.pub = &ocds.Publisher{DB: db, Clock: x.Clock, Prefix: "ocds-test01", BaseURL: "https://portal.example.nhs.uk"}
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
	x.Recommended(t, x.c, map[string]int{x.Sarah.OrgID: 4, x.James.OrgID: 2}, x.Aisha, x.Sarah.OrgID, 1)
	for _, d := range []struct {
		who audit.Actor
		org string
	}{{x.Margaret, x.RJ7}, {x.David, x.RJ1}} {
		if err := x.Awards.Decide(context.Background(), d.who, award.DecisionInput{CompetitionID: x.c.ID, OrganisationID: d.org, Decision: award.Approve}); err != nil {
			t.Fatal(err)
		}
	}
}

// send sends the award decision (2015 regulations: a call-off needs no
// standstill).
func (x *fixture) send(t *testing.T) {
	t.Helper()
	if err := x.Awards.SendDecision(context.Background(), x.Aisha, award.SendInput{CompetitionID: x.c.ID}); err != nil {
		t.Fatal(err)
	}
}

// confirm confirms the award an hour later, with a contract term from 1
// June 2027 to 31 May 2032, and returns the contracts, St George's first.
func (x *fixture) confirm(t *testing.T) []contracts.Contract {
	t.Helper()
	ctx := context.Background()
	x.Clock.Set(x.Clock.Now().Add(time.Hour))
	if err := x.Awards.Confirm(ctx, x.Aisha, award.ConfirmInput{CompetitionID: x.c.ID, Start: domaintest.At(2027, 6, 1, 0, 0), End: domaintest.At(2032, 5, 31, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	made, err := x.Contracts.ForCompetition(ctx, x.c.ID)
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
