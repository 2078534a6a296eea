package framework_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

func TestCreateRefusesBadInputAndSavesNothing(t *testing.T) {
	tests := []struct {
		name   string
		change func(in *framework.FrameworkInput)
		want   map[string]string
	}{
		{"nothing entered", func(in *framework.FrameworkInput) { *in = framework.FrameworkInput{} }, map[string]string{
			"reference": "Enter a reference, such as SLCSC-EPR-2027", "title": "Enter a title",
			"regime": "Choose the regime: Public Contracts Regulations 2015 or Procurement Act 2023",
			"kind":   "Choose whether the framework is closed or open", "term_start": "Enter the date the term starts",
			"term_end": "Enter the date the term ends", "applications_open": "Enter when applications open",
			"clarification_deadline": "Enter the deadline for clarification questions", "application_deadline": "Enter the application deadline",
		}},
		{"bad reference", func(in *framework.FrameworkInput) { in.Reference = "EPR 2027!" }, map[string]string{
			"reference": "Reference must be 3 to 40 letters, digits and hyphens, such as SLCSC-EPR-2027"}},
		{"term ends before it starts", func(in *framework.FrameworkInput) { in.TermEnd = date(2027, 3, 1) }, map[string]string{
			"term_end": "The term must end after it starts"}},
		{"closed term 4 years and a day", func(in *framework.FrameworkInput) { in.TermEnd = date(2031, 4, 2) }, map[string]string{
			"term_end": "A closed framework can last at most 4 years; this term ends after 1 April 2031"}},
		{"open framework under PCR 2015", func(in *framework.FrameworkInput) { in.Kind = framework.KindOpen }, map[string]string{
			"kind": "Open frameworks exist only under the Procurement Act 2023"}},
		{"open term 8 years and a day", func(in *framework.FrameworkInput) {
			in.Regime, in.Kind, in.TermEnd = framework.RegimePA2023, framework.KindOpen, date(2035, 4, 2)
		}, map[string]string{"term_end": "An open framework can last at most 8 years; this term ends after 1 April 2035"}},
		{"deadline in the past", func(in *framework.FrameworkInput) {
			in.ApplicationsOpen = t0.AddDate(0, 0, -20)
			in.ClarificationDeadline = t0.AddDate(0, 0, -10)
			in.ApplicationDeadline = t0.Add(-time.Hour)
		}, map[string]string{"application_deadline": "The application deadline must be in the future"}},
		{"window out of order", func(in *framework.FrameworkInput) {
			in.ClarificationDeadline = in.ApplicationsOpen.Add(-time.Hour)
			in.ApplicationDeadline = in.ClarificationDeadline.Add(-time.Hour)
		}, map[string]string{
			"clarification_deadline": "The clarification deadline must be after applications open",
			"application_deadline":   "The application deadline must be after the clarification deadline"}},
		{"deadline after the term starts", func(in *framework.FrameworkInput) { in.TermStart, in.TermEnd = date(2027, 1, 15), date(2031, 1, 15) }, map[string]string{
			"application_deadline": "The application deadline must be before the term starts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := setup(t, db)
				before := counts(t, db)
				in := validInput("SLCSC-EPR-2027")
				tt.change(&in)
				_, err := f.s.CreateFramework(context.Background(), lead, f.london, in)
				v := fieldErrors(t, err)
				for field, msg := range tt.want {
					if got := v.For(field); got != msg {
						t.Errorf("%s: %q, want %q", field, got, msg)
					}
				}
				if len(v.List) != len(tt.want) {
					t.Errorf("errors %v, want only %v", v.List, tt.want)
				}
				sameCounts(t, before, counts(t, db))
			})
		})
	}
}

func TestTermLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		closed := validInput("SLCSC-CLOSED-4")
		fw, err := f.s.CreateFramework(ctx, lead, f.london, closed)
		if err != nil {
			t.Fatalf("closed framework of exactly 4 years: %v", err)
		}
		got, err := f.s.Framework(ctx, fw.ID)
		if err != nil || !got.TermStart.Equal(date(2027, 4, 1)) || !got.TermEnd.Equal(date(2031, 4, 1)) || got.Status != framework.StatusDraft {
			t.Fatalf("stored %+v (err %v)", got, err)
		}
		open := validInput("SLCSC-OPEN-8")
		open.Regime, open.Kind, open.TermEnd = framework.RegimePA2023, framework.KindOpen, date(2035, 4, 1)
		if _, err := f.s.CreateFramework(ctx, lead, f.london, open); err != nil {
			t.Fatalf("open framework of exactly 8 years: %v", err)
		}
		open.Reference, open.TermEnd = "SLCSC-OPEN-9", date(2035, 4, 2)
		if v := fieldErrors(t, mustErr(f.s.CreateFramework(ctx, lead, f.london, open))); !v.Has("term_end") {
			t.Fatalf("8 years and a day accepted: %v", v)
		}
		dup := validInput("slcsc-closed-4")
		if v := fieldErrors(t, mustErr(f.s.CreateFramework(ctx, lead, f.london, dup))); v.For("reference") != "Reference SLCSC-CLOSED-4 is already used by another framework" {
			t.Fatalf("duplicate reference: %v", v)
		}
		list, err := f.s.Frameworks(ctx, f.london)
		if err != nil || len(list) != 2 {
			t.Fatalf("Frameworks = %d (err %v), want 2", len(list), err)
		}
	})
}

func mustErr[T any](_ T, err error) error { return err }

func TestUpdateIsOptimisticAndDraftOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, err := f.s.CreateFramework(ctx, lead, f.london, validInput("SLCSC-EPR-2027"))
		if err != nil {
			t.Fatal(err)
		}
		in := validInput("SLCSC-EPR-2027")
		in.Title = "EPR systems and services"
		in.Version = fw.Version
		if err := f.s.UpdateFramework(ctx, lead, fw.ID, in); err != nil {
			t.Fatal(err)
		}
		if err := f.s.UpdateFramework(ctx, lead, fw.ID, in); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale version: err = %v, want conflict", err)
		}
		got, _ := f.s.Framework(ctx, fw.ID)
		if got.Title != "EPR systems and services" || got.Version != 2 {
			t.Fatalf("after update: %+v", got)
		}
	})
}

func TestLotsAndCriteriaRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, err := f.s.CreateFramework(ctx, lead, f.london, validInput("SLCSC-EPR-2027"))
		if err != nil {
			t.Fatal(err)
		}
		before := counts(t, db)
		_, err = f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: " ", Min: 0, Max: -1, CallOff: "any"})
		v := fieldErrors(t, err)
		for _, field := range []string{"title", "min_suppliers", "max_suppliers", "call_off"} {
			if !v.Has(field) {
				t.Errorf("no error for %s: %v", field, v)
			}
		}
		_, err = f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Acute", Min: 3, Max: 2, CallOff: framework.CallOffDirect})
		if got := fieldErrors(t, err).For("max_suppliers"); got != "The maximum number of suppliers must be at least the minimum (3)" {
			t.Errorf("max below min: %q", got)
		}
		err = f.s.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 50}, {Name: "Price", Weight: 40}})
		if got := fieldErrors(t, err).For("criteria"); got != "The weights add up to 90; they must add up to 100" {
			t.Errorf("weights 90: %q", got)
		}
		sameCounts(t, before, counts(t, db))

		for i, title := range []string{"Acute EPR", "Community EPR"} {
			lot, err := f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: title, Min: 1, Max: 5, CallOff: framework.CallOffCompetition})
			if err != nil || lot.Number != i+1 {
				t.Fatalf("lot %s: %+v (err %v)", title, lot, err)
			}
		}
		if err := f.s.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 70}, {Name: "Price", Weight: 30}}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 60}, {Name: "Social value", Weight: 10}, {Name: "Price", Weight: 30}}); err != nil {
			t.Fatal(err)
		}
		cs, err := f.s.Criteria(ctx, fw.ID)
		if err != nil || len(cs) != 3 || cs[1].Name != "Social value" {
			t.Fatalf("criteria replaced: %+v (err %v)", cs, err)
		}
	})
}

