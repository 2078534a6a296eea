package framework_test

import (
	"context"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

var (
	t0   = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	lead = audit.Actor{UserID: "u-lead", Label: "Tom Reilly", OrgID: "org"}
)

type fixture struct {
	s       *framework.Service
	clk     *clock.Manual
	db      *store.DB
	london  string
	cat     *catalogue.Catalogue
	members []orgs.ConsortiumMember
	// notifier is the real notifier the service sends with.
	notifier *notify.Notifier
}

// setup seeds the demo organisations, a published catalogue (version 1,
// three requirements) for the South London consortium and a service.
func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(t0)
	log := &audit.Log{Clock: clk}
	if _, err := orgs.SeedDemo(ctx, db.DB, log, clk.Now(), domaintest.DevIssuer); err != nil {
		t.Fatal(err)
	}
	var london orgs.Organisation
	if err := db.Where("kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon).First(&london).Error; err != nil {
		t.Fatal(err)
	}
	cs := &catalogue.Service{DB: db, Audit: log, Clock: clk}
	c, err := cs.CreateCatalogue(ctx, lead, london.ID, "EPR requirements", "")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := cs.AddSection(ctx, lead, c.ID, "Medicines")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ ref, text string }{
		{"EPR-MED-001", "The system must support electronic prescribing and medicines administration."},
		{"EPR-MED-002", "The system must check allergies when prescribing."},
		{"EPR-MED-003", "The system should support dose range checking."},
	} {
		_, err := cs.SaveRequirement(ctx, lead, c.ID, catalogue.RequirementInput{
			SectionID: sec.ID, Reference: r.ref, Text: r.text, Priority: "Must", Weight: "10", ResponseType: "Scored (0-4)",
			Descriptors: [5]string{"No response", "Poor", "Partly meets", "Meets", "Exceeds"}, Guidance: "Look for live use.",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.Publish(ctx, lead, c.ID); err != nil {
		t.Fatal(err)
	}
	members, err := (&orgs.Service{DB: db, Audit: log, Clock: clk}).Members(ctx, london.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := domaintest.Notifier(t, db, log, clk)
	s := &framework.Service{DB: db, Audit: log, Clock: clk, Catalogue: cs, Orgs: &orgs.Service{DB: db, Audit: log, Clock: clk}, Notify: n}
	return &fixture{s: s, clk: clk, db: db, london: london.ID, cat: c, members: members, notifier: n}
}

// validInput is a closed PCR 2015 framework with a four-year term whose
// window opens a week after t0.
func validInput(ref string) framework.FrameworkInput {
	return framework.FrameworkInput{
		Reference: ref, Title: "Electronic patient record systems", Description: "EPR, ePMA and integration",
		Regime: framework.RegimePCR2015, Kind: framework.KindClosed,
		TermStart: date(2027, 4, 1), TermEnd: date(2031, 4, 1),
		ApplicationsOpen:      time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		ClarificationDeadline: time.Date(2027, 1, 10, 17, 0, 0, 0, time.UTC),
		ApplicationDeadline:   time.Date(2027, 1, 20, 12, 0, 0, 0, time.UTC),
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// ready creates a framework with one lot holding every catalogue
// requirement and criteria adding up to 100.
func (f *fixture) ready(t *testing.T, ref string) (*framework.Framework, *framework.Lot) {
	t.Helper()
	ctx := context.Background()
	fw, err := f.s.CreateFramework(ctx, lead, f.london, validInput(ref))
	if err != nil {
		t.Fatal(err)
	}
	lot, err := f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Acute EPR", Scope: "Acute trusts", Min: 2, Max: 6, CallOff: framework.CallOffBoth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CopyRequirements(ctx, lead, lot.ID, f.cat.ID, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 60}, {Name: "Price", Weight: 40}}); err != nil {
		t.Fatal(err)
	}
	return fw, lot
}

func count(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var tables = []string{"frameworks", "framework_lots", "framework_lot_requirements", "framework_criteria", "framework_buyers", "audit_entries"}

func counts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range tables {
		out[table] = count(t, db, table)
	}
	return out
}

func sameCounts(t *testing.T, before, after map[string]int64) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s went from %d to %d rows; nothing should have been written", k, v, after[k])
		}
	}
}

func fieldErrors(t *testing.T, err error) *validate.Errors {
	t.Helper()
	v, ok := validate.As(err)
	if !ok {
		t.Fatalf("err = %v, want field errors", err)
	}
	return v
}
