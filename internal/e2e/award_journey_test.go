package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
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

		ben.signIn("demo-evaluator")
		lead.signIn("demo-trust-lead")
		scoreAndRecommend(ben, lead, page, []competition.Bid{bid}, reqs, "The only bid, and it meets every requirement.")
		boardsApprove(page, map[string]*session{"demo-board-member": margaret, "demo-board-member-gstt": david})
		confirmAward(h, lead, page, comp.ID)
		t.Logf("%s: award journey took %s", h.Kind, time.Since(started).Round(time.Millisecond))
	})
}

// scoreAndRecommend: the evaluator declares no conflict with any bidder
// and marks each bid; the lead records the tie-break rule, moderates each
// bid and recommends the top-ranked one for the reason given. Both are
// signed in already.
func scoreAndRecommend(ben, lead *session, page string, bids []competition.Bid, reqs []competition.Requirement, rationale string) {
	ben.t.Helper()
	ben.navigate(page+"/evaluation/declaration", 200)
	for _, bid := range bids {
		ben.choose(competition.FieldConflict(bid.SupplierOrgID) + "-no")
	}
	ben.shot("a01-evaluator-declaration")
	ben.click("Make your declaration", buttonPrefix("Make your declaration"), 200)
	for i, bid := range bids {
		ben.navigate(page+"/evaluation/bids/"+bid.ID, 200)
		fillMarks(ben, reqs, "The evaluator's view")
		if i == 0 {
			ben.expectText("main", "Live at 40 trusts")
			ben.shot("a02-evaluator-marks")
		}
		ben.click("Submit my marks", button("Submit my marks"), 200)
	}

	lead.navigate(page+"/evaluation", 200)
	lead.choose("tie_break-0")
	lead.click("Save the tie-break rule", button("Save the tie-break rule"), 200)
	for i, bid := range bids {
		lead.navigate(page+"/evaluation/bids/"+bid.ID+"/moderate", 200)
		lead.expectText("main", "Ben Carter")
		fillMarks(lead, reqs, "Consensus")
		if i == 0 {
			lead.shot("a03-lead-moderation")
		}
		lead.click("Save the moderation", button("Save the moderation"), 200)
	}
	lead.navigate(page+"/evaluation", 200)
	lead.expectText("main", meridian)
	lead.choose("bid-0")
	lead.typeInto("rationale", rationale)
	lead.do("clear the quorum", chromedp.Clear(chromedp.ID("quorum")))
	lead.typeInto("quorum", "1")
	due := lead.h.Clock.Now().In(uktime.Location).AddDate(0, 0, 14)
	lead.typeDate("approval_due", fmt.Sprint(due.Day()), fmt.Sprint(int(due.Month())), fmt.Sprint(due.Year()), "")
	lead.shot("a04-lead-recommendation")
	lead.click("Recommend the award", button("Recommend the award"), 200)
	lead.navigate(page+"/evaluation/report", 200)
	lead.expectText("main", meridian)
	lead.shot("a05-report")
}

// boardsApprove: a member of each buying trust's board (sessions by
// subject) records the board's approval on the award page.
func boardsApprove(page string, boards map[string]*session) {
	subjects := slices.Sorted(maps.Keys(boards))
	for _, subject := range subjects {
		s := boards[subject]
		s.t.Helper()
		s.signIn(subject)
		s.navigate(page+"/award", 200)
		s.expectText("#award-state", "Awaiting board approval")
		s.choose("decision-0")
		s.typeInto("comments", "Approved at the board meeting.")
		s.click("Record the decision", button("Record the decision"), 200)
		s.expectFlash("Your board's decision has been recorded")
		s.shot("a06-" + s.name + "-approved")
	}
}

// confirmAward: the lead sends the award letters and publishes the
// notice; the clock passes the standstill; the lead confirms the award
// and each buying trust has its contract.
func confirmAward(h *apptest.Harness, lead *session, page, competitionID string) {
	lead.t.Helper()
	lead.navigate(page+"/award", 200)
	lead.expectText("#award-state", "Approved by every board")
	lead.click("Send the award letters", button("Send the award letters"), 200)
	lead.expectFlash("Award letters sent")
	lead.click("Publish the notice", buttonPrefix("Publish the notice"), 200)
	lead.expectText("#award-state", "In standstill")
	lead.expectText("#timeline", "Standstill ends")
	lead.shot("a07-standstill")
	aw, err := h.App.Award.Award(context.Background(), competitionID)
	if err != nil || aw == nil || aw.StandstillEnds == nil {
		lead.t.Fatalf("award %+v (err %v)", aw, err)
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
	made, err := h.App.Contracts.ForCompetition(context.Background(), competitionID)
	if err != nil || len(made) != 2 {
		lead.t.Fatalf("%d contracts (err %v), want one for each buying trust", len(made), err)
	}
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