func TestCopyKeepsTheSourceAndIgnoresLaterEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, err := f.s.CreateFramework(ctx, lead, f.london, validInput("SLCSC-EPR-2027"))
		if err != nil {
			t.Fatal(err)
		}
		lot, err := f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Acute EPR", Min: 1, Max: 4, CallOff: framework.CallOffBoth})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CopyRequirements(ctx, lead, lot.ID, f.cat.ID, 2, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unpublished version 2: err = %v, want not found", err)
		}
		_, err = f.s.CopyRequirements(ctx, lead, lot.ID, f.cat.ID, 1, []string{"EPR-MED-002", "EPR-XXX-999"})
		if got := fieldErrors(t, err).For("references"); got != "Version 1 of the catalogue has no requirement EPR-XXX-999" {
			t.Fatalf("unknown reference: %q", got)
		}
		got, err := f.s.CopyRequirements(ctx, lead, lot.ID, f.cat.ID, 1, []string{"epr-med-002"})
		if err != nil || len(got) != 1 {
			t.Fatalf("copy one: %v (err %v)", got, err)
		}
		_, err = f.s.CopyRequirements(ctx, lead, lot.ID, f.cat.ID, 1, nil)
		if msg := fieldErrors(t, err).For("references"); msg != "Lot 1 already has EPR-MED-002" {
			t.Fatalf("copy again: %q", msg)
		}

		// The catalogue's draft moves on and is published as version 2.
		src, err := f.s.Catalogue.Snapshot(ctx, f.cat.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		var orig catalogue.Requirement
		for _, r := range src {
			if r.Reference == "EPR-MED-002" {
				orig = r
			}
		}
		_, err = f.s.Catalogue.SaveRequirement(ctx, lead, f.cat.ID, catalogue.RequirementInput{
			ID: orig.ID, SectionID: orig.SectionID, Reference: "EPR-MED-002", Text: "Changed wording after the copy.",
			Priority: "Should", Weight: "5", ResponseType: "Pass/fail", Version: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Catalogue.Publish(ctx, lead, f.cat.ID); err != nil {
			t.Fatal(err)
		}

		reqs, err := f.s.LotRequirements(ctx, lot.ID)
		if err != nil || len(reqs) != 1 {
			t.Fatalf("lot requirements: %v (err %v)", reqs, err)
		}
		r := reqs[0]
		if r.Text != orig.Text || r.Priority != "must" || r.Weight != 10 || r.ResponseType != "scored" || len(r.Descriptors) != 5 || r.Guidance != "Look for live use." {
			t.Fatalf("copy changed with the catalogue or lost fields: %+v", r)
		}
		if o := r.Origin(); o != orig.Origin() || o.CatalogueVersion != 1 || o.RequirementID != orig.ID {
			t.Fatalf("origin %+v, want %+v", o, orig.Origin())
		}
		if r.SectionTitle != "Medicines" {
			t.Errorf("section title %q", r.SectionTitle)
		}
	})
}

func TestPublishListsEveryProblem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		if _, err := f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Community EPR", Min: 1, Max: 3, CallOff: framework.CallOffDirect}); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE framework_criteria SET weight = 30 WHERE name = 'Price'").Error; err != nil {
			t.Fatal(err)
		}
		f.clk.Set(time.Date(2027, 1, 21, 0, 0, 0, 0, time.UTC))
		before := counts(t, db)
		v := fieldErrors(t, f.s.Publish(ctx, lead, fw.ID))
		want := map[string]string{
			"lot2":                 "Lot 2 (Community EPR) has no requirements; copy some from a catalogue",
			"criteria":             "The weights add up to 90; they must add up to 100",
			"application_deadline": "The application deadline has passed; move it later before publishing",
		}
		for field, msg := range want {
			if got := v.For(field); got != msg {
				t.Errorf("%s: %q, want %q", field, got, msg)
			}
		}
		if v.Has("lot1") {
			t.Errorf("lot 1 has requirements: %v", v)
		}
		sameCounts(t, before, counts(t, db))
		got, _ := f.s.Framework(ctx, fw.ID)
		if got.Status != framework.StatusDraft {
			t.Fatalf("status %q after a refused publish", got.Status)
		}

		empty, err := f.s.CreateFramework(ctx, lead, f.london, func() framework.FrameworkInput {
			in := validInput("SLCSC-EMPTY")
			in.ApplicationsOpen, in.ClarificationDeadline, in.ApplicationDeadline = date(2027, 1, 22), date(2027, 2, 1), date(2027, 2, 10)
			return in
		}())
		if err != nil {
			t.Fatal(err)
		}
		v = fieldErrors(t, f.s.Publish(ctx, lead, empty.ID))
		if v.For("lots") != "Add at least one lot" || v.For("criteria") != "Add the evaluation criteria" {
			t.Fatalf("empty framework: %v", v)
		}
	})
}

func TestPublishAndLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		if err := f.s.Publish(ctx, lead, fw.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := f.s.Framework(ctx, fw.ID)
		if got.Status != framework.StatusPublished || got.PublishedAt == nil || got.State(f.clk.Now()) != framework.StateScheduled {
			t.Fatalf("after publish: %+v state %s", got, got.State(f.clk.Now()))
		}
		if _, err := f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Late", Min: 1, Max: 1, CallOff: framework.CallOffDirect}); !errors.Is(err, framework.ErrNotDraft) {
			t.Fatalf("lot added after publishing: err = %v", err)
		}
		tom := domaintest.DemoActor(t, db, "demo-consortium-lead")
		if err := f.s.StartStandstill(ctx, tom, fw.ID); fieldErrors(t, err).For("state") == "" {
			t.Fatal("standstill before evaluation accepted")
		}
		if err := f.s.StartStandstill(ctx, lead, fw.ID); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("standstill started by someone who is not the consortium's lead: %v", err)
		}
		f.clk.Set(got.ApplicationDeadline)
		if st := got.State(f.clk.Now()); st != framework.StateEvaluation {
			t.Fatalf("at the deadline: %s", st)
		}
		if err := f.s.StartStandstill(ctx, tom, fw.ID); fieldErrors(t, err).For("state") != "Open the applications and evaluate them first" {
			t.Fatalf("standstill before opening: %v", err)
		}
		got, _ = f.s.Framework(ctx, fw.ID)
		if st := got.State(f.clk.Now()); st != framework.StateEvaluation || got.StandstillEnds != nil {
			t.Fatalf("after refused standstill: %s %v", st, got.StandstillEnds)
		}
		if err := f.s.Cancel(ctx, lead, fw.ID, " "); fieldErrors(t, err).For("reason") == "" {
			t.Fatal("cancelled without a reason")
		}
		if err := f.s.Cancel(ctx, lead, fw.ID, "Funding withdrawn"); err != nil {
			t.Fatal(err)
		}
		got, _ = f.s.Framework(ctx, fw.ID)
		if got.State(f.clk.Now()) != framework.StateCancelled || got.CancelReason != "Funding withdrawn" || got.CancelledAt == nil {
			t.Fatalf("after cancel: %+v", got)
		}
		var actions []string
		db.Table("audit_entries").Where("object_id = ? AND outcome = ?", fw.ID, "success").Order("seq").Pluck("action", &actions)
		want := "framework.create framework.lot.add framework.lot.copy_requirements framework.criteria.set framework.publish framework.cancel"
		if strings.Join(actions, " ") != want {
			t.Fatalf("audit %v, want %s", actions, want)
		}
	})
}

