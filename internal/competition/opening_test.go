package competition_test

import (
	"context"
	"errors"
	"strconv"
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

// TestPeekingBeforeOpening is SECURITY.md scenario 5: before the deadline
// nobody, the lead trust and the panel included, can turn a key, list the
// bids or read one by an id guessed or reused; a count the competition
// does not show is refused too. Every attempt is refused and audited, and
// leaves nothing behind.
func TestPeekingBeforeOpening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		in := input("SWL-EPR-2027-01")
		in.ShowBidCount = false
		c := x.published(t, in)
		rc := x.bid(t, c, x.sarah, 100)
		x.bid(t, c, x.james, 100)

		if _, err := s.BidCount(ctx, x.aisha, c.ID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("the lead counted bids the competition does not show: %v", err)
		}
		x.clk.Set(c.SubmissionDeadline.Add(-time.Second))
		for _, who := range []audit.Actor{x.aisha, x.ben} {
			_, err := s.OpenBids(ctx, who, c.ID)
			wantErrors(t, err, map[string]string{
				competition.FieldSubmissionDeadline: "Bids stay sealed until the submission deadline at midday on 15 March 2027 (UK time); open them after it",
			})
			if _, err := s.OpenedBids(ctx, who, c.ID); !errors.Is(err, competition.ErrNotOpened) {
				t.Fatalf("%s listed the bids before the deadline: %v", who.Label, err)
			}
			// The submission's id, as a guessed or reused link would carry it.
			if _, err := s.BidContent(ctx, who, rc.SubmissionID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s read a bid before the deadline: %v", who.Label, err)
			}
		}
		for action, want := range map[string]int64{"competition.bids.key": 2, "competition.bids.list": 2, "competition.bids.count": 1} {
			if n := deniedFor(t, x, action, c.ID); n != want {
				t.Errorf("%s refused %d times in the audit log, want %d", action, n, want)
			}
		}
		if n := deniedFor(t, x, "competition.bid.read", rc.SubmissionID); n != 2 {
			t.Errorf("reads by a guessed id audited %d times, want 2", n)
		}
		var detail string
		db.Table("audit_entries").Select("detail").Where("action = ? AND outcome = ?", "competition.bids.key", audit.Denied).Order("seq").Limit(1).Scan(&detail)
		if !strings.Contains(detail, `"reason":"before the deadline"`) || !strings.Contains(detail, `"attempt":"2027-03-15T11:59:59Z"`) {
			t.Fatalf("early opening audited as %s", detail)
		}
		if n := count(t, db, "sealed_opening_keys", "scope = ?", "competition:"+c.ID); n != 0 {
			t.Fatalf("%d keys turned before the deadline", n)
		}
		if n := count(t, db, "competition_bids", ""); n != 0 {
			t.Fatalf("%d bids recorded before the deadline", n)
		}

		// At the deadline the bids are closed but not opened: still no list.
		x.clk.Set(c.SubmissionDeadline)
		if _, err := s.OpenedBids(ctx, x.aisha, c.ID); !errors.Is(err, competition.ErrNotOpened) {
			t.Fatalf("listing before the opening: %v", err)
		}
		db.Table("audit_entries").Select("detail").Where("action = ? AND outcome = ?", "competition.bids.list", audit.Denied).Order("seq DESC").Limit(1).Scan(&detail)
		if !strings.Contains(detail, `"reason":"before opening"`) {
			t.Fatalf("listing before opening audited as %s", detail)
		}
	})
}

