package competition_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestScenario2SubmissionStartedBeforeTheDeadlineFinishesAfterIt is
// SECURITY.md scenario 2: "An upload that starts before the deadline and
// finishes after it follows one documented rule, audited." The rule is the
// sealed package's (sealed.go, and README "Framework agreements"): the
// request time decides, and the receipt shows the time of the commit. A bid
// reaches the portal a second before the deadline and its commit is slow:
// the clock passes the deadline while the sealed version is being written.
// The bid is accepted, its receipt and its audit entry carry the commit
// time, after the deadline, and the next write, which arrives after the
// deadline, is refused naming it.
func TestScenario2SubmissionStartedBeforeTheDeadlineFinishesAfterIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		org := x.sarah.OrgID
		sent := x.completeBid(t, c, x.sarah, 100)
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, org, sent, 0); err != nil {
			t.Fatal(err)
		}
		sent.CompetitionID = c.ID
		raw, _ := sent.Encode()

		// The commit takes three seconds: the clock moves on while the
		// submission row is updated, after the request time was read.
		committed := c.SubmissionDeadline.Add(2 * time.Second)
		var slow atomic.Bool
		slow.Store(true)
		onStatement(t, db, "update", "sealed_submissions", func(*gorm.DB) {
			if slow.CompareAndSwap(true, false) {
				x.clk.Set(committed)
			}
		})
		x.clk.Set(c.SubmissionDeadline.Add(-time.Second))
		rc, err := s.SubmitBid(ctx, x.sarah, c.ID, org, 0)
		if err != nil {
			t.Fatalf("a bid that reached the portal a second before the deadline: %v", err)
		}
		if slow.Load() {
			t.Fatal("the commit was not slowed down; the test proves nothing")
		}
		if rc.Kind != sealed.KindSubmit || rc.Number != 1 || !rc.ReceivedAt.Equal(committed) || rc.SHA256 != sealed.Hash(raw) {
			t.Fatalf("receipt %+v; want the commit time %v and the bid's hash", rc, committed)
		}
		var e audit.Entry
		if err := db.Where("action = ? AND outcome = ? AND object_id = ?", "sealed.submit", audit.Success, rc.SubmissionID).First(&e).Error; err != nil {
			t.Fatalf("the accepted bid is not audited: %v", err)
		}
		attempt := c.SubmissionDeadline.Add(-time.Second)
		if !strings.Contains(e.Detail, `"received_at":"`+committed.Format(time.RFC3339Nano)+`"`) || !strings.Contains(e.Detail, `"sha256":"`+rc.SHA256+`"`) ||
			!strings.Contains(e.Detail, `"attempt":"`+attempt.UTC().Format(time.RFC3339Nano)+`"`) {
			t.Fatalf("audited as %s; want the commit time, the request time that made it count and the hash", e.Detail)
		}
		st, err := s.BidStatus(ctx, x.sarah, c.ID, org)
		if err != nil || st.Status != sealed.StatusSubmitted || len(st.Receipts) != 1 || !st.Receipts[0].ReceivedAt.Equal(committed) {
			t.Fatalf("the supplier's view %+v (err %v)", st, err)
		}

		// The next request arrives after the deadline: refused.
		_, err = s.WithdrawBid(ctx, x.sarah, c.ID, org, 1)
		wantDeadline(t, "withdraw after the slow commit", err, c, "12:00:02pm")
		if n := deniedFor(t, x, "competition.bid.withdraw", c.ID); n != 1 {
			t.Fatalf("the late withdrawal audited %d times, want 1", n)
		}
	})
}

