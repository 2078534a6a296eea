package competition_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// The portal's notifier must fit the interface the package asks for.
var _ competition.Notifier = (*notify.Notifier)(nil)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// live is when the fixture's framework is live: after its standstill
// (which ends at midnight at the start of 12 February 2027).
var live = at(2027, 2, 15, 9, 0)

func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// fixture is a live framework (SLCSC-EPR-2027, PCR 2015) whose lot 1
// "Acute EPR" (further competition allowed) has two appointed suppliers,
// Meridian and Northgate, and whose lot 2 "Hosting" allows direct awards
// only; a competition service wired to the real framework, sealed box and
// notifier services; and the people taking part.
type fixture struct {
	db       *store.DB
	clk      *clock.Manual
	log      *audit.Log
	fw       *framework.Service
	sealed   *sealed.Service
	docs     *documents.Service
	s        *competition.Service
	f        *framework.Framework
	lot1     *framework.Lot
	lot2     *framework.Lot
	tom      audit.Actor // consortium lead
	nadia    audit.Actor // second consortium lead
	ben      audit.Actor // evaluator at St George's (RJ7)
	chloe    audit.Actor // evaluator at Guy's and St Thomas' (RJ1)
	aisha    audit.Actor // trust lead at St George's, the competition's lead
	omar     audit.Actor // trust lead at Guy's and St Thomas', a buying trust but not the lead
	yara     audit.Actor // trust lead at a Yorkshire trust, not a buyer under the framework
	sarah    audit.Actor // supplier user of Meridian
	james    audit.Actor // supplier user of Northgate
	carl     audit.Actor // supplier user of Caldicott, never appointed
	rj7      string
	rj1      string
	outsider string // a Yorkshire trust (RR8)
}

