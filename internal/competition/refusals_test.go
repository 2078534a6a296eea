package competition_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestCreateRefusesBadInputAndSavesNothing: every problem with the input at
// once, a lead that may not buy under the framework, someone who is not a
// trust lead of the lead trust, a lot that allows direct awards only, a
// reference in use and a deadline too soon for the regime.
func TestCreateRefusesBadInputAndSavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s

		for _, who := range []audit.Actor{x.ben, x.omar, x.sarah} {
			if _, err := s.CreateCompetition(ctx, who, x.lot1.ID, x.rj7, input("SWL-EPR-2027-01")); !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s created a competition for St George's: %v", who.Label, err)
			}
		}
		if n := auditCount(t, db, "competition.create", audit.Denied); n != 3 {
			t.Fatalf("refused creations audited %d times, want 3", n)
		}

		bad := competition.CompetitionInput{
			Reference: "x", Title: "  ", QualityWeight: 70, PriceWeight: 40, ExpressionOfInterest: true,
			Timeline: competition.Timeline{
				QuestionDeadline:   at(2027, 3, 20, 17, 0),
				SubmissionDeadline: at(2027, 3, 15, 12, 0),
				EvaluationEnd:      at(2027, 3, 10, 17, 0),
				PlannedAward:       at(2027, 3, 1, 9, 0),
			},
		}
		_, err := s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, bad)
		wantErrors(t, err, map[string]string{
			competition.FieldReference:        "Reference must be 3 to 40 letters, digits and hyphens, such as SWL-EPR-2027-01",
			competition.FieldTitle:            "Enter a title",
			competition.FieldWeights:          "The quality and price weights add up to 110; they must add up to 100",
			competition.FieldEOIDeadline:      "Enter the deadline for expressions of interest",
			competition.FieldQuestionDeadline: "The question deadline must be before the submission deadline",
			competition.FieldEvaluationEnd:    "Evaluation must end after the submission deadline",
			competition.FieldPlannedAward:     "The planned award date must be on or after the end of evaluation",
		})
		bad = input("SWL-EPR-2027-01")
		bad.QualityWeight, bad.PriceWeight = -10, 110
		bad.Timeline = competition.Timeline{}
		_, err = s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, bad)
		wantErrors(t, err, map[string]string{
			competition.FieldQualityWeight:      "The quality weight must be from 0 to 100, not -10",
			competition.FieldPriceWeight:        "The price weight must be from 0 to 100, not 110",
			competition.FieldQuestionDeadline:   "Enter the deadline for clarification questions",
			competition.FieldSubmissionDeadline: "Enter the submission deadline",
			competition.FieldEvaluationEnd:      "Enter when evaluation ends",
			competition.FieldPlannedAward:       "Enter the planned award date",
		})

		// Too soon for the regime: ten days by default, named in UK time.
		soon := input("SWL-EPR-2027-01")
		soon.Timeline.QuestionDeadline = at(2027, 2, 20, 17, 0)
		soon.Timeline.SubmissionDeadline = at(2027, 2, 24, 12, 0)
		_, err = s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, soon)
		wantErrors(t, err, map[string]string{
			competition.FieldSubmissionDeadline: "The submission deadline must be at least 10 days after publication under the Public Contracts Regulations 2015; the earliest allowed is 9am on 25 February 2027 (UK time)",
		})
		s.MinimumPeriod = map[string]time.Duration{framework.RegimePCR2015: 35 * 24 * time.Hour}
		_, err = s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, input("SWL-EPR-2027-01"))
		wantErrors(t, err, map[string]string{
			competition.FieldSubmissionDeadline: "The submission deadline must be at least 35 days after publication under the Public Contracts Regulations 2015; the earliest allowed is 9am on 22 March 2027 (UK time)",
		})
		s.MinimumPeriod = nil

		// The lead must be an eligible buyer under the framework.
		_, err = s.CreateCompetition(ctx, x.yara, x.lot1.ID, x.outsider, input("SWL-EPR-2027-01"))
		wantErrors(t, err, map[string]string{
			competition.FieldLead: "Leeds Teaching Hospitals NHS Trust is not an eligible buyer under framework SLCSC-EPR-2027, so it cannot run a competition under it",
		})
		// A lot for direct awards only takes no further competition.
		_, err = s.CreateCompetition(ctx, x.aisha, x.lot2.ID, x.rj7, input("SWL-EPR-2027-01"))
		wantErrors(t, err, map[string]string{
			competition.FieldLot: "Lot 2 (Hosting) allows direct awards only, not further competitions",
		})
		if n := count(t, db, "competitions", ""); n != 0 {
			t.Fatalf("%d competitions saved from refused input", n)
		}

		c, err := s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, input(" swl-epr-2027-01 "))
		if err != nil {
			t.Fatal(err)
		}
		if c.Reference != "SWL-EPR-2027-01" || c.Version != 1 {
			t.Fatalf("created %+v", c)
		}
		_, err = s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, input("SWL-EPR-2027-01"))
		wantErrors(t, err, map[string]string{competition.FieldReference: "Reference SWL-EPR-2027-01 is already used by another competition"})

		// Editing a draft: the lead only, with the version seen.
		edit := input("SWL-EPR-2027-01")
		edit.Title, edit.Version = "EPR for St George's and Guy's", c.Version
		if err := s.UpdateCompetition(ctx, x.omar, c.ID, edit); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a non-lead edited the draft: %v", err)
		}
		if err := s.UpdateCompetition(ctx, x.aisha, c.ID, edit); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateCompetition(ctx, x.aisha, c.ID, edit); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale edit: %v", err)
		}
		if got := x.reload(t, c.ID); got.Title != edit.Title || got.Version != 2 {
			t.Fatalf("after the edit %+v", got)
		}

		// The framework expires: no competition under it any more.
		x.clk.Set(x.f.TermEnd)
		later := input("SWL-EPR-2031-01")
		later.Timeline = competition.Timeline{QuestionDeadline: at(2031, 5, 1, 17, 0), SubmissionDeadline: at(2031, 5, 15, 12, 0),
			EvaluationEnd: at(2031, 6, 1, 17, 0), PlannedAward: at(2031, 6, 15, 9, 0)}
		_, err = s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, later)
		wantErrors(t, err, map[string]string{
			competition.FieldFramework: "Framework SLCSC-EPR-2027 is expired; suppliers can be called off only while it is live",
		})
	})
}