// TestScenario4CommitKilledLeavesTheBidCompleteOrAbsent is SECURITY.md
// scenario 4: "The process or database connection is killed in the middle
// of an upload or commit: the bid is complete or absent, no orphan files,
// stored hash matches, receipt only after a durable commit." A bid submit
// is cut off inside its transaction: the request goes away (its context is
// cancelled, as when the process serving it dies), or, on PostgreSQL, its
// database connection is killed from another connection with
// pg_terminate_backend, while the sealed version is written or at the last
// write before COMMIT. Each time no receipt is given and nothing of the bid
// is stored or audited as accepted; the supplier submits again and gets
// version 1. After the deadline two keys open the bid and its content is
// what was sent, with the hash on the receipt.
func TestScenario4CommitKilledLeavesTheBidCompleteOrAbsent(t *testing.T) {
	cases := []struct {
		name     string
		table    string // the insert the commit is cut off at
		postgres bool   // killing a connection needs PostgreSQL
	}{
		{"request cancelled while the sealed version is written", "sealed_versions", false},
		{"connection killed while the sealed version is written", "sealed_versions", true},
		{"connection killed at the last write before COMMIT", "sealed_drafts", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				if tc.postgres && db.Kind != store.Postgres {
					t.Skip("killing a database connection from another needs PostgreSQL")
				}
				x := setup(t, db)
				s := x.s
				c := x.published(t, input("SWL-EPR-2027-01"))
				org := x.sarah.OrgID
				sent := x.completeBid(t, c, x.sarah, 4321)
				if err := s.SaveBidDraft(context.Background(), x.sarah, c.ID, org, sent, 0); err != nil {
					t.Fatal(err)
				}
				sent.CompetitionID = c.ID
				raw, _ := sent.Encode()

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var armed, cut atomic.Bool
				armed.Store(true)
				onStatement(t, db, "create", tc.table, func(tx *gorm.DB) {
					if !armed.CompareAndSwap(true, false) {
						return
					}
					cut.Store(true)
					if tc.postgres {
						terminate(t, db, tx)
					} else {
						cancel()
					}
				})
				rc, err := s.SubmitBid(ctx, x.sarah, c.ID, org, 0)
				if !cut.Load() {
					t.Fatal("the commit was not cut off; the test proves nothing")
				}
				if err == nil || rc != (sealed.Receipt{}) {
					t.Fatalf("a cut-off commit gave receipt %+v (err %v); want no receipt and an error", rc, err)
				}
				t.Logf("cut off with: %v", err)

				bg := context.Background()
				st, err := s.BidStatus(bg, x.sarah, c.ID, org)
				if err != nil || st.Status == sealed.StatusSubmitted || len(st.Receipts) != 0 || st.Version != 0 {
					t.Fatalf("after the cut-off commit the supplier sees %+v (err %v); want no bid", st, err)
				}
				if n, _ := x.sealed.Count(bg, competition.BidBox(c)); n != 0 {
					t.Fatalf("%d bids in after the cut-off commit", n)
				}
				bidsOfC := "(SELECT id FROM sealed_submissions WHERE box_type = ? AND box_id = ?)"
				if n := count(t, db, "sealed_versions", "submission_id IN "+bidsOfC, sealed.TypeCompetitionBid, c.ID); n != 0 {
					t.Fatalf("%d sealed versions stored by the cut-off commit", n)
				}
				if n := count(t, db, "audit_entries", "action = ? AND outcome = ? AND object_id IN "+bidsOfC,
					"sealed.submit", audit.Success, sealed.TypeCompetitionBid, c.ID); n != 0 {
					t.Fatalf("the cut-off commit audited as accepted %d times", n)
				}
				if n, brk, err := audit.Verify(bg, db); err != nil || brk != nil {
					t.Fatalf("audit chain after %d entries: %v (err %v)", n, brk, err)
				}

				// The supplier tries again: a complete bid, version 1.
				rc, err = s.SubmitBid(bg, x.sarah, c.ID, org, 0)
				if err != nil || rc.Number != 1 || rc.Kind != sealed.KindSubmit || rc.SHA256 != sealed.Hash(raw) {
					t.Fatalf("submitting again: %+v (err %v)", rc, err)
				}
				x.clk.Set(c.SubmissionDeadline)
				if _, err := s.OpenBids(bg, x.aisha, c.ID); err != nil {
					t.Fatal(err)
				}
				if o, err := s.OpenBids(bg, x.ben, c.ID); err != nil || !o.Opened || o.Bids != 1 {
					t.Fatalf("opening %+v (err %v)", o, err)
				}
				bids, err := s.OpenedBids(bg, x.aisha, c.ID)
				if err != nil || len(bids) != 1 || bids[0].SHA256 != rc.SHA256 || bids[0].VersionNumber != 1 {
					t.Fatalf("opened %+v (err %v); want the one bid of receipt %+v", bids, err, rc)
				}
				got, err := s.BidContent(bg, x.aisha, bids[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := got.Encode(); sealed.Hash(b) != rc.SHA256 {
					t.Fatalf("opened content %s does not hash to the receipt's %s", b, rc.SHA256)
				}
			})
		})
	}
}

