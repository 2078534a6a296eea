package competition_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestCompetitionFromSetUpToCancellation runs a competition under the live
// framework's lot 1: two buying trusts set it up and publish it; both
// appointed suppliers are invited and notified; one declines with a reason;
// the deadline is extended and everyone told; once a bid is in the deadline
// cannot come forward; a changed requirement is a change to the terms; a
// new document is told to everyone; the competition is cancelled.
func TestCompetitionFromSetUpToCancellation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s

		c := x.ready(t, input("SWL-EPR-2027-01"))
		if c.Status != competition.StatusDraft || c.Regime != "pcr2015" || c.FrameworkID != x.f.ID || c.LeadOrgID != x.rj7 || c.State(x.clk.Now()) != competition.StateDraft {
			t.Fatalf("created %+v", c)
		}
		bs, err := s.Buyers(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 2 || !bs[0].Lead || bs[0].OrganisationID != x.rj7 || bs[1].OrganisationID != x.rj1 || *bs[1].Beds != 1100 || bs[1].Sites != "Guy's; St Thomas'" {
			t.Fatalf("buyers %+v", bs)
		}
		reqs, err := s.Requirements(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		lotReqs, _ := x.fw.LotRequirements(ctx, x.lot1.ID)
		if len(reqs) != 3 || !reqs[0].FromLot() || *reqs[0].LotRequirementID != lotReqs[0].ID || reqs[0].Reference != "EPR-MED-001" || reqs[0].Weight != 60 || reqs[0].Version != 2 {
			t.Fatalf("requirements %+v", reqs)
		}
		scheds, err := s.PriceSchedules(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(scheds) != 2 || len(scheds[0].Items) != 4 || scheds[0].Items[2].Name != "Hosting per year" || scheds[0].Items[2].Quantity != 5 ||
			len(scheds[1].Items) != 1 || scheds[1].Items[0].Quantity != 14000 {
			t.Fatalf("price schedules %+v", scheds)
		}
		cands, err := s.PanelCandidates(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range cands {
			names = append(names, m.Name+" ("+m.OrganisationName+")")
		}
		if strings.Join(names, ", ") != "Ben Carter (St George's University Hospitals NHS Foundation Trust), Chloe Adams (Guy's and St Thomas' NHS Foundation Trust)" {
			t.Fatalf("panel candidates %v", names)
		}

		// Publishing invites both appointed suppliers, each user notified.
		if n := len(domaintest.Notes(t, db, "invitation")); n != 0 {
			t.Fatalf("%d invitations before publishing", n)
		}
		if err := s.Publish(ctx, x.omar, c.ID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a buying trust that is not the lead published: %v", err)
		}
		if err := s.Publish(ctx, x.aisha, c.ID); err != nil {
			t.Fatal(err)
		}
		c = x.reload(t, c.ID)
		if c.Status != competition.StatusPublished || c.PublishedAt == nil || !c.PublishedAt.Equal(live) || c.State(live) != competition.StateQuestions ||
			c.State(at(2027, 3, 2, 9, 0)) != competition.StateBidding || c.State(c.SubmissionDeadline) != competition.StateClosed {
			t.Fatalf("published %+v", c)
		}
		box := competition.BidBox(c)
		if box.Type != sealed.TypeCompetitionBid || box.ID != c.ID || !box.Deadline.Equal(c.SubmissionDeadline) || !box.Opens.Equal(live) {
			t.Fatalf("bid box %+v", box)
		}
		inv := domaintest.Notes(t, db, "invitation")
		if got := strings.Join(recipients(inv), ","); got != strings.Join(sorted(x.sarah.UserID, x.james.UserID), ",") {
			t.Fatalf("invitations went to %s", got)
		}
		for _, n := range inv {
			if n.Data["Procurement"] != "SWL-EPR-2027-01 EPR for South West London" || n.Data["Deadline"] != "2027-03-15T12:00:00Z" ||
				n.Data["Buyer"] != "St George's University Hospitals NHS Foundation Trust (with Guy's and St Thomas' NHS Foundation Trust)" ||
				n.Link != competition.SupplierPath(c.ID) {
				t.Fatalf("invitation %+v", n)
			}
		}
		if n := count(t, db, "test_jobs", "notification_id IN (?)", db.Table("notifications").Select("id").Where("kind = ?", "invitation")); n != 2 {
			t.Fatalf("%d invitations queued for email", n)
		}
		invitees, err := s.Invitees(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(invitees) != 2 || invitees[0].Supplier.Name != "Meridian Health Systems Ltd" || invitees[1].Status != competition.InviteeInvited {
			t.Fatalf("invitees %+v", invitees)
		}
		for _, who := range []audit.Actor{x.sarah, x.james} {
			if ok, err := s.MayBid(ctx, c.ID, who.OrgID); err != nil || !ok {
				t.Fatalf("%s may not bid (err %v)", who.Label, err)
			}
		}
		if ok, _ := s.MayBid(ctx, c.ID, x.carl.OrgID); ok {
			t.Fatal("a supplier not appointed to the lot may bid")
		}
		if mine, _ := s.SupplierCompetitions(ctx, x.sarah.OrgID); len(mine) != 1 || mine[0].ID != c.ID {
			t.Fatalf("Meridian's competitions %+v", mine)
		}
		if _, err := s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1}); !errors.Is(err, competition.ErrNotDraft) {
			t.Fatalf("a buyer added after publication: %v", err)
		}

		// Northgate declines, with a reason.
		wantErrors(t, s.Decline(ctx, x.james, c.ID, x.james.OrgID, "  "), map[string]string{
			competition.FieldReason: "Say why your organisation is declining; the buyer reads it",
		})
		if err := s.Decline(ctx, x.sarah, c.ID, x.james.OrgID, "Not us"); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("Meridian declined for Northgate: %v", err)
		}
		x.clk.Advance(time.Hour)
		if err := s.Decline(ctx, x.james, c.ID, x.james.OrgID, "We cannot resource an implementation before October."); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.MayBid(ctx, c.ID, x.james.OrgID); ok {
			t.Fatal("Northgate may bid after declining")
		}
		nInv, _ := s.Invitation(ctx, c.ID, x.james.OrgID)
		if nInv.Status != competition.InviteeDeclined || nInv.Reason != "We cannot resource an implementation before October." || nInv.RespondedBy != x.james.UserID {
			t.Fatalf("Northgate's invitation %+v", nInv)
		}
		if err := s.Decline(ctx, x.james, c.ID, x.james.OrgID, "Again"); fieldErrors(t, err).For(competition.FieldInvitation) != "Your organisation declined this invitation on 15 February 2027" {
			t.Fatalf("declining twice: %v", err)
		}

		// Only the lead trust's trust leads change anything after publication.
		later := competition.DeadlineChange{SubmissionDeadline: at(2027, 3, 22, 12, 0), Reason: "Two trusts asked for more time to answer the hosting questions.", Version: c.Version}
		for _, who := range []audit.Actor{x.omar, x.ben, x.sarah} {
			if err := s.ExtendDeadline(ctx, who, c.ID, later); !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s changed the deadline: %v", who.Label, err)
			}
		}
		if n := auditCount(t, db, "competition.deadline.change", audit.Denied); n != 3 {
			t.Fatalf("refused deadline changes audited %d times, want 3", n)
		}
		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{SubmissionDeadline: later.SubmissionDeadline, Version: c.Version}), map[string]string{
			competition.FieldReason: "Say why the dates are changing; every supplier invited is told",
		})
		if err := s.ExtendDeadline(ctx, x.aisha, c.ID, competition.DeadlineChange{SubmissionDeadline: later.SubmissionDeadline, Reason: "x", Version: c.Version - 1}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale version changed the deadline: %v", err)
		}
		if err := s.ExtendDeadline(ctx, x.aisha, c.ID, later); err != nil {
			t.Fatal(err)
		}
		c = x.reload(t, c.ID)
		if !c.SubmissionDeadline.Equal(later.SubmissionDeadline) {
			t.Fatalf("deadline %v", c.SubmissionDeadline)
		}
		dl := domaintest.Notes(t, db, "deadline_change")
		if got := strings.Join(recipients(dl), ","); got != strings.Join(sorted(x.sarah.UserID, x.james.UserID), ",") {
			t.Fatalf("deadline change told to %s; every invitee, the one that declined too", got)
		}
		for _, n := range dl {
			if n.Data["Procurement"] != "SWL-EPR-2027-01 EPR for South West London" || n.Data["OldDeadline"] != "2027-03-15T12:00:00Z" ||
				n.Data["NewDeadline"] != "2027-03-22T12:00:00Z" || n.Data["Reason"] != later.Reason {
				t.Fatalf("deadline change %+v", n)
			}
		}

		// Meridian bids; from then on the deadline cannot come forward.
		if _, err := x.sealed.Submit(ctx, x.sarah, competition.BidBox(c), x.sarah.OrgID, []byte(`{"bid":"Meridian"}`), 0); err != nil {
			t.Fatal(err)
		}
		bidAt := x.clk.Now()
		x.clk.Advance(time.Hour)
		earlier := competition.DeadlineChange{SubmissionDeadline: at(2027, 3, 18, 12, 0), Reason: "Back to the plan", Version: c.Version}
		wantErrors(t, s.ExtendDeadline(ctx, x.aisha, c.ID, earlier), map[string]string{
			competition.FieldSubmissionDeadline: "Bids have been submitted, so the submission deadline can only move later than midday on 22 March 2027 (UK time), never earlier",
		})
		if c := x.reload(t, c.ID); !c.SubmissionDeadline.Equal(later.SubmissionDeadline) {
			t.Fatalf("deadline moved to %v", c.SubmissionDeadline)
		}
		if n := len(domaintest.Notes(t, db, "deadline_change")); n != 2 {
			t.Fatalf("%d deadline notices after a refused change", n)
		}

		// A changed requirement is a change to the terms.
		if changed, _ := s.TermsChangedSince(ctx, c.ID, bidAt); changed {
			t.Fatal("terms changed before any change to them")
		}
		reqs, _ = s.Requirements(ctx, c.ID)
		med1, med2 := reqs[0], reqs[1]
		wantErrors(t, s.ChangeRequirement(ctx, x.aisha, c.ID, competition.RequirementChange{Reason: "Closed-loop is now national policy",
			Edits: []competition.RequirementEdit{{RequirementID: med1.ID, Text: med1.Text, Weight: 70, Version: med1.Version}}}), map[string]string{
			competition.FieldRequirementWeights: "The weights of the scored requirements add up to 110; they must add up to 100 (pass/fail requirements are gates and carry no weight)",
		})
		if err := s.ChangeRequirement(ctx, x.omar, c.ID, competition.RequirementChange{Reason: "x",
			Edits: []competition.RequirementEdit{{RequirementID: med1.ID, Text: "Mine", Weight: 60, Version: med1.Version}}}); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a non-lead changed a requirement: %v", err)
		}
		change := competition.RequirementChange{Reason: "Closed-loop medicines administration is now national policy.", Edits: []competition.RequirementEdit{
			{RequirementID: med1.ID, Text: "The system must support closed-loop electronic prescribing and medicines administration.", Weight: 70, Version: med1.Version},
			{RequirementID: med2.ID, Text: med2.Text, Weight: 30, Version: med2.Version},
		}}
		if err := s.ChangeRequirement(ctx, x.aisha, c.ID, change); err != nil {
			t.Fatal(err)
		}
		changedAt := x.clk.Now()
		if changed, err := s.TermsChangedSince(ctx, c.ID, bidAt); err != nil || !changed {
			t.Fatalf("a bid submitted before the change needs no reconfirmation (err %v)", err)
		}
		if changed, _ := s.TermsChangedSince(ctx, c.ID, changedAt); changed {
			t.Fatal("a bid submitted at the change needs reconfirmation")
		}
		reqs, _ = s.Requirements(ctx, c.ID)
		if reqs[0].Text != change.Edits[0].Text || reqs[0].Weight != 70 || reqs[1].Weight != 30 || reqs[0].Version != med1.Version+1 {
			t.Fatalf("requirements after the change %+v", reqs)
		}
		changes, err := s.Changes(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 3 || changes[0].Kind != competition.ChangeDeadline || changes[0].Terms || changes[0].Subject != competition.FieldSubmissionDeadline ||
			changes[0].OldValue != "2027-03-15T12:00:00Z" || changes[0].NewValue != "2027-03-22T12:00:00Z" ||
			changes[1].Kind != competition.ChangeRequirement || !changes[1].Terms || changes[1].Subject != "EPR-MED-001" ||
			!strings.Contains(changes[1].OldValue, `"weight":60`) || !strings.Contains(changes[1].NewValue, "closed-loop") || changes[1].Reason != change.Reason ||
			changes[2].Subject != "EPR-MED-002" {
			t.Fatalf("changes %+v", changes)
		}
		answers := domaintest.Notes(t, db, "procurement_change")
		if len(answers) != 2 || answers[0].Data["Change"] != "The buyer changed the requirements.\n\n"+
			"EPR-MED-001 now reads: The system must support closed-loop electronic prescribing and medicines administration.\n\n"+
			"The weight of EPR-MED-001 changed from 60 to 70.\n\nThe weight of EPR-MED-002 changed from 40 to 30.\n\n"+
			"Reason: Closed-loop medicines administration is now national policy.\n\n"+
			"If your organisation has already submitted a bid, confirm it again so that it answers the changed terms." {
			t.Fatalf("requirement change notices %+v", answers)
		}

		// A new document, with a reason, is told to everyone.
		x.clk.Advance(time.Hour)
		doc, err := x.docs.Put(ctx, x.aisha, documents.Upload{OrganisationID: x.rj7, OwnerType: "competition", OwnerID: c.ID,
			Name: "site-plan.txt", Body: strings.NewReader("St George's: two data centres, one DR site.\n")})
		if err != nil {
			t.Fatal(err)
		}
		wantErrors(t, s.AddDocument(ctx, x.aisha, c.ID, doc.ID, ""), map[string]string{
			competition.FieldReason: "Say why the document is being added; every supplier invited is told",
		})
		if err := s.AddDocument(ctx, x.aisha, c.ID, doc.ID, "Suppliers asked where the data centres are."); err != nil {
			t.Fatal(err)
		}
		docs, err := s.Documents(ctx, c.ID)
		if err != nil || len(docs) != 1 || docs[0].Name != "site-plan.txt" || docs[0].Reason != "Suppliers asked where the data centres are." {
			t.Fatalf("documents %+v (err %v)", docs, err)
		}
		if answers = domaintest.Notes(t, db, "procurement_change"); len(answers) != 4 || !strings.HasPrefix(answers[3].Data["Change"].(string), "The buyer added a document to the tender pack: site-plan.txt.") {
			t.Fatalf("document notices %+v", answers)
		}

		// Cancellation, with a reason, told to everyone invited.
		x.clk.Advance(time.Hour)
		wantErrors(t, s.Cancel(ctx, x.aisha, c.ID, ""), map[string]string{
			competition.FieldReason: "Say why the competition is cancelled; every supplier invited is told",
		})
		if err := s.Cancel(ctx, x.omar, c.ID, "No"); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a non-lead cancelled: %v", err)
		}
		if err := s.Cancel(ctx, x.aisha, c.ID, "The trusts' boards withdrew the funding."); err != nil {
			t.Fatal(err)
		}
		c = x.reload(t, c.ID)
		if c.Status != competition.StatusCancelled || c.State(x.clk.Now()) != competition.StateCancelled || c.CancelReason != "The trusts' boards withdrew the funding." || c.CancelledAt == nil {
			t.Fatalf("cancelled %+v", c)
		}
		answers = domaintest.Notes(t, db, "procurement_change")
		if len(answers) != 6 || answers[5].Data["Change"] != "The buyer cancelled the competition. No contract will be awarded from it.\n\nReason: The trusts' boards withdrew the funding." {
			t.Fatalf("cancellation notices %+v", answers[4:])
		}
		if ok, _ := s.MayBid(ctx, c.ID, x.sarah.OrgID); ok {
			t.Fatal("Meridian may bid in a cancelled competition")
		}
		if err := s.Cancel(ctx, x.aisha, c.ID, "Again"); fieldErrors(t, err).For(competition.FieldState) != "The competition is already cancelled" {
			t.Fatalf("cancelled twice: %v", err)
		}
		for _, action := range []string{"competition.create", "competition.publish", "competition.decline", "competition.deadline.change",
			"competition.requirement.change", "competition.document.add", "competition.cancel"} {
			if n := auditCount(t, db, action, audit.Success); n != 1 {
				t.Errorf("%s audited %d times, want once", action, n)
			}
		}
	})
}

func sorted(ids ...string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
