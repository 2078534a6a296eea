package e2e_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
)

// TestAwardJourney drives a real Chromium from opened bids to contracts,
// on every database kind. The competition (St George's leading, Guy's and
// St Thomas' buying too, under a Procurement Act 2023 framework) is set
// up, bid for and opened through the domain, as the competition journey
// proves those pages; everything after is through the pages: the
// evaluator declares no conflict and marks the bid; the lead records the
// tie-break rule, moderates and recommends; the boards of both buying
// trusts approve; the lead sends the award letters and publishes the
// contract award notice; the clock passes the standstill; the lead
// confirms the award and each trust has its contract.
func TestAwardJourney(t *testing.T) {
	exe := chromiumPath(t)
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		started := time.Now()
		comp, bid, reqs := openedForAward(t, h, liveLot(t, h))
		page := "/competitions/" + comp.ID
		j := &journey{t: t, h: h, b: startBrowser(t, exe)}
		ben, lead, margaret, david := j.open("aw-evaluator"), j.open("aw-lead"), j.open("aw-board-rj7"), j.open("aw-board-rj1")

		// The evaluator declares, then marks the bid.
		ben.signIn("demo-evaluator")
		ben.navigate(page+"/evaluation/declaration", 200)
		ben.choose(competition.FieldConflict(bid.SupplierOrgID) + "-no")
		ben.shot("a01-evaluator-declaration")
		ben.click("Make your declaration", buttonPrefix("Make your declaration"), 200)
		ben.navigate(page+"/evaluation/bids/"+bid.ID, 200)
		ben.expectText("main", "Live at 40 trusts")
		fillMarks(ben, reqs, "The evaluator's view")
		ben.shot("a02-evaluator-marks")
		ben.click("Submit my marks", button("Submit my marks"), 200)

		// The lead moderates and recommends.
		lead.signIn("demo-trust-lead")
		lead.navigate(page+"/evaluation", 200)
		lead.choose("tie_break-0")
		lead.click("Save the tie-break rule", button("Save the tie-break rule"), 200)
		lead.navigate(page+"/evaluation/bids/"+bid.ID+"/moderate", 200)
		lead.expectText("main", "Ben Carter")
		fillMarks(lead, reqs, "Consensus")
		lead.shot("a03-lead-moderation")
		lead.click("Save the moderation", button("Save the moderation"), 200)
		lead.navigate(page+"/evaluation", 200)
		lead.expectText("main", meridian)
		lead.choose("bid-0")
		lead.typeInto("rationale", "The only bid, and it meets every requirement.")
		lead.do("clear the quorum", chromedp.Clear(chromedp.ID("quorum")))
		lead.typeInto("quorum", "1")
		due := h.Clock.Now().In(uktime.Location).AddDate(0, 0, 14)
		lead.typeDate("approval_due", fmt.Sprint(due.Day()), fmt.Sprint(int(due.Month())), fmt.Sprint(due.Year()), "")
		lead.shot("a04-lead-recommendation")
		lead.click("Recommend the award", button("Recommend the award"), 200)
		lead.navigate(page+"/evaluation/report", 200)
		lead.expectText("main", meridian)
		lead.shot("a05-report")

		// Both buying trusts' boards approve.
		for _, b := range []struct {
			s       *session
			subject string
		}{{margaret, "demo-board-member"}, {david, "demo-board-member-gstt"}} {
			b.s.signIn(b.subject)
			b.s.navigate(page+"/award", 200)
			b.s.expectText("#award-state", "Awaiting board approval")
			b.s.choose("decision-0")
			b.s.typeInto("comments", "Approved at the board meeting.")
			b.s.click("Record the decision", button("Record the decision"), 200)
			b.s.expectFlash("Your board's decision has been recorded")
		}
		david.shot("a06-board-approved")

		// Letters, the notice, the standstill, the contracts.
		lead.navigate(page+"/award", 200)
		lead.expectText("#award-state", "Approved by every board")
		lead.click("Send the award letters", button("Send the award letters"), 200)
		lead.expectFlash("Award letters sent")
		lead.click("Publish the notice", buttonPrefix("Publish the notice"), 200)
		lead.expectText("#award-state", "In standstill")
		lead.expectText("#timeline", "Standstill ends")
		lead.shot("a07-standstill")
		aw, err := h.App.Award.Award(context.Background(), comp.ID)
		if err != nil || aw == nil || aw.StandstillEnds == nil {
			t.Fatalf("award %+v (err %v)", aw, err)
		}
		h.Clock.Set(aw.StandstillEnds.Add(time.Hour))
		lead.signIn("demo-trust-lead")
		lead.navigate(page+"/award", 200)
		lead.expectText("#award-state", "ready to confirm")
		lead.typeDate("start", "1", "6", "2027", "")
		lead.typeDate("end", "31", "5", "2032", "")
		lead.click("Confirm the award", buttonPrefix("Confirm the award"), 200)
		lead.expectFlash("Award confirmed and the contracts made")
		lead.navigate("/contracts", 200)
		lead.expectText("#contracts", cmpReference+"-RJ7")
		lead.shot("a08-contracts")
		made, err := h.App.Contracts.ForCompetition(context.Background(), comp.ID)
		if err != nil || len(made) != 2 {
			t.Fatalf("%d contracts (err %v), want one for each buying trust", len(made), err)
		}
		t.Logf("%s: award journey took %s", h.Kind, time.Since(started).Round(time.Millisecond))
	})
}