// TestScenario4UploadCutOffLeavesNoOrphanFile is SECURITY.md scenario 4
// for the documents a bid attaches: "no orphan files". A supplier's upload
// is cut off while its record is written, after the encrypted file is in
// place: the request goes away, or, on PostgreSQL, its database connection
// is killed. No record, no audit entry, no stored object and no partial
// file are left, so the bid cannot attach it; uploaded again, the
// document's stored file matches the hash recorded and shown to the
// supplier.
func TestScenario4UploadCutOffLeavesNoOrphanFile(t *testing.T) {
	for _, kill := range []bool{false, true} {
		name := "request cancelled"
		if kill {
			name = "connection killed"
		}
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				if kill && db.Kind != store.Postgres {
					t.Skip("killing a database connection from another needs PostgreSQL")
				}
				x := setup(t, db)
				bg := context.Background()
				stored := func() (objects int) {
					t.Helper()
					if err := x.docs.Store.List(bg, func(string, time.Time) error { objects++; return nil }); err != nil {
						t.Fatal(err)
					}
					return objects
				}
				before := stored()
				text := "Meridian at Kingston: go-live in 14 months.\n"
				up := func(ctx context.Context) (*documents.Document, error) {
					return x.docs.Put(ctx, x.sarah, documents.Upload{OrganisationID: x.sarah.OrgID, OwnerType: "library",
						Name: "case-study.txt", Body: strings.NewReader(text)})
				}

				ctx, cancel := context.WithCancel(bg)
				defer cancel()
				var armed, cut atomic.Bool
				armed.Store(true)
				onStatement(t, db, "create", "documents", func(tx *gorm.DB) {
					if !armed.CompareAndSwap(true, false) {
						return
					}
					cut.Store(true)
					if kill {
						terminate(t, db, tx)
					} else {
						cancel()
					}
				})
				doc, err := up(ctx)
				if !cut.Load() {
					t.Fatal("the upload was not cut off; the test proves nothing")
				}
				if err == nil || doc != nil {
					t.Fatalf("a cut-off upload gave %+v (err %v); want an error", doc, err)
				}
				t.Logf("cut off with: %v", err)
				if n := count(t, db, "documents", "organisation_id = ?", x.sarah.OrgID); n != 0 {
					t.Fatalf("%d document records after the cut-off upload", n)
				}
				if n := auditCount(t, db, "document.upload", audit.Success); n != 0 {
					t.Fatalf("the cut-off upload audited %d times", n)
				}
				if n := stored(); n != before {
					t.Fatalf("%d stored objects after the cut-off upload, %d before: an orphan file", n, before)
				}
				if n, err := x.docs.Store.CleanPartial(bg, 0); err != nil || n != 0 {
					t.Fatalf("%d partial files left by the cut-off upload (err %v)", n, err)
				}

				doc, err = up(bg)
				if err != nil {
					t.Fatal(err)
				}
				if doc.SHA256 != sealed.Hash([]byte(text)) {
					t.Fatalf("recorded hash %s, want the content's", doc.SHA256)
				}
				if err := x.docs.Verify(bg, doc); err != nil {
					t.Fatalf("the stored file does not match its recorded hash: %v", err)
				}
				if n := stored(); n != before+1 {
					t.Fatalf("%d stored objects, want %d", n, before+1)
				}
			})
		})
	}
}

// onStatement runs fn before every GORM create or update ("create",
// "update") on table, until the test ends.
func onStatement(t *testing.T, db *store.DB, kind, table string, fn func(tx *gorm.DB)) {
	t.Helper()
	name := "scenario:" + t.Name()
	hook := func(tx *gorm.DB) {
		if tx.Statement.Table == table {
			fn(tx)
		}
	}
	var err error
	switch kind {
	case "create":
		err = db.Callback().Create().Before("gorm:create").Register(name, hook)
		t.Cleanup(func() { _ = db.Callback().Create().Remove(name) })
	case "update":
		err = db.Callback().Update().Before("gorm:update").Register(name, hook)
		t.Cleanup(func() { _ = db.Callback().Update().Remove(name) })
	default:
		t.Fatalf("unknown statement kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// terminate kills, from another connection, the PostgreSQL connection tx
// runs on, and waits until the server has ended it.
func terminate(t *testing.T, db *store.DB, tx *gorm.DB) {
	t.Helper()
	ctx := context.Background()
	var pid int
	if err := tx.Statement.ConnPool.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Errorf("the transaction's backend: %v", err)
		return
	}
	pool, err := db.SQL()
	if err != nil {
		t.Error(err)
		return
	}
	other, err := pool.Conn(ctx)
	if err != nil {
		t.Error(err)
		return
	}
	defer other.Close()
	var killed bool
	if err := other.QueryRowContext(ctx, "SELECT pg_terminate_backend($1, 5000)", pid).Scan(&killed); err != nil || !killed {
		t.Errorf("pg_terminate_backend(%d) = %v, %v", pid, killed, err)
	}
	var left int
	err = other.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&left)
	if err != nil && !errors.Is(err, sql.ErrNoRows) || left != 0 {
		t.Errorf("backend %d still there (%d, %v)", pid, left, err)
	}
}