// TestSetUpRules covers the buying trusts, requirements, price schedules
// and panel of a draft.
func TestSetUpRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c, err := s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, input("SWL-EPR-2027-01"))
		if err != nil {
			t.Fatal(err)
		}

		// Buying trusts.
		_, err = s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.outsider})
		wantErrors(t, err, map[string]string{competition.FieldOrganisation: "Leeds Teaching Hospitals NHS Trust is not an eligible buyer under the framework, so it cannot buy in this competition"})
		_, err = s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj7})
		wantErrors(t, err, map[string]string{competition.FieldOrganisation: "St George's University Hospitals NHS Foundation Trust is already one of the buying trusts"})
		negative := -1
		_, err = s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1, Beds: &negative, Users: &negative})
		wantErrors(t, err, map[string]string{competition.FieldBeds: "The number of beds cannot be negative", competition.FieldUsers: "The number of users cannot be negative"})
		if _, err := s.AddBuyer(ctx, x.omar, c.ID, competition.BuyerInput{OrganisationID: x.rj1}); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a non-lead added a buyer: %v", err)
		}
		b, err := s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1, Volumes: "1,100 beds"})
		if err != nil {
			t.Fatal(err)
		}
		users := 14000
		if err := s.UpdateBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1, Volumes: "1,100 beds, 14,000 users", Users: &users, Version: b.Version}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1, Version: b.Version}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale buyer edit: %v", err)
		}
		wantErrors(t, s.RemoveBuyer(ctx, x.aisha, c.ID, x.rj7), map[string]string{
			competition.FieldOrganisation: "The lead trust runs the competition and is always one of the buying trusts",
		})

		// Requirements.
		_, err = s.CopyLotRequirements(ctx, x.aisha, c.ID, []string{"EPR-MED-001", "epr-xxx-999"})
		wantErrors(t, err, map[string]string{competition.FieldRequirements: "The lot has no requirement EPR-XXX-999"})
		if _, err := s.CopyLotRequirements(ctx, x.aisha, c.ID, []string{"EPR-MED-001", "EPR-MED-002"}); err != nil {
			t.Fatal(err)
		}
		_, err = s.CopyLotRequirements(ctx, x.aisha, c.ID, nil)
		wantErrors(t, err, map[string]string{competition.FieldRequirements: "The competition already has EPR-MED-001, EPR-MED-002"})
		_, err = s.AddRequirement(ctx, x.aisha, c.ID, competition.RequirementInput{Reference: "bad ref", Text: " ", Priority: "Maybe", Weight: 101, ResponseType: "Essay"})
		wantErrors(t, err, map[string]string{
			competition.FieldRequirementReference:    `Reference "BAD REF" must be capital letters and numbers in parts joined by hyphens, like EPR-MED-012`,
			competition.FieldRequirementText:         "Enter the requirement",
			competition.FieldRequirementPriority:     `Priority "Maybe" is not one of Must, Should, Could or Won't`,
			competition.FieldRequirementWeight:       "The weight must be a whole number from 0 to 100, not 101",
			competition.FieldRequirementResponseType: `Response type "Essay" is not one of Pass/fail, Scored (0-4), Numeric or Price schedule`,
		})
		_, err = s.AddRequirement(ctx, x.aisha, c.ID, competition.RequirementInput{Reference: "SWL-INT-001", Text: "Integrates with the shared care record.", Priority: "Must", Weight: 20, ResponseType: "Scored (0-4)",
			Descriptors: [5]string{"No response", "Poor", "", "Meets", "Exceeds"}})
		wantErrors(t, err, map[string]string{competition.FieldDescriptor(2): "Enter what an answer must show to be given mark 2"})
		_, err = s.AddRequirement(ctx, x.aisha, c.ID, competition.RequirementInput{Reference: "EPR-MED-001", Text: "Again", Priority: "Must", Weight: 0, ResponseType: "Pass/fail"})
		wantErrors(t, err, map[string]string{competition.FieldRequirementReference: "The competition already has a requirement EPR-MED-001"})
		own, err := s.AddRequirement(ctx, x.aisha, c.ID, competition.RequirementInput{Reference: "swl-int-001", Text: "Integrates with the shared care record.", Priority: "must have", Weight: 20,
			ResponseType: "scored", Descriptors: [5]string{"No response", "Poor", "Partly meets", "Meets", "Exceeds"}, SectionTitle: "Integration"})
		if err != nil {
			t.Fatal(err)
		}
		if own.Reference != "SWL-INT-001" || own.FromLot() || own.Priority != "must" || own.ResponseType != "scored" || own.Position != 3 {
			t.Fatalf("added %+v", own)
		}
		wantErrors(t, s.UpdateRequirement(ctx, x.aisha, competition.RequirementEdit{RequirementID: own.ID, Text: own.Text, Weight: -1, Version: own.Version}), map[string]string{
			competition.FieldRequirementWeight: "The weight must be a whole number from 0 to 100, not -1",
		})
		if err := s.UpdateRequirement(ctx, x.aisha, competition.RequirementEdit{RequirementID: own.ID, Text: own.Text, Weight: 30, Version: own.Version + 1}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale requirement edit: %v", err)
		}
		if err := s.UpdateRequirement(ctx, x.omar, competition.RequirementEdit{RequirementID: own.ID, Text: own.Text, Weight: 30, Version: own.Version}); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a non-lead edited a requirement: %v", err)
		}
		if err := s.RemoveRequirement(ctx, x.aisha, own.ID); err != nil {
			t.Fatal(err)
		}
		if reqs, _ := s.Requirements(ctx, c.ID); len(reqs) != 2 {
			t.Fatalf("%d requirements after removing one", len(reqs))
		}

		// Price schedules.
		_, err = s.AddPriceItem(ctx, x.aisha, c.ID, competition.PriceItemInput{OrganisationID: x.rj7, Name: " ", Unit: "", Quantity: 0})
		wantErrors(t, err, map[string]string{
			competition.FieldItemName:     "Enter what is to be priced, such as Licences or Hosting per year",
			competition.FieldItemUnit:     "Enter the unit it is priced per, such as licence, year or one-off",
			competition.FieldItemQuantity: "The quantity must be a whole number greater than 0",
		})
		lic, err := s.AddPriceItem(ctx, x.aisha, c.ID, competition.PriceItemInput{OrganisationID: x.rj7, Name: "Licences", Unit: "licence", Quantity: 6500})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.AddPriceItem(ctx, x.aisha, c.ID, competition.PriceItemInput{OrganisationID: x.rj7, Name: "licences", Unit: "user", Quantity: 1})
		wantErrors(t, err, map[string]string{competition.FieldItemName: "The price schedule of St George's University Hospitals NHS Foundation Trust already has an item called licences"})
		if _, err := s.AddPriceItem(ctx, x.aisha, c.ID, competition.PriceItemInput{OrganisationID: x.rj1, Name: "Licences", Unit: "licence", Quantity: 14000}); err != nil {
			t.Fatalf("the same item for another trust: %v", err)
		}
		_, err = s.AddPriceItem(ctx, x.aisha, c.ID, competition.PriceItemInput{OrganisationID: x.outsider, Name: "Licences", Unit: "licence", Quantity: 1})
		wantErrors(t, err, map[string]string{competition.FieldOrganisation: "Add the trust as a buying trust before giving it a price schedule"})
		if err := s.UpdatePriceItem(ctx, x.aisha, lic.ID, competition.PriceItemInput{Name: "Licences", Unit: "licence", Quantity: 7000, Version: lic.Version}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdatePriceItem(ctx, x.aisha, lic.ID, competition.PriceItemInput{Name: "Licences", Unit: "licence", Quantity: 7500, Version: lic.Version}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale price item edit: %v", err)
		}
		// Removing a buying trust removes its price schedule.
		if err := s.RemoveBuyer(ctx, x.aisha, c.ID, x.rj1); err != nil {
			t.Fatal(err)
		}
		scheds, _ := s.PriceSchedules(ctx, c.ID)
		if len(scheds) != 1 || len(scheds[0].Items) != 1 || scheds[0].Items[0].Quantity != 7000 || count(t, db, "competition_price_items", "") != 1 {
			t.Fatalf("schedules after removing a trust %+v", scheds)
		}

		// The panel: evaluators of a buying trust or the consortium only.
		err = s.AssignPanel(ctx, x.aisha, c.ID, []string{x.ben.UserID, x.aisha.UserID, x.chloe.UserID})
		v := fieldErrors(t, err)
		if len(v.List) != 2 || v.List[0].Message != "Aisha Khan is not an evaluator at one of the buying trusts or the consortium" ||
			v.List[1].Message != "Chloe Adams is not an evaluator at one of the buying trusts or the consortium" {
			t.Fatalf("panel errors %v (Guy's is no longer a buying trust)", v.List)
		}
		if err := s.AssignPanel(ctx, x.omar, c.ID, []string{x.ben.UserID}); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a non-lead chose the panel: %v", err)
		}
		if err := s.AssignPanel(ctx, x.aisha, c.ID, []string{x.ben.UserID, x.ben.UserID}); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Panel(ctx, c.ID); len(p) != 1 || p[0].Name != "Ben Carter" || p[0].OrganisationID != x.rj7 {
			t.Fatalf("panel %+v", p)
		}
		if ok, _ := s.OnPanel(ctx, c.ID, x.ben.UserID); !ok {
			t.Fatal("Ben is not on the panel")
		}
	})
}