// setup runs a framework from creation to live through the framework
// package's own API: publish, two invited suppliers apply to lot 1, two
// consortium leads turn their keys, an evaluator scores, the lead appoints
// both and starts the standstill, and the clock moves past it.
func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(t0)
	log := &audit.Log{Clock: clk}
	if _, err := orgs.SeedDemo(ctx, db.DB, log, clk.Now(), domaintest.DevIssuer); err != nil {
		t.Fatal(err)
	}
	x := &fixture{db: db, clk: clk, log: log}
	x.tom = domaintest.DemoActor(t, db, "demo-consortium-lead")
	x.nadia = domaintest.DemoActor(t, db, "demo-consortium-lead-2")
	x.ben = domaintest.DemoActor(t, db, "demo-evaluator")
	x.aisha = domaintest.DemoActor(t, db, "demo-trust-lead")
	x.sarah = domaintest.DemoActor(t, db, "demo-supplier")
	x.james = domaintest.DemoActor(t, db, "demo-supplier-2")
	x.rj7 = x.aisha.OrgID
	x.rj1 = domaintest.OrgID(t, db, "ods_code = ?", "RJ1")
	x.outsider = domaintest.OrgID(t, db, "ods_code = ?", "RR8")
	x.chloe = domaintest.AddUser(t, db, t0, "u-chloe", "Chloe Adams", "evaluator", x.rj1)
	x.omar = domaintest.AddUser(t, db, t0, "u-omar", "Omar Farouk", "trust_lead", x.rj1)
	x.yara = domaintest.AddUser(t, db, t0, "u-yara", "Yara Hussain", "trust_lead", x.outsider)
	x.carl = domaintest.AddUser(t, db, t0, "u-carl", "Carl Price", "supplier_user", domaintest.OrgID(t, db, "companies_house_number = ?", "06345678"))
	london := domaintest.OrgID(t, db, "kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon)

	cs := &catalogue.Service{DB: db, Audit: log, Clock: clk}
	cat, err := cs.CreateCatalogue(ctx, x.tom, london, "EPR requirements", "")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := cs.AddSection(ctx, x.tom, cat.ID, "Medicines")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ ref, text, typ string }{
		{"EPR-MED-001", "The system must support electronic prescribing and medicines administration.", "Scored (0-4)"},
		{"EPR-MED-002", "The system must check allergies when prescribing.", "Scored (0-4)"},
		{"EPR-SEC-001", "The system must hold NHS Data Security and Protection Toolkit compliance.", "Pass/fail"},
	} {
		if _, err := cs.SaveRequirement(ctx, x.tom, cat.ID, catalogue.RequirementInput{
			SectionID: sec.ID, Reference: r.ref, Text: r.text, Priority: "Must", Weight: "10", ResponseType: r.typ,
			Descriptors: [5]string{"No response", "Poor", "Partly meets", "Meets", "Exceeds"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.Publish(ctx, x.tom, cat.ID); err != nil {
		t.Fatal(err)
	}

	keys, err := documents.NewKeyring(bytes.Repeat([]byte{9}, documents.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	n := domaintest.Notifier(t, db, log, clk)
	x.sealed = &sealed.Service{DB: db, Audit: log, Clock: clk, Keys: keys}
	x.fw = &framework.Service{DB: db, Audit: log, Clock: clk, Catalogue: cs, Orgs: &orgs.Service{DB: db, Audit: log, Clock: clk}, Sealed: x.sealed, Notify: n}
	x.s = &competition.Service{DB: db, Audit: log, Clock: clk, Frameworks: x.fw, Sealed: x.sealed, Notify: n}
	local, err := documents.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	x.docs = &documents.Service{DB: db, Audit: log, Clock: clk, Keys: keys, Store: local, Limits: documents.Limits{MaxFileBytes: 1 << 20, OrgQuotaBytes: 1 << 24}}

	fw := x.fw
	f, err := fw.CreateFramework(ctx, x.tom, london, framework.FrameworkInput{
		Reference: "SLCSC-EPR-2027", Title: "Electronic patient record systems", Regime: framework.RegimePCR2015, Kind: framework.KindClosed,
		TermStart: at(2027, 4, 1, 0, 0), TermEnd: at(2031, 4, 1, 0, 0),
		ApplicationsOpen: at(2026, 12, 1, 9, 0), ClarificationDeadline: at(2027, 1, 10, 17, 0), ApplicationDeadline: at(2027, 1, 20, 12, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	x.f = f
	if x.lot1, err = fw.AddLot(ctx, x.tom, f.ID, framework.LotInput{Title: "Acute EPR", Scope: "Acute trusts", Min: 1, Max: 3, CallOff: framework.CallOffBoth}); err != nil {
		t.Fatal(err)
	}
	if x.lot2, err = fw.AddLot(ctx, x.tom, f.ID, framework.LotInput{Title: "Hosting", Scope: "Hosting", Min: 1, Max: 1, CallOff: framework.CallOffDirect}); err != nil {
		t.Fatal(err)
	}
	reqs, err := fw.CopyRequirements(ctx, x.tom, x.lot1.ID, cat.ID, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.CopyRequirements(ctx, x.tom, x.lot2.ID, cat.ID, 1, []string{"EPR-SEC-001"}); err != nil {
		t.Fatal(err)
	}
	if err := fw.SetCriteria(ctx, x.tom, f.ID, []framework.Criterion{{Name: "Quality", Weight: 60}, {Name: "Price", Weight: 40}}); err != nil {
		t.Fatal(err)
	}
	if err := fw.AssignEvaluators(ctx, x.tom, f.ID, []string{x.ben.UserID}); err != nil {
		t.Fatal(err)
	}
	if err := fw.Publish(ctx, x.tom, f.ID); err != nil {
		t.Fatal(err)
	}
	for _, who := range []audit.Actor{x.sarah, x.james} {
		_, token, err := fw.Invite(ctx, x.tom, f.ID, strings.ToLower(strings.ReplaceAll(who.Label, " ", "."))+"@example.com", who.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Accept(ctx, who, token, who.OrgID); err != nil {
			t.Fatal(err)
		}
	}

	clk.Set(f.ApplicationsOpen)
	for _, who := range []audit.Actor{x.sarah, x.james} {
		c := framework.ApplicationContent{LotID: x.lot1.ID, Answers: map[string]framework.Answer{}, Declarations: []string{"exclusion", "conflicts", "accurate"}}
		for _, r := range reqs {
			if r.ResponseType == catalogue.PassFail {
				c.Answers[r.ID] = framework.Answer{Meets: framework.AnswerYes}
			} else {
				c.Answers[r.ID] = framework.Answer{Text: who.Label + " meets " + r.Reference}
			}
		}
		b, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.sealed.Submit(ctx, who, framework.ApplicationBox(f, x.lot1.ID), who.OrgID, b, 0); err != nil {
			t.Fatal(err)
		}
	}

	clk.Set(f.ApplicationDeadline)
	if _, err := fw.OpenApplications(ctx, x.tom, f.ID); err != nil {
		t.Fatal(err)
	}
	if o, err := fw.OpenApplications(ctx, x.nadia, f.ID); err != nil || !o.Opened || o.Applications != 2 {
		t.Fatalf("opening with two keys: %+v (err %v)", o, err)
	}
	apps, err := fw.Applications(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	var decisions []framework.Decision
	for _, a := range apps {
		if err := fw.SaveScores(ctx, x.ben, a.ID, domaintest.PassingScores(reqs)); err != nil {
			t.Fatal(err)
		}
		if err := fw.SubmitScores(ctx, x.ben, a.ID); err != nil {
			t.Fatal(err)
		}
		decisions = append(decisions, framework.Decision{ApplicationID: a.ID, Appoint: true})
	}
	clk.Set(at(2027, 1, 29, 15, 0))
	if err := fw.Decide(ctx, x.tom, f.ID, decisions); err != nil {
		t.Fatal(err)
	}
	clk.Set(at(2027, 2, 1, 10, 0))
	if err := fw.StartStandstill(ctx, x.tom, f.ID); err != nil {
		t.Fatal(err)
	}
	clk.Set(live)
	if x.f, err = fw.Framework(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if st := x.f.State(clk.Now()); st != framework.StateLive {
		t.Fatalf("framework is %s, want live", st)
	}
	return x
}

// input is a valid competition: quality 60, price 40, no expression of
// interest, questions until 1 March, bids until midday on 15 March 2027.
func input(ref string) competition.CompetitionInput {
	return competition.CompetitionInput{
		Reference: ref, Title: "EPR for South West London", Description: "Replacing the national EPR contract",
		QualityWeight: 60, PriceWeight: 40, ShowBidCount: true,
		Timeline: competition.Timeline{
			QuestionDeadline:   at(2027, 3, 1, 17, 0),
			SubmissionDeadline: at(2027, 3, 15, 12, 0),
			EvaluationEnd:      at(2027, 4, 15, 17, 0),
			PlannedAward:       at(2027, 4, 30, 9, 0),
		},
	}
}

// ready creates a competition led by St George's with Guy's and St Thomas'
// as a second buying trust, the lot's requirements copied and weighted
// (EPR-MED-001 60, EPR-MED-002 40; the pass/fail one a gate), a price
// schedule for each trust and a panel of two, ready to publish.
func (x *fixture) ready(t testing.TB, in competition.CompetitionInput) *competition.Competition {
	t.Helper()
	ctx := context.Background()
	s := x.s
	c, err := s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, in)
	if err != nil {
		t.Fatal(err)
	}
	beds := 1100
	if _, err := s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1, Volumes: "1,100 beds, 14,000 staff", Beds: &beds, Sites: "Guy's; St Thomas'"}); err != nil {
		t.Fatal(err)
	}
	reqs, err := s.CopyLotRequirements(ctx, x.aisha, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		w := map[string]int{"EPR-MED-001": 60, "EPR-MED-002": 40, "EPR-SEC-001": 0}[r.Reference]
		if err := s.UpdateRequirement(ctx, x.aisha, competition.RequirementEdit{RequirementID: r.ID, Text: r.Text, Weight: w, Version: r.Version}); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range []competition.PriceItemInput{
		{OrganisationID: x.rj7, Name: "Licences", Unit: "licence", Quantity: 6500},
		{OrganisationID: x.rj7, Name: "Implementation", Unit: "one-off", Quantity: 1},
		{OrganisationID: x.rj7, Name: "Hosting per year", Unit: "year", Quantity: 5},
		{OrganisationID: x.rj7, Name: "Support per year", Unit: "year", Quantity: 5},
		{OrganisationID: x.rj1, Name: "Licences", Unit: "licence", Quantity: 14000},
	} {
		if _, err := s.AddPriceItem(ctx, x.aisha, c.ID, it); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AssignPanel(ctx, x.aisha, c.ID, []string{x.ben.UserID, x.chloe.UserID}); err != nil {
		t.Fatal(err)
	}
	return c
}

// reload reads the competition afresh.
func (x *fixture) reload(t testing.TB, id string) *competition.Competition {
	t.Helper()
	c, err := x.s.Competition(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recipients are the users notes went to, in order.
func recipients(ns []domaintest.Note) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.UserID
	}
	return out
}

func count(t testing.TB, db *store.DB, table string, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func auditCount(t testing.TB, db *store.DB, action, outcome string) int64 {
	t.Helper()
	return count(t, db, "audit_entries", "action = ? AND outcome = ?", action, outcome)
}

func fieldErrors(t testing.TB, err error) *validate.Errors {
	t.Helper()
	v, ok := validate.As(err)
	if !ok {
		t.Fatalf("err = %v, want field errors", err)
	}
	return v
}

// wantErrors checks that err carries exactly these field errors.
func wantErrors(t testing.TB, err error, want map[string]string) {
	t.Helper()
	v := fieldErrors(t, err)
	for field, msg := range want {
		if got := v.For(field); got != msg {
			t.Errorf("error for %s: %q, want %q", field, got, msg)
		}
	}
	if len(v.List) != len(want) {
		t.Errorf("%d errors, want %d: %v", len(v.List), len(want), v.List)
	}
}
