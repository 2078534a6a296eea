package framework_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
)

// The portal's notifier must fit the interface the package asks for.
var _ framework.Notifier = (*notify.Notifier)(nil)

// evalFixture is a published-ready framework with two lots, evaluators,
// suppliers and a sealed box service and notifier wired in.
type evalFixture struct {
	*fixture
	fw               *framework.Framework
	lot1, lot2       *framework.Lot
	reqs1, reqs2     []framework.LotRequirement
	sealed           *sealed.Service
	tom, ben, chloe  audit.Actor // consortium lead, two evaluators
	nadia            audit.Actor // the consortium's second lead, for the second opening key
	aisha            audit.Actor // a trust lead, not an evaluator
	sarah, james     audit.Actor // supplier users of Meridian and Northgate
	carl             audit.Actor // supplier user of Caldicott, never invited
	meridian         string
	northgate        string
	caldicott        string
	rj1              string // Guy's and St Thomas', a member trust
	outsider         string // a Yorkshire trust
	notifier         *notify.Notifier
	passFail, scored string // reference of lot 1's pass/fail requirement; a scored one
}

// evalSetup adds a pass/fail requirement to the catalogue (version 2) and
// creates framework SLCSC-EPR-2027 (PCR 2015, closed) with lot 1 "Acute
// EPR" (all four requirements, at most 3 suppliers) and lot 2 "Hosting"
// (EPR-MED-002 and the pass/fail one, at most 1 supplier).
func evalSetup(t *testing.T, db *store.DB) *evalFixture {
	t.Helper()
	ctx := context.Background()
	f := setup(t, db)
	log := f.s.Audit
	keys, err := documents.NewKeyring(bytes.Repeat([]byte{9}, documents.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &evalFixture{fixture: f}
	e.sealed = &sealed.Service{DB: db, Audit: log, Clock: f.clk, Keys: keys}
	e.notifier = f.notifier
	f.s.Sealed = e.sealed

	secs, err := f.s.Catalogue.Sections(ctx, f.cat.ID)
	if err != nil || len(secs) == 0 {
		t.Fatalf("sections: %v", err)
	}
	if _, err := f.s.Catalogue.SaveRequirement(ctx, lead, f.cat.ID, catalogue.RequirementInput{
		SectionID: secs[0].ID, Reference: "EPR-SEC-001", Text: "The system must hold NHS Data Security and Protection Toolkit compliance.",
		Priority: "Must", Weight: "5", ResponseType: "Pass/fail",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Catalogue.Publish(ctx, lead, f.cat.ID); err != nil {
		t.Fatal(err)
	}
	e.passFail, e.scored = "EPR-SEC-001", "EPR-MED-002"

	e.tom = domaintest.DemoActor(t, db, "demo-consortium-lead")
	e.nadia = domaintest.DemoActor(t, db, "demo-consortium-lead-2")
	e.ben = domaintest.DemoActor(t, db, "demo-evaluator")
	e.aisha = domaintest.DemoActor(t, db, "demo-trust-lead")
	e.sarah = domaintest.DemoActor(t, db, "demo-supplier")
	e.james = domaintest.DemoActor(t, db, "demo-supplier-2")
	e.meridian, e.northgate = e.sarah.OrgID, e.james.OrgID
	e.rj1 = domaintest.OrgID(t, db, "ods_code = ?", "RJ1")
	e.outsider = domaintest.OrgID(t, db, "ods_code = ?", "RR8")
	e.caldicott = domaintest.OrgID(t, db, "companies_house_number = ?", "06345678")
	e.chloe = domaintest.AddUser(t, db, t0, "u-chloe", "Chloe Adams", "evaluator", e.rj1)
	e.carl = domaintest.AddUser(t, db, t0, "u-carl", "Carl Price", "supplier_user", e.caldicott)

	fw, err := f.s.CreateFramework(ctx, e.tom, f.london, validInput("SLCSC-EPR-2027"))
	if err != nil {
		t.Fatal(err)
	}
	e.fw = fw
	e.lot1, err = f.s.AddLot(ctx, e.tom, fw.ID, framework.LotInput{Title: "Acute EPR", Scope: "Acute trusts", Min: 1, Max: 3, CallOff: framework.CallOffBoth})
	if err != nil {
		t.Fatal(err)
	}
	e.lot2, err = f.s.AddLot(ctx, e.tom, fw.ID, framework.LotInput{Title: "Hosting", Scope: "Hosting", Min: 1, Max: 1, CallOff: framework.CallOffDirect})
	if err != nil {
		t.Fatal(err)
	}
	if e.reqs1, err = f.s.CopyRequirements(ctx, e.tom, e.lot1.ID, f.cat.ID, 2, nil); err != nil {
		t.Fatal(err)
	}
	if e.reqs2, err = f.s.CopyRequirements(ctx, e.tom, e.lot2.ID, f.cat.ID, 2, []string{"EPR-MED-002", "EPR-SEC-001"}); err != nil {
		t.Fatal(err)
	}
	e.reqs1, _ = f.s.LotRequirements(ctx, e.lot1.ID)
	e.reqs2, _ = f.s.LotRequirements(ctx, e.lot2.ID)
	if len(e.reqs1) != 4 || len(e.reqs2) != 2 {
		t.Fatalf("lot requirements %d and %d", len(e.reqs1), len(e.reqs2))
	}
	if err := f.s.SetCriteria(ctx, e.tom, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 60}, {Name: "Price", Weight: 40}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// req returns the lot requirement with the reference.
func req(t *testing.T, reqs []framework.LotRequirement, ref string) framework.LotRequirement {
	t.Helper()
	for _, r := range reqs {
		if r.Reference == ref {
			return r
		}
	}
	t.Fatalf("no requirement %s", ref)
	return framework.LotRequirement{}
}

// invite invites and accepts a supplier.
func (e *evalFixture) invite(t *testing.T, who audit.Actor, email string) {
	t.Helper()
	ctx := context.Background()
	_, token, err := e.s.Invite(ctx, e.tom, e.fw.ID, email, who.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Accept(ctx, who, token, who.OrgID); err != nil {
		t.Fatal(err)
	}
}

// apply seals a complete application to a lot.
func (e *evalFixture) apply(t *testing.T, who audit.Actor, lot *framework.Lot, reqs []framework.LotRequirement, marker string) {
	t.Helper()
	c := framework.ApplicationContent{LotID: lot.ID, Answers: map[string]framework.Answer{}, Declarations: []string{"exclusion", "conflicts", "accurate"}}
	for _, r := range reqs {
		if r.ResponseType == catalogue.PassFail {
			c.Answers[r.ID] = framework.Answer{Meets: framework.AnswerYes, Text: marker}
		} else {
			c.Answers[r.ID] = framework.Answer{Text: marker + " answer to " + r.Reference}
		}
	}
	if gaps := c.Gaps(reqs); len(gaps) != 0 {
		t.Fatalf("incomplete application: %v", gaps)
	}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sealed.Submit(context.Background(), who, framework.ApplicationBox(e.fw, lot.ID), who.OrgID, b, 0); err != nil {
		t.Fatal(err)
	}
}

func yes() *bool      { b := true; return &b }
func no() *bool       { b := false; return &b }
func mark(n int) *int { return &n }

// marks scores every requirement of an application: scored ones with the
// marks given by reference, pass/fail ones passed unless listed in fail.
func marks(reqs []framework.LotRequirement, byRef map[string]int, fail ...string) []framework.ScoreInput {
	var out []framework.ScoreInput
	for _, r := range reqs {
		in := framework.ScoreInput{LotRequirementID: r.ID, Justification: "Evidence seen for " + r.Reference}
		if r.ResponseType == catalogue.PassFail {
			in.Pass = yes()
			for _, f := range fail {
				if f == r.Reference {
					in.Pass = no()
				}
			}
		} else {
			in.Score = mark(byRef[r.Reference])
		}
		out = append(out, in)
	}
	return out
}

// score saves and submits an evaluator's marks for an application.
func (e *evalFixture) score(t *testing.T, who audit.Actor, appID string, in []framework.ScoreInput) {
	t.Helper()
	ctx := context.Background()
	if err := e.s.SaveScores(ctx, who, appID, in); err != nil {
		t.Fatalf("%s scores %s: %v", who.Label, appID, err)
	}
	if err := e.s.SubmitScores(ctx, who, appID); err != nil {
		t.Fatalf("%s submits %s: %v", who.Label, appID, err)
	}
}

// at is a moment in UTC.
func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// openBoth turns both leads' keys, opening the applications, and returns
// how many were recorded.
func (e *evalFixture) openBoth(t *testing.T) (int, error) {
	t.Helper()
	ctx := context.Background()
	first, err := e.s.OpenApplications(ctx, e.tom, e.fw.ID)
	if err != nil {
		return 0, err
	}
	if first.Opened || len(first.Keys) != 1 {
		t.Fatalf("one key opened the applications: %+v", first)
	}
	second, err := e.s.OpenApplications(ctx, e.nadia, e.fw.ID)
	if err != nil {
		return 0, err
	}
	if !second.Opened || len(second.Keys) != 2 {
		t.Fatalf("two keys did not open the applications: %+v", second)
	}
	return second.Applications, nil
}