// TestPublishListsEveryProblem: publishing refuses with every problem at
// once and saves nothing, and a draft's tender box takes no bids.
func TestPublishListsEveryProblem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		in := input("SWL-EPR-2027-01")
		in.Timeline = competition.Timeline{QuestionDeadline: at(2027, 2, 20, 17, 0), SubmissionDeadline: at(2027, 2, 26, 12, 0),
			EvaluationEnd: at(2027, 3, 20, 17, 0), PlannedAward: at(2027, 3, 31, 9, 0)}
		c, err := s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1}); err != nil {
			t.Fatal(err)
		}
		if err := s.AssignPanel(ctx, x.aisha, c.ID, []string{x.chloe.UserID}); err != nil {
			t.Fatal(err)
		}
		// Chloe stops being an evaluator; Guy's loses its place as a buyer.
		if err := db.Exec("DELETE FROM memberships WHERE user_id = ?", x.chloe.UserID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE framework_buyers SET status = ? WHERE organisation_id = ?", framework.BuyerRefused, x.rj1).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := x.sealed.Submit(ctx, x.sarah, competition.BidBox(c), x.sarah.OrgID, []byte("early"), 0); !errors.Is(err, sealed.ErrNotOpenYet) {
			t.Fatalf("a draft's box took a bid: %v", err)
		}

		x.clk.Set(at(2027, 2, 17, 9, 0))
		err = s.Publish(ctx, x.aisha, c.ID)
		wantErrors(t, err, map[string]string{
			competition.FieldBuyer(x.rj1):         "Guy's and St Thomas' NHS Foundation Trust is no longer an eligible buyer under framework SLCSC-EPR-2027; remove it from the buying trusts",
			competition.FieldRequirements:         "Add at least one requirement: copy them from the lot or add your own",
			competition.FieldPriceSchedule(x.rj7): "Add at least one item to the price schedule of St George's University Hospitals NHS Foundation Trust",
			competition.FieldPriceSchedule(x.rj1): "Add at least one item to the price schedule of Guy's and St Thomas' NHS Foundation Trust",
			competition.FieldSubmissionDeadline:   "The submission deadline must be at least 10 days after publication under the Public Contracts Regulations 2015; the earliest allowed is 9am on 27 February 2027 (UK time)",
			competition.FieldPanel:                "Chloe Adams is no longer an evaluator at one of the buying trusts or the consortium",
		})
		if got := x.reload(t, c.ID); got.Status != competition.StatusDraft || got.PublishedAt != nil || got.Version != 1 {
			t.Fatalf("after a refused publication %+v", got)
		}
		if n := count(t, db, "competition_invitees", ""); n != 0 {
			t.Fatalf("%d suppliers invited by a refused publication", n)
		}
		if n := len(domaintest.Notes(t, db, "invitation")); n != 0 {
			t.Fatalf("%d invitations sent by a refused publication", n)
		}

		// Requirement weights must make up the quality score.
		if _, err := s.CopyLotRequirements(ctx, x.aisha, c.ID, nil); err != nil {
			t.Fatal(err)
		}
		x.clk.Set(x.f.TermEnd)
		v := fieldErrors(t, s.Publish(ctx, x.aisha, c.ID))
		for field, msg := range map[string]string{
			competition.FieldFramework:          "Framework SLCSC-EPR-2027 is expired; suppliers can be called off only while it is live",
			competition.FieldRequirementWeights: "The weights of the scored requirements add up to 20; they must add up to 100 (pass/fail requirements are gates and carry no weight)",
			competition.FieldQuestionDeadline:   "The question deadline must be in the future",
			competition.FieldSubmissionDeadline: "The submission deadline must be in the future",
		} {
			if got := v.For(field); got != msg {
				t.Errorf("error for %s: %q, want %q", field, got, msg)
			}
		}
		if v.Has(competition.FieldSuppliers) {
			t.Errorf("an expired framework's lot reported as having no suppliers as well: %v", v.List)
		}
	})
}