// TestTwoKeysTwoPeople is SECURITY.md scenario 6: an unauthorised deadline
// change is refused and audited; after the deadline two different
// keyholders open the bids; one person turning both keys is refused and
// audited, and the key of someone who has left the panel no longer
// counts. The opened bids are then listed and read by keyholders, with no
// price or answer in the audit log.
func TestTwoKeysTwoPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		meridian := x.bid(t, c, x.sarah, 123457)
		northgate := x.bid(t, c, x.james, 99001)

		for _, who := range []audit.Actor{x.omar, x.ben, x.sarah, x.yara} {
			err := s.ExtendDeadline(ctx, who, c.ID, competition.DeadlineChange{SubmissionDeadline: at(2027, 3, 22, 12, 0), Reason: "More time", Version: c.Version})
			if !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s changed the deadline: %v", who.Label, err)
			}
		}
		if n := deniedFor(t, x, "competition.deadline.change", c.ID); n != 4 {
			t.Fatalf("unauthorised deadline changes audited %d times, want 4", n)
		}
		if got := x.reload(t, c.ID); !got.SubmissionDeadline.Equal(c.SubmissionDeadline) {
			t.Fatalf("deadline moved to %v", got.SubmissionDeadline)
		}

		x.clk.Set(c.SubmissionDeadline)
		o, err := s.OpenBids(ctx, x.ben, c.ID)
		if err != nil || o.Opened || len(o.Keys) != 1 || o.Keys[0].UserID != x.ben.UserID || o.Keys[0].Name != "Ben Carter" {
			t.Fatalf("first key %+v (err %v)", o, err)
		}
		// Ben leaves the panel: his key no longer counts, and he may turn
		// no other.
		if err := s.AssignPanel(ctx, x.aisha, c.ID, []string{x.chloe.UserID}); err != nil {
			t.Fatal(err)
		}
		o, err = s.OpenBids(ctx, x.aisha, c.ID)
		if err != nil || o.Opened || len(o.Keys) != 1 || o.Keys[0].UserID != x.aisha.UserID {
			t.Fatalf("a key with one that no longer counts: %+v (err %v)", o, err)
		}
		if _, err := s.OpenBids(ctx, x.ben, c.ID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a former panel member turned a key: %v", err)
		}
		// Aisha again: one person twice does not count.
		_, err = s.OpenBids(ctx, x.aisha, c.ID)
		wantErrors(t, err, map[string]string{
			competition.FieldState: "You have already turned your key; the bids open when a second person (a trust lead of the lead trust or a member of the evaluation panel) turns theirs",
		})
		if n := deniedFor(t, x, "competition.bids.key", c.ID); n != 2 {
			t.Fatalf("refused keys audited %d times, want 2", n)
		}
		var detail string
		db.Table("audit_entries").Select("detail").Where("action = ? AND outcome = ? AND actor_user_id = ?", "competition.bids.key", audit.Denied, x.aisha.UserID).Scan(&detail)
		if !strings.Contains(detail, "the same person turned a second key") {
			t.Fatalf("second key audited as %s", detail)
		}
		if got := x.reload(t, c.ID); got.OpenedAt != nil || count(t, db, "competition_bids", "") != 0 {
			t.Fatalf("opened by one person: %+v", got)
		}

		x.clk.Advance(time.Minute)
		o, err = s.OpenBids(ctx, x.chloe, c.ID)
		if err != nil || !o.Opened || o.Bids != 2 || o.Excluded != 0 || len(o.Keys) != 2 || o.Keys[0].UserID != x.aisha.UserID || o.Keys[1].UserID != x.chloe.UserID {
			t.Fatalf("second key %+v (err %v)", o, err)
		}
		got := x.reload(t, c.ID)
		if got.OpenedAt == nil || !got.OpenedAt.Equal(x.clk.Now()) || got.State(x.clk.Now()) != competition.StateClosed || got.Status != competition.StatusPublished {
			t.Fatalf("after opening %+v", got)
		}
		_, err = s.OpenBids(ctx, x.aisha, c.ID)
		wantErrors(t, err, map[string]string{competition.FieldState: "The bids have already been opened, at 12:01pm on 15 March 2027 (UK time)"})

		bids, err := s.OpenedBids(ctx, x.aisha, c.ID)
		if err != nil || len(bids) != 2 {
			t.Fatalf("opened bids %+v (err %v)", bids, err)
		}
		for i, want := range []sealed.Receipt{meridian, northgate} {
			b := bids[i]
			if b.SubmissionID != want.SubmissionID || b.VersionNumber != want.Number || b.SHA256 != want.SHA256 || !b.ReceivedAt.Equal(want.ReceivedAt) ||
				b.Status != competition.BidOpened || b.OpenedBy != x.chloe.UserID || b.Supplier.Name == "" {
				t.Fatalf("bid %d: %+v, want receipt %+v", i, b, want)
			}
		}
		// The list for the bids page says the same of each, in the same
		// order, to the lead trust's lead and to a panel member alike.
		for _, who := range []audit.Actor{x.aisha, x.chloe} {
			listed, err := s.OpenedBidList(ctx, who, got)
			if err != nil || len(listed) != len(bids) {
				t.Fatalf("bid list for %s: %+v (err %v)", who.Label, listed, err)
			}
			for i, l := range listed {
				b := bids[i]
				want := competition.BidListing{ID: b.ID, SupplierOrgID: b.SupplierOrgID, SupplierName: b.Supplier.Name, VersionNumber: b.VersionNumber,
					SHA256: b.SHA256, ReceivedAt: b.ReceivedAt, Status: b.Status, ExcludedReason: b.ExcludedReason}
				if l != want {
					t.Fatalf("bid %d listed for %s: %+v, want %+v", i, who.Label, l, want)
				}
			}
		}
		// A panel member reads once they have declared their interests.
		x.declareNone(t, c, x.chloe)
		content, err := s.BidContent(ctx, x.chloe, bids[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		sent := x.completeBid(t, c, x.sarah, 123457)
		sent.CompetitionID = c.ID
		a, _ := sent.Encode()
		b, _ := content.Encode()
		if string(a) != string(b) {
			t.Fatalf("read %s, want %s", b, a)
		}
		scheds, _ := s.PriceSchedules(ctx, c.ID)
		if totals, err := competition.TotalPrices(content, scheds); err != nil || totals[x.rj7] != 123457*6511 || totals[x.rj1] != 123457*14000 {
			t.Fatalf("totals %v (err %v)", totals, err)
		}
		if _, err := s.BidContent(ctx, x.aisha, bids[1].ID); err != nil {
			t.Fatalf("the lead reading a bid: %v", err)
		}
		if _, err := s.BidContent(ctx, x.ben, bids[1].ID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a former panel member read a bid: %v", err)
		}
		for action, want := range map[string]int64{"competition.bids.key": 3, "competition.bids.open": 1, "sealed.open": 1, "sealed.read": 2} {
			n := count(t, db, "audit_entries", "action = ? AND outcome = ? AND (object_id = ? OR object_id = ? OR object_id IN ?)", action, audit.Success,
				c.ID, sealed.TypeCompetitionBid+":"+c.ID, []string{meridian.SubmissionID, northgate.SubmissionID})
			if n != want {
				t.Errorf("%s audited %d times, want %d", action, n, want)
			}
		}
		// Hashes, numbers and ids only: no price, total or answer.
		var details []string
		db.Table("audit_entries").Where("detail <> ''").Pluck("detail", &details)
		for _, d := range details {
			for _, secret := range []string{"123457", "99001", strconv.Itoa(123457 * 6511), strconv.Itoa(99001 * 14000), "answers EPR"} {
				if strings.Contains(d, secret) {
					t.Fatalf("the audit log holds %q: %s", secret, d)
				}
			}
		}
	})
}

