package competition_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
)

// published is a ready competition, published (domaintest.Live.Published).
func (x *fixture) published(t testing.TB, in competition.CompetitionInput) *competition.Competition {
	t.Helper()
	return x.l.Published(t, in)
}

// completeBid is who's complete bid priced at pence per unit.
func (x *fixture) completeBid(t testing.TB, c *competition.Competition, who audit.Actor, pence int64) competition.BidContent {
	t.Helper()
	return x.l.CompleteBid(t, c, who, pence)
}

// bid submits who's complete bid priced at pence per unit
// (domaintest.Live.Bid).
func (x *fixture) bid(t testing.TB, c *competition.Competition, who audit.Actor, pence int64) sealed.Receipt {
	t.Helper()
	return x.l.Bid(t, c, who, pence)
}

// appointMore adds n suppliers appointed to lot 1
// (domaintest.Live.AppointMore).
func (x *fixture) appointMore(t testing.TB, n int) []audit.Actor {
	t.Helper()
	return x.l.AppointMore(t, n)
}

// applicationOf is the supplier's application to lot 1.
func (x *fixture) applicationOf(t testing.TB, supplierOrgID string) framework.Application {
	t.Helper()
	apps, err := x.fw.Applications(context.Background(), x.f.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.SupplierOrgID == supplierOrgID && a.LotID == x.lot1.ID {
			return a
		}
	}
	t.Fatalf("no application of %s", supplierOrgID)
	return framework.Application{}
}

// wantDeadline checks that err is the tender box's refusal naming the
// deadline and the time of the attempt.
func wantDeadline(t testing.TB, what string, err error, c *competition.Competition, attempt string) {
	t.Helper()
	var de *sealed.DeadlineError
	if !errors.As(err, &de) {
		t.Fatalf("%s: err = %v, want a deadline refusal", what, err)
	}
	if !de.Deadline.Equal(c.SubmissionDeadline) {
		t.Errorf("%s: refusal names the deadline %v, want %v", what, de.Deadline, c.SubmissionDeadline)
	}
	want := "The deadline was midday on 15 March 2027 (UK time); your submission reached us at " + attempt + " on 15 March 2027 (UK time), so it could not be accepted"
	if err.Error() != want {
		t.Errorf("%s: %q, want %q", what, err.Error(), want)
	}
}

// deniedFor counts the denied audit entries of action on an object.
func deniedFor(t testing.TB, x *fixture, action, objectID string) int64 {
	t.Helper()
	return count(t, x.db, "audit_entries", "action = ? AND outcome = ? AND object_id = ?", action, audit.Denied, objectID)
}