// TestExpressionOfInterest: with the step, only an interested supplier may
// bid; interest closes at its deadline, as does declining without it.
func TestExpressionOfInterest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		in := input("SWL-EPR-2027-01")
		in.ExpressionOfInterest = true
		in.Timeline.EOIDeadline = at(2027, 2, 22, 17, 0)
		c := x.ready(t, in)
		if err := s.Publish(ctx, x.aisha, c.ID); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.MayBid(ctx, c.ID, x.sarah.OrgID); ok {
			t.Fatal("Meridian may bid before registering interest")
		}
		if err := s.RegisterInterest(ctx, x.james, c.ID, x.sarah.OrgID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("Northgate registered interest for Meridian: %v", err)
		}
		if err := s.RegisterInterest(ctx, x.carl, c.ID, x.carl.OrgID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a supplier not invited registered interest: %v", err)
		}
		if err := s.RegisterInterest(ctx, x.sarah, c.ID, x.sarah.OrgID); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.MayBid(ctx, c.ID, x.sarah.OrgID); !ok {
			t.Fatal("Meridian may not bid after registering interest")
		}
		wantErrors(t, s.RegisterInterest(ctx, x.sarah, c.ID, x.sarah.OrgID), map[string]string{
			competition.FieldInvitation: "Your organisation registered its interest on 15 February 2027",
		})

		x.clk.Set(at(2027, 2, 22, 17, 0))
		wantErrors(t, s.RegisterInterest(ctx, x.james, c.ID, x.james.OrgID), map[string]string{
			competition.FieldInvitation: "Expressions of interest closed at 5pm on 22 February 2027 (UK time)",
		})
		wantErrors(t, s.Decline(ctx, x.james, c.ID, x.james.OrgID, "Too late to matter"), map[string]string{
			competition.FieldInvitation: "The deadline for expressions of interest passed at 5pm on 22 February 2027 (UK time)",
		})
		// An interested supplier may still decline until the submission deadline.
		if err := s.Decline(ctx, x.sarah, c.ID, x.sarah.OrgID, "Our implementation team is committed elsewhere."); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.MayBid(ctx, c.ID, x.sarah.OrgID); ok {
			t.Fatal("Meridian may bid after declining")
		}

		// Without the step there is no interest to register, and declining
		// closes at the submission deadline.
		x.clk.Set(live)
		other := x.ready(t, input("SWL-EPR-2027-02"))
		if err := s.Publish(ctx, x.aisha, other.ID); err != nil {
			t.Fatal(err)
		}
		wantErrors(t, s.RegisterInterest(ctx, x.sarah, other.ID, x.sarah.OrgID), map[string]string{
			competition.FieldInvitation: "This competition has no expression-of-interest step; you can bid without registering interest",
		})
		x.clk.Set(other.SubmissionDeadline)
		wantErrors(t, s.Decline(ctx, x.james, other.ID, x.james.OrgID, "Too late"), map[string]string{
			competition.FieldInvitation: "The submission deadline passed at midday on 15 March 2027 (UK time)",
		})
	})
}

