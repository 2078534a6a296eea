package contracts_test

import (
	"context"
	"slices"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// sendNotices runs the job's work once and checks how many notices it
// sent.
func sendNotices(t *testing.T, x *fixture, want int) {
	t.Helper()
	n, err := x.s.SendExpiryNotices(context.Background())
	if err != nil || n != want {
		t.Fatalf("sent %d notices (err %v), want %d", n, err, want)
	}
}

// expiryNotes are the expiry notifications sent so far, as user, months
// and link.
func expiryNotes(t *testing.T, x *fixture) [][3]any {
	t.Helper()
	var out [][3]any
	for _, n := range domaintest.Notes(t, x.DB, contracts.KindExpiry) {
		out = append(out, [3]any{n.UserID, n.Data["Months"], n.Link})
	}
	return out
}

// windowsRecorded lists the windows recorded for a contract.
func windowsRecorded(t *testing.T, db *store.DB, contractID string) []int {
	t.Helper()
	var out []int
	if err := db.Table("contract_expiry_notices").Where("contract_id = ?", contractID).Order("window_months").
		Pluck("window_months", &out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExpiryNotices: as the clock reaches 18, 12 and 6 months before a
// contract's end, its buying trust's trust leads are told once per
// window, in the portal and by email, with an audit entry; a contract
// made inside the 6 months gets that notice alone; terminated and ended
// contracts get nothing; running again sends nothing new.
func TestExpiryNotices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		x.s.Notify = x.Notify
		ctx := context.Background()
		// At 15 February 2027: RJ7 and RJ1 to the end of 31 May 2032, RR8
		// (Yara's trust) to the end of 10 July 2027.
		rj7, rj1 := x.made(t)
		soon := x.makeFor(t, x.Sarah.OrgID, ukDay(2027, 7, 10), x.Outsider)[x.Outsider]
		jobs := func() int64 { return domaintest.Count(t, db, "test_jobs", "kind = ?", notify.EmailArgs{}.Kind()) }
		before := jobs()

		sendNotices(t, x, 1)
		link := "/contracts/" + soon.ID
		if got := expiryNotes(t, x); !slices.Equal(got, [][3]any{{x.Yara.UserID, float64(6), link}}) {
			t.Fatalf("notes %v, want only Yara's 6-month notice", got)
		}
		note := domaintest.Notes(t, db, contracts.KindExpiry)[0]
		if note.Data["Contract"] != soon.Name() || note.Data["Supplier"] != "Meridian Health Systems Ltd" || note.Data["Trust"] == "" ||
			note.Data["LastDay"] != "2027-07-09T23:00:00Z" {
			t.Fatalf("note data %v", note.Data)
		}
		if got := windowsRecorded(t, db, soon.ID); !slices.Equal(got, []int{6, 12, 18}) {
			t.Fatalf("windows recorded %v: the wider windows are covered by the 6-month notice", got)
		}
		if jobs() != before+1 {
			t.Fatalf("%d emails queued, want 1", jobs()-before)
		}
		sendNotices(t, x, 0)
		if n := len(expiryNotes(t, x)); n != 1 {
			t.Fatalf("%d notes after running again", n)
		}

		// 18 months before the end of 31 May 2032 (midnight at the start
		// of 1 June, British Summer Time).
		x.Clock.Set(domaintest.At(2030, 11, 30, 23, 59))
		sendNotices(t, x, 0)
		x.Clock.Set(domaintest.At(2030, 12, 1, 0, 0))
		sendNotices(t, x, 2)
		got := expiryNotes(t, x)
		if len(got) != 3 || !slices.Contains(got, [3]any{x.Aisha.UserID, float64(18), "/contracts/" + rj7.ID}) ||
			!slices.Contains(got, [3]any{x.Omar.UserID, float64(18), "/contracts/" + rj1.ID}) {
			t.Fatalf("notes %v, want the 18-month notices to Aisha and Omar", got)
		}
		sendNotices(t, x, 0)

		// RJ1 terminates its contract; RJ7's is told at 12 and 6 months.
		k := x.reload(t, rj1.ID)
		if err := x.s.Terminate(ctx, x.Omar, k.ID, "Replaced by a regional contract.", k.Version); err != nil {
			t.Fatal(err)
		}
		x.Clock.Set(domaintest.At(2031, 6, 1, 9, 0))
		sendNotices(t, x, 1)
		sendNotices(t, x, 0)
		x.Clock.Set(domaintest.At(2031, 12, 1, 9, 0))
		sendNotices(t, x, 1)
		sendNotices(t, x, 0)
		x.Clock.Set(domaintest.At(2032, 7, 1, 9, 0)) // ended
		sendNotices(t, x, 0)

		var months []float64
		for _, n := range domaintest.Notes(t, db, contracts.KindExpiry) {
			if n.UserID == x.Aisha.UserID {
				months = append(months, n.Data["Months"].(float64))
			}
		}
		if !slices.Equal(months, []float64{18, 12, 6}) {
			t.Fatalf("Aisha's notices %v, want 18, 12 and 6 months", months)
		}
		if got := windowsRecorded(t, db, rj1.ID); !slices.Equal(got, []int{18}) {
			t.Fatalf("the terminated contract's windows %v", got)
		}
		if n := audits(t, db, "contract.expiry_notice", audit.Success); n != 5 {
			t.Fatalf("%d audit entries, want one per notice (5)", n)
		}
		if n := domaintest.Count(t, db, "audit_entries", "action = ? AND actor_label = ?", "contract.expiry_notice", audit.System.Label); n != 5 {
			t.Fatalf("%d notices audited as the system", n)
		}
		if jobs() != before+5 {
			t.Fatalf("%d emails queued, want 5", jobs()-before)
		}
	})
}

// TestExpiryNoticesWithoutNotifier: without a notifier nothing is sent
// or recorded, so the notices go once one is wired in.
func TestExpiryNoticesWithoutNotifier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		x.makeFor(t, x.Sarah.OrgID, ukDay(2027, 7, 10), x.Outsider)
		sendNotices(t, x, 0)
		if n := domaintest.Count(t, db, "contract_expiry_notices", ""); n != 0 {
			t.Fatalf("%d notices recorded without a notifier", n)
		}
		x.s.Notify = x.Notify
		sendNotices(t, x, 1)
	})
}
