package competition_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// declareNone declares that who has no conflict of interest with any
// supplier whose bid was opened.
func (x *fixture) declareNone(t testing.TB, c *competition.Competition, who audit.Actor) {
	t.Helper()
	x.l.Declare(t, c, who, nil)
}

// TestConflictsGateReading: after the opening, a panel member who has not
// declared cannot read any bid, and one who declared a conflict with a
// supplier can never read its bid; both refusals are audited. The first
// declaration covers every bidder, a conflict needs its details, and a
// declared conflict cannot be withdrawn, though a new one can be added. A
// trust lead of the lead trust who is not on the panel reads without
// declaring, until they declare a conflict. Anyone else is refused.
func TestConflictsGateReading(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		x.bid(t, c, x.sarah, 100)
		x.bid(t, c, x.james, 100)
		meridian, northgate := x.sarah.OrgID, x.james.OrgID

		x.clk.Set(c.SubmissionDeadline)
		err := s.DeclareConflicts(ctx, x.ben, c.ID, []competition.DeclarationInput{{SupplierOrgID: meridian}})
		wantErrors(t, err, map[string]string{
			competition.FieldDeclarations: "Declare your interests once the bids have been opened: you declare them for each supplier that bid",
		})
		bids := x.l.OpenBids(t, c)
		byOrg := map[string]competition.Bid{}
		for _, b := range bids {
			byOrg[b.SupplierOrgID] = b
		}
		mBid, nBid := byOrg[meridian], byOrg[northgate]

		// Not declared yet: no bid at all.
		for _, b := range bids {
			_, err := s.BidContent(ctx, x.ben, b.ID)
			if !errors.Is(err, competition.ErrUndeclared) || !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("an undeclared panel member read %s: %v", b.Supplier.Name, err)
			}
			if n := deniedFor(t, x, "competition.bid.read", b.ID); n != 1 {
				t.Fatalf("undeclared read audited %d times", n)
			}
		}

		// The first declaration covers every bidder; a conflict needs details.
		err = s.DeclareConflicts(ctx, x.ben, c.ID, []competition.DeclarationInput{{SupplierOrgID: meridian, Conflict: true, Details: "  "}})
		wantErrors(t, err, map[string]string{
			competition.FieldConflictDetails(meridian): "Say what your conflict of interest with " + mBid.Supplier.Name + " is",
			competition.FieldConflict(northgate):       "Say whether you have a conflict of interest with " + nBid.Supplier.Name,
		})
		err = s.DeclareConflicts(ctx, x.ben, c.ID, []competition.DeclarationInput{{SupplierOrgID: "org-nobody"}, {SupplierOrgID: meridian}, {SupplierOrgID: northgate}})
		wantErrors(t, err, map[string]string{
			competition.FieldDeclarations: "One of the suppliers named is not one whose bid was opened; reload the page and declare again",
		})
		if n := count(t, db, "competition_declarations", ""); n != 0 {
			t.Fatalf("%d declarations saved from refused input", n)
		}
		if err := s.DeclareConflicts(ctx, x.ben, c.ID, []competition.DeclarationInput{
			{SupplierOrgID: meridian, Conflict: true, Details: "My sister is Meridian's account director."},
			{SupplierOrgID: northgate, Details: "ignored"},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BidContent(ctx, x.ben, mBid.ID); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("a conflicted panel member read the bid: %v", err)
		}
		if _, err := s.BidContent(ctx, x.ben, nBid.ID); err != nil {
			t.Fatalf("reading a bid without a conflict: %v", err)
		}
		var detail string
		db.Table("audit_entries").Select("detail").Where("action = ? AND outcome = ? AND object_id = ?", "competition.bid.read", audit.Denied, mBid.ID).
			Order("seq DESC").Limit(1).Scan(&detail)
		if detail == "" || !strings.Contains(detail, "you declared a conflict of interest with this supplier") {
			t.Fatalf("conflicted read audited as %q", detail)
		}

		// A conflict stands; a new one can be added.
		err = s.DeclareConflicts(ctx, x.ben, c.ID, []competition.DeclarationInput{{SupplierOrgID: meridian}})
		wantErrors(t, err, map[string]string{
			competition.FieldConflict(meridian): "You declared a conflict of interest with " + mBid.Supplier.Name +
				" at midday on 15 March 2027 (UK time); a declared conflict cannot be withdrawn or changed",
		})
		if err := s.DeclareConflicts(ctx, x.ben, c.ID, []competition.DeclarationInput{{SupplierOrgID: northgate, Conflict: true, Details: "Offered a job by Northgate."}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BidContent(ctx, x.ben, nBid.ID); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("read after a new conflict: %v", err)
		}

		// The lead reads without declaring, until a conflict is declared.
		if _, err := s.BidContent(ctx, x.aisha, mBid.ID); err != nil {
			t.Fatalf("the lead reading: %v", err)
		}
		if err := s.DeclareConflicts(ctx, x.aisha, c.ID, []competition.DeclarationInput{
			{SupplierOrgID: meridian}, {SupplierOrgID: northgate, Conflict: true, Details: "Former Northgate employee."},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BidContent(ctx, x.aisha, nBid.ID); !errors.Is(err, competition.ErrConflicted) {
			t.Fatalf("a conflicted lead read the bid: %v", err)
		}
		if _, err := s.BidContent(ctx, x.aisha, mBid.ID); err != nil {
			t.Fatalf("the lead reading a bid without a conflict: %v", err)
		}

		// Nobody else declares.
		for _, who := range []audit.Actor{x.omar, x.sarah} {
			if err := s.DeclareConflicts(ctx, who, c.ID, nil); !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s declared: %v", who.Label, err)
			}
		}
		if n := deniedFor(t, x, "competition.conflicts.declare", c.ID); n != 2 {
			t.Fatalf("refused declarations audited %d times", n)
		}
		if n := count(t, db, "audit_entries", "action = ? AND outcome = ?", "competition.conflicts.declare", audit.Success); n != 3 {
			t.Fatalf("declarations audited %d times, want 3", n)
		}

		ds, err := s.Declarations(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			name, supplier string
			conflict       bool
			details        string
		}
		var got []row
		for _, d := range ds {
			got = append(got, row{d.Name, d.SupplierName, d.Conflict, d.Details})
		}
		want := []row{
			{x.aisha.Label, mBid.Supplier.Name, false, ""},
			{x.aisha.Label, nBid.Supplier.Name, true, "Former Northgate employee."},
			{x.ben.Label, mBid.Supplier.Name, true, "My sister is Meridian's account director."},
			{x.ben.Label, nBid.Supplier.Name, true, "Offered a job by Northgate."},
		}
		if len(got) != len(want) {
			t.Fatalf("declarations %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("declaration %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		mine, err := s.MyDeclarations(ctx, c.ID, x.chloe.UserID)
		if err != nil || len(mine) != 0 {
			t.Fatalf("Chloe's declarations %+v (err %v)", mine, err)
		}
	})
}