// TestCrossingTenants is SECURITY.md scenario 7: a supplier acting on
// another supplier's bid by changing the organisation, a supplier never
// invited, a trust lead of another buying trust and of a trust outside the
// competition opening or reading bids, and suppliers reading opened bids:
// all refused as forbidden and audited.
func TestCrossingTenants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		x.bid(t, c, x.sarah, 100)
		x.bid(t, c, x.james, 100)
		other := x.james.OrgID

		forbidden := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s: %v, want forbidden", what, err)
			}
		}
		forbidden("saving another supplier's bid", s.SaveBidDraft(ctx, x.sarah, c.ID, other, x.completeBid(t, c, x.sarah, 1), 0))
		_, err := s.SubmitBid(ctx, x.sarah, c.ID, other, 1)
		forbidden("submitting another supplier's bid", err)
		_, err = s.WithdrawBid(ctx, x.sarah, c.ID, other, 1)
		forbidden("withdrawing another supplier's bid", err)
		_, err = s.ReconfirmBid(ctx, x.sarah, c.ID, other, 1)
		forbidden("confirming another supplier's bid", err)
		_, err = s.BidStatus(ctx, x.sarah, c.ID, other)
		forbidden("another supplier's status", err)
		_, _, err = s.BidWorkingCopy(ctx, x.sarah, c.ID, other)
		forbidden("another supplier's working copy", err)
		_, err = s.SubmitBid(ctx, x.carl, c.ID, x.carl.OrgID, 0)
		forbidden("a supplier never invited", err)
		_, err = s.BidStatus(ctx, x.aisha, c.ID, x.sarah.OrgID)
		forbidden("the buyer reading a supplier's status", err)
		for action, want := range map[string]int64{"competition.bid.draft": 1, "competition.bid.submit": 2, "competition.bid.withdraw": 1,
			"competition.bid.reconfirm": 1, "competition.bid.status": 2, "competition.bid.working_copy": 1} {
			if n := deniedFor(t, x, action, c.ID); n != want {
				t.Errorf("%s refused %d times in the audit log, want %d", action, n, want)
			}
		}
		if st, _ := s.BidStatus(ctx, x.james, c.ID, other); st.Version != 1 || len(st.Receipts) != 1 {
			t.Fatalf("Northgate's bid after the attempts %+v", st)
		}

		x.clk.Set(c.SubmissionDeadline)
		for _, who := range []audit.Actor{x.omar, x.yara, x.sarah, x.tom} {
			_, err := s.OpenBids(ctx, who, c.ID)
			forbidden(who.Label+" turning a key", err)
		}
		if _, err := s.OpenBids(ctx, x.aisha, c.ID); err != nil {
			t.Fatal(err)
		}
		if o, err := s.OpenBids(ctx, x.chloe, c.ID); err != nil || !o.Opened {
			t.Fatalf("opening %+v (err %v)", o, err)
		}
		bids, err := s.OpenedBids(ctx, x.ben, c.ID)
		if err != nil || len(bids) != 2 {
			t.Fatalf("bids %+v (err %v)", bids, err)
		}
		opened := x.reload(t, c.ID)
		for _, who := range []audit.Actor{x.omar, x.yara, x.sarah, x.james} {
			_, err := s.OpenedBids(ctx, who, c.ID)
			forbidden(who.Label+" listing the bids", err)
			_, err = s.OpenedBidList(ctx, who, opened)
			forbidden(who.Label+" listing the bids for their page", err)
			for _, b := range bids {
				_, err := s.BidContent(ctx, who, b.ID)
				forbidden(who.Label+" reading a bid", err)
			}
		}
		if n := deniedFor(t, x, "competition.bids.key", c.ID); n != 4 {
			t.Errorf("keys refused %d times in the audit log, want 4", n)
		}
		if n := deniedFor(t, x, "competition.bids.list", c.ID); n != 8 {
			t.Errorf("lists refused %d times in the audit log, want 8 (two for each)", n)
		}
		for _, b := range bids {
			if n := deniedFor(t, x, "competition.bid.read", b.ID); n != 4 {
				t.Errorf("reads of %s refused %d times in the audit log, want 4", b.ID, n)
			}
		}
	})
}