// fillMarks marks every requirement on the page: pass for the pass/fail
// ones, 3 for the others, each with a justification.
func fillMarks(s *session, reqs []competition.Requirement, why string) {
	s.t.Helper()
	for _, r := range reqs {
		if r.ResponseType == catalogue.PassFail {
			s.choose(evaluation.FieldMark(r) + "-pass")
		} else {
			s.choose(evaluation.FieldMark(r) + "-3")
		}
		s.typeInto(evaluation.FieldJustification(r), why+": "+r.Reference)
	}
}

// openedForAward sets up through the domain a published competition on
// the lot led by St George's with Guy's and St Thomas' as a second buying
// trust, each with a price schedule, the lot's scored requirement weighted
// 100 and Ben Carter on the panel; Meridian bids; after the deadline the
// lead and Ben turn their keys. It returns the competition, the opened bid
// and the requirements.
func openedForAward(t *testing.T, h *apptest.Harness, lotID string) (*competition.Competition, competition.Bid, []competition.Requirement) {
	t.Helper()
	ctx := context.Background()
	s := h.App.Competition
	aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
	ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
	rj1 := h.Org(t, orgs.KindTrust, "RJ1").ID
	now := h.Clock.Now()
	c, err := s.CreateCompetition(ctx, aisha, lotID, aisha.OrgID, competition.CompetitionInput{
		Reference: cmpReference, Title: cmpTitle, QualityWeight: 60, PriceWeight: 40,
		Timeline: competition.Timeline{QuestionDeadline: now.AddDate(0, 0, 7), SubmissionDeadline: now.AddDate(0, 0, 21),
			EvaluationEnd: now.AddDate(0, 0, 35), PlannedAward: now.AddDate(0, 0, 42)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBuyer(ctx, aisha, c.ID, competition.BuyerInput{OrganisationID: rj1, Volumes: "14,000 staff"}); err != nil {
		t.Fatal(err)
	}
	reqs, err := s.CopyLotRequirements(ctx, aisha, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if r.Weighted() {
			if err := s.UpdateRequirement(ctx, aisha, competition.RequirementEdit{RequirementID: r.ID, Text: r.Text, Weight: 100, Version: r.Version}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, org := range []string{aisha.OrgID, rj1} {
		if _, err := s.AddPriceItem(ctx, aisha, c.ID, competition.PriceItemInput{OrganisationID: org, Name: "Licences", Unit: "licence", Quantity: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AssignPanel(ctx, aisha, c.ID, []string{ben.UserID}); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, aisha, c.ID); err != nil {
		t.Fatal(err)
	}
	if c, err = s.Competition(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	sarah := h.Actor(t, "demo-supplier", orgs.KindSupplier, "Meridian")
	domaintest.SubmitBid(t, s, c, sarah, domaintest.CompleteBid(t, s, c, "Live at 40 trusts.", 1250))
	h.Clock.Set(c.SubmissionDeadline.Add(time.Minute))
	for _, who := range []audit.Actor{aisha, ben} {
		if _, err := s.OpenBids(ctx, who, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	bids, err := s.OpenedBids(ctx, aisha, c.ID)
	if err != nil || len(bids) != 1 {
		t.Fatalf("opened %d bids (err %v)", len(bids), err)
	}
	if reqs, err = s.Requirements(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return c, bids[0], reqs
}