func TestBuyers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		var outsider, supplier orgs.Organisation
		if err := db.Where("ods_code = ?", "RR8").First(&outsider).Error; err != nil { // a Yorkshire trust
			t.Fatal(err)
		}
		if err := db.Where("kind = ?", orgs.KindSupplier).First(&supplier).Error; err != nil {
			t.Fatal(err)
		}
		if err := f.s.RequestAccess(ctx, lead, fw.ID, outsider.ID); fieldErrors(t, err).For("state") == "" {
			t.Fatal("access requested on a draft")
		}
		if err := f.s.Publish(ctx, lead, fw.ID); err != nil {
			t.Fatal(err)
		}
		buyers, err := f.s.Buyers(ctx, fw.ID)
		if err != nil || len(buyers) != len(f.members) || len(buyers) == 0 {
			t.Fatalf("buyers %d (err %v), want the %d members", len(buyers), err, len(f.members))
		}
		for _, m := range f.members {
			if ok, err := f.s.EligibleBuyer(ctx, fw.ID, m.TrustID); err != nil || !ok {
				t.Fatalf("member %s not eligible (err %v)", m.Trust.Name, err)
			}
		}
		if buyers[0].Organisation.Name == "" {
			t.Fatal("buyers not loaded with their organisations")
		}
		if ok, _ := f.s.EligibleBuyer(ctx, fw.ID, outsider.ID); ok {
			t.Fatal("outsider eligible before asking")
		}
		if err := f.s.RequestAccess(ctx, lead, fw.ID, supplier.ID); !fieldErrors(t, err).Has("organisation") {
			t.Fatal("a supplier asked for buyer access")
		}
		if err := f.s.RequestAccess(ctx, lead, fw.ID, f.members[0].TrustID); !strings.Contains(fieldErrors(t, err).For("organisation"), "member of the consortium") {
			t.Fatal("a member asked for access")
		}
		if err := f.s.RequestAccess(ctx, lead, fw.ID, outsider.ID); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.s.EligibleBuyer(ctx, fw.ID, outsider.ID); ok {
			t.Fatal("outsider eligible while the request is pending")
		}
		if err := f.s.DecideAccess(ctx, lead, fw.ID, outsider.ID, false); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.s.EligibleBuyer(ctx, fw.ID, outsider.ID); ok {
			t.Fatal("outsider eligible after refusal")
		}
		if err := f.s.DecideAccess(ctx, lead, fw.ID, outsider.ID, true); !fieldErrors(t, err).Has("organisation") {
			t.Fatal("decided without a pending request")
		}
		if err := f.s.RequestAccess(ctx, lead, fw.ID, outsider.ID); err != nil {
			t.Fatalf("asking again after refusal: %v", err)
		}
		if err := f.s.DecideAccess(ctx, lead, fw.ID, outsider.ID, true); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.s.EligibleBuyer(ctx, fw.ID, outsider.ID); !ok {
			t.Fatal("admitted outsider not eligible")
		}
		// The consortium's two leads heard of each request, in the same
		// transactions as the requests.
		var asked int64
		db.Table("notifications").Where("kind = ? AND body_text LIKE ?", "framework_update", "%"+outsider.Name+" asked to buy%").Count(&asked)
		if asked != 4 {
			t.Fatalf("%d notifications of the requests for access, want 4 (one per request to each of the two leads)", asked)
		}
		var b framework.Buyer
		db.Where("framework_id = ? AND organisation_id = ?", fw.ID, outsider.ID).First(&b)
		if b.Status != framework.BuyerAdmitted || b.DecidedBy != lead.UserID || b.DecidedAt == nil || b.RequestedAt == nil {
			t.Fatalf("admitted buyer %+v", b)
		}
	})
}

// TestRequirementsByLot: one query gives every lot's requirements, the same
// as asking lot by lot, and nothing from another framework.
func TestRequirementsByLot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, lot := f.ready(t, "BYLOT-1")
		second, err := f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Hosting", Min: 1, Max: 3, CallOff: framework.CallOffDirect})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CopyRequirements(ctx, lead, second.ID, f.cat.ID, 1, []string{"EPR-MED-002"}); err != nil {
			t.Fatal(err)
		}
		f.ready(t, "BYLOT-2") // another framework's lots must not appear
		byLot, err := f.s.RequirementsByLot(ctx, fw.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(byLot) != 2 {
			t.Fatalf("requirements for %d lots, want 2", len(byLot))
		}
		for _, l := range []*framework.Lot{lot, second} {
			one, _ := f.s.LotRequirements(ctx, l.ID)
			got := byLot[l.ID]
			if len(got) != len(one) || len(got) == 0 {
				t.Fatalf("lot %s: %d requirements, lot by lot %d", l.Title, len(got), len(one))
			}
			for i := range one {
				if got[i].ID != one[i].ID {
					t.Fatalf("lot %s: order differs at %d", l.Title, i)
				}
			}
		}
	})
}