// TestExclusionAtOpening: a supplier whose appointment is suspended before
// the deadline can no longer write its bid, and at the opening its bid is
// recorded as excluded, not read, and its users are told why; so is a
// supplier that declined after bidding. The others are opened.
func TestExclusionAtOpening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		extra := x.appointMore(t, 1)[0]
		c := x.published(t, input("SWL-EPR-2027-01"))
		x.bid(t, c, x.sarah, 100)
		x.bid(t, c, x.james, 100)
		x.bid(t, c, extra, 100)

		x.clk.Advance(time.Hour)
		reason := "Insolvency proceedings are being looked into."
		if err := x.fw.SetAppointment(ctx, x.tom, x.applicationOf(t, x.james.OrgID).ID, framework.AppointmentSuspended, reason); err != nil {
			t.Fatal(err)
		}
		_, err := s.SubmitBid(ctx, x.james, c.ID, x.james.OrgID, 1)
		wantErrors(t, err, map[string]string{competition.FieldBid: "Your appointment to this lot is suspended: " + reason})
		if err := s.Decline(ctx, extra, c.ID, extra.OrgID, "We have left the EPR market."); err != nil {
			t.Fatal(err)
		}

		x.clk.Set(c.SubmissionDeadline)
		if _, err := s.OpenBids(ctx, x.aisha, c.ID); err != nil {
			t.Fatal(err)
		}
		o, err := s.OpenBids(ctx, x.ben, c.ID)
		if err != nil || !o.Opened || o.Bids != 1 || o.Excluded != 2 {
			t.Fatalf("opening %+v (err %v)", o, err)
		}
		bids, err := s.OpenedBids(ctx, x.aisha, c.ID)
		if err != nil || len(bids) != 3 {
			t.Fatalf("bids %+v (err %v)", bids, err)
		}
		status := map[string]competition.Bid{}
		for _, b := range bids {
			status[b.SupplierOrgID] = b
		}
		if b := status[x.sarah.OrgID]; b.Status != competition.BidOpened || b.ExcludedReason != "" {
			t.Fatalf("Meridian's bid %+v", b)
		}
		if b := status[x.james.OrgID]; b.Status != competition.BidExcluded || b.ExcludedReason != "Your appointment to this lot is suspended: "+reason {
			t.Fatalf("Northgate's bid %+v", b)
		}
		if b := status[extra.OrgID]; b.Status != competition.BidExcluded || b.ExcludedReason != "Your organisation declined the invitation to this competition" {
			t.Fatalf("the declined supplier's bid %+v", b)
		}

		// Each excluded supplier's users, and only they, are told why.
		ns := domaintest.Notes(t, db, "procurement_change")
		if got := strings.Join(recipients(ns), ","); got != strings.Join(sorted(x.james.UserID, extra.UserID), ",") {
			t.Fatalf("exclusions told to %s", got)
		}
		for _, n := range ns {
			want := "Your organisation's bid was not opened, so it will not be evaluated. Your appointment to this lot is suspended: " + reason
			if n.UserID == extra.UserID {
				want = "Your organisation's bid was not opened, so it will not be evaluated. Your organisation declined the invitation to this competition."
			}
			if n.Data["Procurement"] != "SWL-EPR-2027-01 EPR for South West London" || n.Data["Change"] != want || n.Link != competition.SupplierPath(c.ID) {
				t.Fatalf("exclusion notice %+v", n)
			}
		}
		if st, err := s.BidStatus(ctx, x.james, c.ID, x.james.OrgID); err != nil || st.Opening != competition.BidExcluded || st.ExcludedReason != status[x.james.OrgID].ExcludedReason {
			t.Fatalf("Northgate's own view %+v (err %v)", st, err)
		}

		// An excluded bid is never read; the opened one is.
		if _, err := s.BidContent(ctx, x.aisha, status[x.james.OrgID].ID); !errors.Is(err, competition.ErrExcluded) {
			t.Fatalf("reading an excluded bid: %v", err)
		}
		if n := deniedFor(t, x, "competition.bid.read", status[x.james.OrgID].ID); n != 1 {
			t.Fatalf("reading an excluded bid audited %d times", n)
		}
		x.declareNone(t, c, x.ben)
		if _, err := s.BidContent(ctx, x.ben, status[x.sarah.OrgID].ID); err != nil {
			t.Fatal(err)
		}
		var detail string
		db.Table("audit_entries").Select("detail").Where("action = ? AND object_id = ?", "competition.bids.open", c.ID).Scan(&detail)
		if !strings.Contains(detail, `"excluded":2`) || !strings.Contains(detail, `"opened":1`) || strings.Contains(detail, reason) {
			t.Fatalf("opening audited as %s", detail)
		}
	})
}