// TestDeadlineRulesBeforeBids: before any bid a deadline may come forward,
// but never below the minimum period or into the past; the buyer's own
// dates move without telling suppliers; nothing moves once the deadline
// has passed.
func TestDeadlineRulesBeforeBids(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.ready(t, input("SWL-EPR-2027-01"))
		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{SubmissionDeadline: at(2027, 3, 20, 12, 0), Reason: "x", Version: c.Version}), map[string]string{
			competition.FieldState: "The competition is a draft; change its set-up directly",
		})
		if err := s.Publish(ctx, x.aisha, c.ID); err != nil {
			t.Fatal(err)
		}
		c = x.reload(t, c.ID)
		x.clk.Advance(24 * time.Hour)

		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{SubmissionDeadline: at(2027, 2, 24, 12, 0), Reason: "Sooner", Version: c.Version}), map[string]string{
			competition.FieldSubmissionDeadline: "The submission deadline must be at least 10 days after publication under the Public Contracts Regulations 2015; the earliest allowed is 9am on 25 February 2027 (UK time)",
			competition.FieldQuestionDeadline:   "The question deadline must be before the submission deadline",
		})
		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{QuestionDeadline: at(2027, 2, 15, 17, 0), Reason: "Sooner", Version: c.Version}), map[string]string{
			competition.FieldQuestionDeadline: "The question deadline must be in the future",
		})
		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{SubmissionDeadline: c.SubmissionDeadline, Reason: "Same", Version: c.Version}), map[string]string{
			competition.FieldSubmissionDeadline: "Enter the new date; the dates entered are the ones the competition already has",
		})
		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{EOIDeadline: at(2027, 2, 20, 17, 0), Reason: "No such step", Version: c.Version}), map[string]string{
			competition.FieldEOIDeadline: "This competition has no expression-of-interest step",
		})
		// No bids yet: the deadline may come forward, with the question
		// deadline, and suppliers hear of both.
		if err := s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{
			SubmissionDeadline: at(2027, 3, 10, 12, 0), QuestionDeadline: at(2027, 2, 26, 17, 0), Reason: "The trusts need the contract signed sooner.", Version: c.Version,
		}); err != nil {
			t.Fatal(err)
		}
		c = x.reload(t, c.ID)
		if !c.SubmissionDeadline.Equal(at(2027, 3, 10, 12, 0)) || !c.QuestionDeadline.Equal(at(2027, 2, 26, 17, 0)) || c.Version != 3 {
			t.Fatalf("after moving the deadlines %+v", c)
		}
		var procurements []string
		for _, n := range domaintest.Notes(t, db, "deadline_change") {
			procurements = append(procurements, n.Data["Procurement"].(string))
		}
		if len(procurements) != 4 || !strings.Contains(strings.Join(procurements, "|"), "SWL-EPR-2027-01 EPR for South West London (clarification questions)") {
			t.Fatalf("deadline notices %v, want both deadlines to both suppliers", procurements)
		}
		// The buyer's own dates move without a notice.
		if err := s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{EvaluationEnd: at(2027, 4, 20, 17, 0), PlannedAward: at(2027, 5, 4, 9, 0), Reason: "Board dates moved.", Version: c.Version}); err != nil {
			t.Fatal(err)
		}
		if n := len(domaintest.Notes(t, db, "deadline_change")); n != 4 {
			t.Fatalf("%d deadline notices after moving the buyer's own dates", n)
		}
		if changes, _ := s.Changes(ctx, c.ID); len(changes) != 4 {
			t.Fatalf("%d changes recorded, want 4", len(changes))
		}
		if changed, _ := s.TermsChangedSince(ctx, c.ID, live); changed {
			t.Fatal("a deadline change counted as a change to the terms")
		}

		// At the deadline nothing changes any more.
		c = x.reload(t, c.ID)
		x.clk.Set(c.SubmissionDeadline)
		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{SubmissionDeadline: at(2027, 3, 17, 12, 0), Reason: "Late", Version: c.Version}), map[string]string{
			competition.FieldState: "The submission deadline passed at midday on 10 March 2027 (UK time), so the competition can no longer be changed",
		})
		reqs, _ := s.Requirements(ctx, c.ID)
		err := s.ChangeRequirement(ctx, x.aisha, c.ID, competition.RequirementChange{Reason: "Late", Edits: []competition.RequirementEdit{{RequirementID: reqs[0].ID, Text: "Late", Weight: reqs[0].Weight, Version: reqs[0].Version}}})
		if fieldErrors(t, err).For(competition.FieldState) == "" {
			t.Fatalf("a requirement changed after the deadline: %v", err)
		}
		// The panel may still change until the bids are opened.
		if err := s.AssignPanel(ctx, x.aisha, c.ID, []string{x.ben.UserID}); err != nil {
			t.Fatalf("the panel after the deadline, before opening: %v", err)
		}
	})
}

