package competition_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
)

// published is a ready competition (see ready), published at the clock's
// time and read afresh.
func (x *fixture) published(t testing.TB, in competition.CompetitionInput) *competition.Competition {
	t.Helper()
	c := x.ready(t, in)
	if err := x.s.Publish(context.Background(), x.aisha, c.ID); err != nil {
		t.Fatal(err)
	}
	return x.reload(t, c.ID)
}

// completeBid is who's complete bid priced at pence per unit.
func (x *fixture) completeBid(t testing.TB, c *competition.Competition, who audit.Actor, pence int64) competition.BidContent {
	t.Helper()
	return domaintest.CompleteBid(t, x.s, c, who.Label+" answers", pence)
}

// bid saves a complete bid priced at pence per unit as who's working copy
// and submits it as a first submission.
func (x *fixture) bid(t testing.TB, c *competition.Competition, who audit.Actor, pence int64) sealed.Receipt {
	t.Helper()
	ctx := context.Background()
	_, v, err := x.s.BidWorkingCopy(ctx, who, c.ID, who.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.s.SaveBidDraft(ctx, who, c.ID, who.OrgID, x.completeBid(t, c, who, pence), v); err != nil {
		t.Fatal(err)
	}
	st, err := x.s.BidStatus(ctx, who, c.ID, who.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := x.s.SubmitBid(ctx, who, c.ID, who.OrgID, st.Version)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// appointMore adds n suppliers, each with one supplier user, appointed to
// lot 1 as if the framework's evaluation had appointed them (the framework
// package's tests cover how that happens); publish a competition after it
// to invite them.
func (x *fixture) appointMore(t testing.TB, n int) []audit.Actor {
	t.Helper()
	apps, err := x.fw.Applications(context.Background(), x.f.ID)
	if err != nil || len(apps) == 0 {
		t.Fatalf("applications %v (err %v)", apps, err)
	}
	model := apps[0]
	out := make([]audit.Actor, n)
	for i := range n {
		id := fmt.Sprintf("sup-%02d", i)
		ch := fmt.Sprintf("0990%04d", i)
		org := orgs.Organisation{ID: "org-" + id, Kind: orgs.KindSupplier, Name: fmt.Sprintf("Supplier %02d Ltd", i), CompaniesHouseNumber: &ch, Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := x.db.Omit("Lead").Create(&org).Error; err != nil {
			t.Fatal(err)
		}
		out[i] = domaintest.AddUser(t, x.db, t0, "u-"+id, fmt.Sprintf("Supplier user %02d", i), "supplier_user", org.ID)
		sub := sealed.Submission{ID: "s-" + id, BoxType: sealed.TypeFrameworkApplication, BoxID: x.lot1.ID, SupplierOrgID: org.ID,
			Status: sealed.StatusSubmitted, CurrentVersion: 1, Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := x.db.Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		a := framework.Application{ID: "a-" + id, FrameworkID: x.f.ID, LotID: x.lot1.ID, SupplierOrgID: org.ID, SubmissionID: sub.ID,
			VersionNumber: 1, SHA256: strings.Repeat("0", 64), ReceivedAt: model.ReceivedAt, Status: framework.ApplicationAppointed,
			DecidedAt: model.DecidedAt, DecidedBy: model.DecidedBy, OpenedAt: model.OpenedAt, OpenedBy: model.OpenedBy}
		if err := x.db.Omit("Lot", "Supplier").Create(&a).Error; err != nil {
			t.Fatal(err)
		}
	}
	return out
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
