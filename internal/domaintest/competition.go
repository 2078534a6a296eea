package domaintest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
)

// T0 is when a Live fixture starts: before its framework is published.
var T0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// LiveAt is when a Live fixture's framework is live: after its standstill
// (which ends at midnight at the start of 12 February 2027).
var LiveAt = At(2027, 2, 15, 9, 0)

// At is a UTC time to the minute.
func At(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// Live is a live framework (SLCSC-EPR-2027, PCR 2015) whose lot 1 "Acute
// EPR" (further competition allowed) has two appointed suppliers, Meridian
// and Northgate, and whose lot 2 "Hosting" allows direct awards only; a
// competition service wired to the real framework, sealed box and notifier
// services; and the people taking part. The clock stands at LiveAt.
// Tests of the competition package and of those built on it (evaluation,
// award) start from it.
type Live struct {
	DB           *store.DB
	Clock        *clock.Manual
	Log          *audit.Log
	Frameworks   *framework.Service
	Sealed       *sealed.Service
	Docs         *documents.Service
	Competitions *competition.Service
	// Notify is the real notifier every service here sends through.
	Notify    *notify.Notifier
	Framework *framework.Framework
	Lot1      *framework.Lot
	Lot2      *framework.Lot
	Tom       audit.Actor // consortium lead
	Nadia     audit.Actor // second consortium lead
	Ben       audit.Actor // evaluator at St George's (RJ7)
	Chloe     audit.Actor // evaluator at Guy's and St Thomas' (RJ1)
	Aisha     audit.Actor // trust lead at St George's, the competitions' lead
	Omar      audit.Actor // trust lead at Guy's and St Thomas', a buying trust but not the lead
	Yara      audit.Actor // trust lead at a Yorkshire trust, not a buyer under the framework
	Sarah     audit.Actor // supplier user of Meridian
	James     audit.Actor // supplier user of Northgate
	Carl      audit.Actor // supplier user of Caldicott, never appointed
	RJ7       string
	RJ1       string
	Outsider  string // a Yorkshire trust (RR8)
}

// LiveFramework runs a framework from creation to live through the
// framework package's own API: publish, two invited suppliers apply to lot
// 1, two consortium leads turn their keys, an evaluator scores, the lead
// appoints both and starts the standstill, and the clock moves past it.
func LiveFramework(t testing.TB, db *store.DB) *Live {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(T0)
	log := &audit.Log{Clock: clk}
	if _, err := orgs.SeedDemo(ctx, db.DB, log, clk.Now(), DevIssuer); err != nil {
		t.Fatal(err)
	}
	x := &Live{DB: db, Clock: clk, Log: log}
	x.Tom = DemoActor(t, db, "demo-consortium-lead")
	x.Nadia = DemoActor(t, db, "demo-consortium-lead-2")
	x.Ben = DemoActor(t, db, "demo-evaluator")
	x.Aisha = DemoActor(t, db, "demo-trust-lead")
	x.Sarah = DemoActor(t, db, "demo-supplier")
	x.James = DemoActor(t, db, "demo-supplier-2")
	x.RJ7 = x.Aisha.OrgID
	x.RJ1 = OrgID(t, db, "ods_code = ?", "RJ1")
	x.Outsider = OrgID(t, db, "ods_code = ?", "RR8")
	x.Chloe = AddUser(t, db, T0, "u-chloe", "Chloe Adams", "evaluator", x.RJ1)
	x.Omar = AddUser(t, db, T0, "u-omar", "Omar Farouk", "trust_lead", x.RJ1)
	x.Yara = AddUser(t, db, T0, "u-yara", "Yara Hussain", "trust_lead", x.Outsider)
	x.Carl = AddUser(t, db, T0, "u-carl", "Carl Price", "supplier_user", OrgID(t, db, "companies_house_number = ?", "06345678"))
	london := OrgID(t, db, "kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon)

	cs := &catalogue.Service{DB: db, Audit: log, Clock: clk}
	cat, err := cs.CreateCatalogue(ctx, x.Tom, london, "EPR requirements", "")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := cs.AddSection(ctx, x.Tom, cat.ID, "Medicines")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ ref, text, typ string }{
		{"EPR-MED-001", "The system must support electronic prescribing and medicines administration.", "Scored (0-4)"},
		{"EPR-MED-002", "The system must check allergies when prescribing.", "Scored (0-4)"},
		{"EPR-SEC-001", "The system must hold NHS Data Security and Protection Toolkit compliance.", "Pass/fail"},
	} {
		if _, err := cs.SaveRequirement(ctx, x.Tom, cat.ID, catalogue.RequirementInput{
			SectionID: sec.ID, Reference: r.ref, Text: r.text, Priority: "Must", Weight: "10", ResponseType: r.typ,
			Descriptors: [5]string{"No response", "Poor", "Partly meets", "Meets", "Exceeds"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.Publish(ctx, x.Tom, cat.ID); err != nil {
		t.Fatal(err)
	}

	keys, err := documents.NewKeyring(bytes.Repeat([]byte{9}, documents.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	n := Notifier(t, db, log, clk)
	x.Notify = n
	x.Sealed = &sealed.Service{DB: db, Audit: log, Clock: clk, Keys: keys}
	x.Frameworks = &framework.Service{DB: db, Audit: log, Clock: clk, Catalogue: cs, Orgs: &orgs.Service{DB: db, Audit: log, Clock: clk}, Sealed: x.Sealed, Notify: n}
	x.Competitions = &competition.Service{DB: db, Audit: log, Clock: clk, Frameworks: x.Frameworks, Sealed: x.Sealed, Notify: n}
	local, err := documents.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	x.Docs = &documents.Service{DB: db, Audit: log, Clock: clk, Keys: keys, Store: local, Limits: documents.Limits{MaxFileBytes: 1 << 20, OrgQuotaBytes: 1 << 24}}

	fw := x.Frameworks
	f, err := fw.CreateFramework(ctx, x.Tom, london, framework.FrameworkInput{
		Reference: "SLCSC-EPR-2027", Title: "Electronic patient record systems", Regime: framework.RegimePCR2015, Kind: framework.KindClosed,
		TermStart: At(2027, 4, 1, 0, 0), TermEnd: At(2031, 4, 1, 0, 0),
		ApplicationsOpen: At(2026, 12, 1, 9, 0), ClarificationDeadline: At(2027, 1, 10, 17, 0), ApplicationDeadline: At(2027, 1, 20, 12, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	x.Framework = f
	if x.Lot1, err = fw.AddLot(ctx, x.Tom, f.ID, framework.LotInput{Title: "Acute EPR", Scope: "Acute trusts", Min: 1, Max: 3, CallOff: framework.CallOffBoth}); err != nil {
		t.Fatal(err)
	}
	if x.Lot2, err = fw.AddLot(ctx, x.Tom, f.ID, framework.LotInput{Title: "Hosting", Scope: "Hosting", Min: 1, Max: 1, CallOff: framework.CallOffDirect}); err != nil {
		t.Fatal(err)
	}
	reqs, err := fw.CopyRequirements(ctx, x.Tom, x.Lot1.ID, cat.ID, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.CopyRequirements(ctx, x.Tom, x.Lot2.ID, cat.ID, 1, []string{"EPR-SEC-001"}); err != nil {
		t.Fatal(err)
	}
	if err := fw.SetCriteria(ctx, x.Tom, f.ID, []framework.Criterion{{Name: "Quality", Weight: 60}, {Name: "Price", Weight: 40}}); err != nil {
		t.Fatal(err)
	}
	if err := fw.AssignEvaluators(ctx, x.Tom, f.ID, []string{x.Ben.UserID}); err != nil {
		t.Fatal(err)
	}
	if err := fw.Publish(ctx, x.Tom, f.ID); err != nil {
		t.Fatal(err)
	}
	for _, who := range []audit.Actor{x.Sarah, x.James} {
		_, token, err := fw.Invite(ctx, x.Tom, f.ID, strings.ToLower(strings.ReplaceAll(who.Label, " ", "."))+"@example.com", who.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Accept(ctx, who, token, who.OrgID); err != nil {
			t.Fatal(err)
		}
	}

	clk.Set(f.ApplicationsOpen)
	for _, who := range []audit.Actor{x.Sarah, x.James} {
		c := framework.ApplicationContent{LotID: x.Lot1.ID, Answers: map[string]framework.Answer{}, Declarations: []string{"exclusion", "conflicts", "accurate"}}
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
		if _, err := x.Sealed.Submit(ctx, who, framework.ApplicationBox(f, x.Lot1.ID), who.OrgID, b, 0); err != nil {
			t.Fatal(err)
		}
	}

	clk.Set(f.ApplicationDeadline)
	if _, err := fw.OpenApplications(ctx, x.Tom, f.ID); err != nil {
		t.Fatal(err)
	}
	if o, err := fw.OpenApplications(ctx, x.Nadia, f.ID); err != nil || !o.Opened || o.Applications != 2 {
		t.Fatalf("opening with two keys: %+v (err %v)", o, err)
	}
	apps, err := fw.Applications(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	var decisions []framework.Decision
	for _, a := range apps {
		if err := fw.SaveScores(ctx, x.Ben, a.ID, PassingScores(reqs)); err != nil {
			t.Fatal(err)
		}
		if err := fw.SubmitScores(ctx, x.Ben, a.ID); err != nil {
			t.Fatal(err)
		}
		decisions = append(decisions, framework.Decision{ApplicationID: a.ID, Appoint: true})
	}
	clk.Set(At(2027, 1, 29, 15, 0))
	if err := fw.Decide(ctx, x.Tom, f.ID, decisions); err != nil {
		t.Fatal(err)
	}
	clk.Set(At(2027, 2, 1, 10, 0))
	if err := fw.StartStandstill(ctx, x.Tom, f.ID); err != nil {
		t.Fatal(err)
	}
	clk.Set(LiveAt)
	if x.Framework, err = fw.Framework(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if st := x.Framework.State(clk.Now()); st != framework.StateLive {
		t.Fatalf("framework is %s, want live", st)
	}
	return x
}

// CompetitionInput is a valid competition: quality 60, price 40, no
// expression of interest, questions until 1 March, bids until midday on 15
// March 2027.
func CompetitionInput(ref string) competition.CompetitionInput {
	return competition.CompetitionInput{
		Reference: ref, Title: "EPR for South West London", Description: "Replacing the national EPR contract",
		QualityWeight: 60, PriceWeight: 40, ShowBidCount: true,
		Timeline: competition.Timeline{
			QuestionDeadline:   At(2027, 3, 1, 17, 0),
			SubmissionDeadline: At(2027, 3, 15, 12, 0),
			EvaluationEnd:      At(2027, 4, 15, 17, 0),
			PlannedAward:       At(2027, 4, 30, 9, 0),
		},
	}
}

// Ready creates a competition led by St George's with Guy's and St Thomas'
// as a second buying trust, the lot's requirements copied and weighted
// (EPR-MED-001 60, EPR-MED-002 40; the pass/fail one a gate), a price
// schedule for each trust (licences, implementation, hosting and support
// for St George's, 6,511 units in all; 14,000 licences for Guy's and St
// Thomas') and a panel of two (Ben and Chloe), ready to publish.
func (x *Live) Ready(t testing.TB, in competition.CompetitionInput) *competition.Competition {
	t.Helper()
	ctx := context.Background()
	s := x.Competitions
	c, err := s.CreateCompetition(ctx, x.Aisha, x.Lot1.ID, x.RJ7, in)
	if err != nil {
		t.Fatal(err)
	}
	beds := 1100
	if _, err := s.AddBuyer(ctx, x.Aisha, c.ID, competition.BuyerInput{OrganisationID: x.RJ1, Volumes: "1,100 beds, 14,000 staff", Beds: &beds, Sites: "Guy's; St Thomas'"}); err != nil {
		t.Fatal(err)
	}
	reqs, err := s.CopyLotRequirements(ctx, x.Aisha, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		w := map[string]int{"EPR-MED-001": 60, "EPR-MED-002": 40, "EPR-SEC-001": 0}[r.Reference]
		if err := s.UpdateRequirement(ctx, x.Aisha, competition.RequirementEdit{RequirementID: r.ID, Text: r.Text, Weight: w, Version: r.Version}); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range []competition.PriceItemInput{
		{OrganisationID: x.RJ7, Name: "Licences", Unit: "licence", Quantity: 6500},
		{OrganisationID: x.RJ7, Name: "Implementation", Unit: "one-off", Quantity: 1},
		{OrganisationID: x.RJ7, Name: "Hosting per year", Unit: "year", Quantity: 5},
		{OrganisationID: x.RJ7, Name: "Support per year", Unit: "year", Quantity: 5},
		{OrganisationID: x.RJ1, Name: "Licences", Unit: "licence", Quantity: 14000},
	} {
		if _, err := s.AddPriceItem(ctx, x.Aisha, c.ID, it); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AssignPanel(ctx, x.Aisha, c.ID, []string{x.Ben.UserID, x.Chloe.UserID}); err != nil {
		t.Fatal(err)
	}
	return c
}

// Reload reads the competition afresh.
func (x *Live) Reload(t testing.TB, id string) *competition.Competition {
	t.Helper()
	c, err := x.Competitions.Competition(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Published is a Ready competition, published at the clock's time and read
// afresh.
func (x *Live) Published(t testing.TB, in competition.CompetitionInput) *competition.Competition {
	t.Helper()
	c := x.Ready(t, in)
	if err := x.Competitions.Publish(context.Background(), x.Aisha, c.ID); err != nil {
		t.Fatal(err)
	}
	return x.Reload(t, c.ID)
}

// CompleteBid is who's complete bid priced at pence per unit.
func (x *Live) CompleteBid(t testing.TB, c *competition.Competition, who audit.Actor, pence int64) competition.BidContent {
	t.Helper()
	return CompleteBid(t, x.Competitions, c, who.Label+" answers", pence)
}

// Bid saves a complete bid priced at pence per unit as who's working copy
// and submits it as a first submission.
func (x *Live) Bid(t testing.TB, c *competition.Competition, who audit.Actor, pence int64) sealed.Receipt {
	t.Helper()
	return SubmitBid(t, x.Competitions, c, who, x.CompleteBid(t, c, who, pence))
}

// SubmitBid saves the content as who's working copy of its bid and submits
// it as a first submission.
func SubmitBid(t testing.TB, s *competition.Service, c *competition.Competition, who audit.Actor, content competition.BidContent) sealed.Receipt {
	t.Helper()
	ctx := context.Background()
	_, v, err := s.BidWorkingCopy(ctx, who, c.ID, who.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveBidDraft(ctx, who, c.ID, who.OrgID, content, v); err != nil {
		t.Fatal(err)
	}
	st, err := s.BidStatus(ctx, who, c.ID, who.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := s.SubmitBid(ctx, who, c.ID, who.OrgID, st.Version)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// OpenBids moves the clock to the submission deadline (if it is before
// it) and opens the bids with two keys, Aisha's and Chloe's, returning the
// bids recorded, by supplier name.
func (x *Live) OpenBids(t testing.TB, c *competition.Competition) []competition.Bid {
	t.Helper()
	ctx := context.Background()
	if x.Clock.Now().Before(c.SubmissionDeadline) {
		x.Clock.Set(c.SubmissionDeadline)
	}
	if _, err := x.Competitions.OpenBids(ctx, x.Aisha, c.ID); err != nil {
		t.Fatal(err)
	}
	if o, err := x.Competitions.OpenBids(ctx, x.Chloe, c.ID); err != nil || !o.Opened {
		t.Fatalf("opening %+v (err %v)", o, err)
	}
	bids, err := x.Competitions.OpenedBids(ctx, x.Aisha, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return bids
}

// AppointMore adds n suppliers ("Supplier 00 Ltd"...), each with one
// supplier user, appointed to lot 1 as if the framework's evaluation had
// appointed them (the framework package's tests cover how that happens);
// publish a competition after it to invite them.
func (x *Live) AppointMore(t testing.TB, n int) []audit.Actor {
	t.Helper()
	apps, err := x.Frameworks.Applications(context.Background(), x.Framework.ID)
	if err != nil || len(apps) == 0 {
		t.Fatalf("applications %v (err %v)", apps, err)
	}
	model := apps[0]
	out := make([]audit.Actor, n)
	for i := range n {
		id := fmt.Sprintf("sup-%02d", i)
		ch := fmt.Sprintf("0990%04d", i)
		org := orgs.Organisation{ID: "org-" + id, Kind: orgs.KindSupplier, Name: fmt.Sprintf("Supplier %02d Ltd", i), CompaniesHouseNumber: &ch, Version: 1, CreatedAt: T0, UpdatedAt: T0}
		if err := x.DB.Omit("Lead").Create(&org).Error; err != nil {
			t.Fatal(err)
		}
		out[i] = AddUser(t, x.DB, T0, "u-"+id, fmt.Sprintf("Supplier user %02d", i), "supplier_user", org.ID)
		sub := sealed.Submission{ID: "s-" + id, BoxType: sealed.TypeFrameworkApplication, BoxID: x.Lot1.ID, SupplierOrgID: org.ID,
			Status: sealed.StatusSubmitted, CurrentVersion: 1, Version: 1, CreatedAt: T0, UpdatedAt: T0}
		if err := x.DB.Create(&sub).Error; err != nil {
			t.Fatal(err)
		}
		a := framework.Application{ID: "a-" + id, FrameworkID: x.Framework.ID, LotID: x.Lot1.ID, SupplierOrgID: org.ID, SubmissionID: sub.ID,
			VersionNumber: 1, SHA256: strings.Repeat("0", 64), ReceivedAt: model.ReceivedAt, Status: framework.ApplicationAppointed,
			DecidedAt: model.DecidedAt, DecidedBy: model.DecidedBy, OpenedAt: model.OpenedAt, OpenedBy: model.OpenedBy}
		if err := x.DB.Omit("Lot", "Supplier").Create(&a).Error; err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Declare records who's declaration of interests in the competition: a
// conflict with each supplier in conflicts (with those details), none with
// every other supplier whose bid was opened.
func (x *Live) Declare(t testing.TB, c *competition.Competition, who audit.Actor, conflicts map[string]string) {
	t.Helper()
	ctx := context.Background()
	bids, err := x.Competitions.OpenedBids(ctx, x.Aisha, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var in []competition.DeclarationInput
	for _, b := range bids {
		if b.Status != competition.BidOpened {
			continue
		}
		details, conflict := conflicts[b.SupplierOrgID]
		in = append(in, competition.DeclarationInput{SupplierOrgID: b.SupplierOrgID, Conflict: conflict, Details: details})
	}
	if err := x.Competitions.DeclareConflicts(ctx, who, c.ID, in); err != nil {
		t.Fatal(err)
	}
}

// Marks are an evaluator's (or the moderation's) marks for every
// requirement: pass for the pass/fail ones, score for the others, each
// with a justification.
func Marks(reqs []competition.Requirement, score int) []evaluation.MarkInput {
	out := make([]evaluation.MarkInput, 0, len(reqs))
	for _, r := range reqs {
		m := evaluation.MarkInput{RequirementID: r.ID, Justification: "Against the descriptors: " + r.Reference}
		if r.ResponseType == catalogue.PassFail {
			pass := true
			m.Pass = &pass
		} else {
			s := score
			m.Score = &s
		}
		out = append(out, m)
	}
	return out
}