// TestPublishInvitesOnlyCurrentAppointments: a supplier whose appointment
// is suspended is not invited, and a lot with nobody left to invite cannot
// be called off.
func TestPublishInvitesOnlyCurrentAppointments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		apps, err := x.fw.Applications(ctx, x.f.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range apps {
			if err := x.fw.SetAppointment(ctx, x.tom, a.ID, framework.AppointmentSuspended, "Insolvency proceedings are being looked into."); err != nil {
				t.Fatal(err)
			}
		}
		c := x.ready(t, input("SWL-EPR-2027-01"))
		wantErrors(t, s.Publish(ctx, x.aisha, c.ID), map[string]string{
			competition.FieldSuppliers: "No supplier is appointed to lot 1 (Acute EPR), so there is nobody to invite",
		})
		if err := x.fw.SetAppointment(ctx, x.tom, apps[0].ID, framework.AppointmentCurrent, "Cleared."); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, x.aisha, c.ID); err != nil {
			t.Fatal(err)
		}
		invitees, _ := s.Invitees(ctx, c.ID)
		if len(invitees) != 1 || invitees[0].SupplierOrgID != apps[0].SupplierOrgID {
			t.Fatalf("invitees %+v, want only the supplier whose appointment is current", invitees)
		}
		if n := len(domaintest.Notes(t, db, "invitation")); n != 1 {
			t.Fatalf("%d invitations, want 1", n)
		}
	})
}
