package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// appendN records n entries a minute apart and returns their sequence
// numbers in order.
func appendN(t *testing.T, db *store.DB, log *audit.Log, clk *clock.Manual, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		clk.Advance(time.Minute)
		err := log.Record(ctx, db, audit.Actor{UserID: fmt.Sprintf("user-%d", i), Label: fmt.Sprintf("Person %d", i), IP: "192.0.2.1"},
			audit.Event{Action: "test.event", ObjectType: "thing", ObjectID: fmt.Sprintf("thing-%d", i), Detail: map[string]any{"n": i}})
		if err != nil {
			t.Fatalf("record entry %d: %v", i, err)
		}
	}
	var seqs []int64
	if err := db.Model(&audit.Entry{}).Order("seq").Pluck("seq", &seqs).Error; err != nil {
		t.Fatal(err)
	}
	if len(seqs) != n {
		t.Fatalf("%d entries stored, want %d", len(seqs), n)
	}
	return seqs
}

// An untouched chain verifies in full, and every entry links to the one
// before it.
func TestVerifyIntactChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewManual(t0)
		log := &audit.Log{Clock: clk}
		n, brk, err := audit.Verify(context.Background(), db)
		if err != nil || brk != nil || n != 0 {
			t.Fatalf("empty log: checked %d, break %v, err %v; want 0, nil, nil", n, brk, err)
		}
		appendN(t, db, log, clk, 6)
		n, brk, err = audit.Verify(context.Background(), db)
		if err != nil || brk != nil || n != 6 {
			t.Fatalf("checked %d, break %v, err %v; want 6, nil, nil", n, brk, err)
		}
		var entries []audit.Entry
		db.Order("seq").Find(&entries)
		for i, e := range entries {
			if len(e.Hash) != 64 {
				t.Fatalf("entry %d hash %q is not a SHA-256 hex digest", e.Seq, e.Hash)
			}
			if i > 0 && e.PrevHash != entries[i-1].Hash {
				t.Fatalf("entry %d does not name entry %d's hash", e.Seq, entries[i-1].Seq)
			}
			if e.Outcome != audit.Success {
				t.Fatalf("entry %d outcome %q, want the default success", e.Seq, e.Outcome)
			}
		}
	})
}

// Changing, removing or inserting a row in the middle breaks the chain at
// that point, and Verify names the first entry that no longer holds.
func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(db *store.DB, seqs []int64) error
		// breakAt indexes seqs: the entry Verify must name.
		breakAt int
	}{
		{"actor changed", func(db *store.DB, s []int64) error {
			return db.Exec("UPDATE audit_entries SET actor_label = 'someone else' WHERE seq = ?", s[2]).Error
		}, 2},
		{"detail changed", func(db *store.DB, s []int64) error {
			return db.Exec(`UPDATE audit_entries SET detail = '{"n":99}' WHERE seq = ?`, s[3]).Error
		}, 3},
		{"time moved", func(db *store.DB, s []int64) error {
			return db.Exec("UPDATE audit_entries SET occurred_at = ? WHERE seq = ?", t0.Add(-24*time.Hour), s[1]).Error
		}, 1},
		{"outcome changed on the last entry", func(db *store.DB, s []int64) error {
			return db.Exec("UPDATE audit_entries SET outcome = 'denied' WHERE seq = ?", s[4]).Error
		}, 4},
		{"middle entry deleted", func(db *store.DB, s []int64) error {
			return db.Exec("DELETE FROM audit_entries WHERE seq = ?", s[2]).Error
		}, 3},
		{"first entry deleted", func(db *store.DB, s []int64) error {
			return db.Exec("DELETE FROM audit_entries WHERE seq = ?", s[0]).Error
		}, 1},
		{"entry copied in between", func(db *store.DB, s []int64) error {
			// A copy of entry 2 (valid hash, valid content) slipped in after
			// entry 3: entry 3's successor no longer follows it.
			var e audit.Entry
			if err := db.Where("seq = ?", s[1]).First(&e).Error; err != nil {
				return err
			}
			if err := db.Exec("DELETE FROM audit_entries WHERE seq > ?", s[2]).Error; err != nil {
				return err
			}
			e.Seq = s[2] + 1
			return db.Create(&e).Error
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				clk := clock.NewManual(t0)
				seqs := appendN(t, db, &audit.Log{Clock: clk}, clk, 5)
				if err := tt.tamper(db, seqs); err != nil {
					t.Fatalf("tamper: %v", err)
				}
				want := seqs[tt.breakAt]
				n, brk, err := audit.Verify(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if brk == nil {
					t.Fatalf("Verify checked %d entries and found no break", n)
				}
				if brk.Seq != want {
					t.Fatalf("Verify reported %s; want entry %d", brk, want)
				}
				if brk.Reason == "" || brk.String() == "" {
					t.Fatal("a break without a reason")
				}
			})
		})
	}
}

// An entry appended in a transaction that fails is rolled back with the
// change it describes, and the chain stays whole.
func TestAppendCommitsWithTheChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(t0)
		log := &audit.Log{Clock: clk}
		appendN(t, db, log, clk, 2)
		boom := errors.New("the change failed")
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			if err := log.Append(tx, audit.System, audit.Event{Action: "test.rolled_back"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx returned %v, want the change's error", err)
		}
		if err := log.Record(ctx, db, audit.System, audit.Event{Action: "test.after"}); err != nil {
			t.Fatal(err)
		}
		entries, err := audit.List(ctx, db, audit.Filter{Action: "test.rolled_back"})
		if err != nil || len(entries) != 0 {
			t.Fatalf("rolled-back entry listed: %v (err %v)", entries, err)
		}
		n, brk, err := audit.Verify(ctx, db)
		if err != nil || brk != nil || n != 3 {
			t.Fatalf("checked %d, break %v, err %v; want 3, nil, nil", n, brk, err)
		}
	})
}

// Appends from many goroutines at once, each in its own transaction, are
// serialised into one unbroken chain.
func TestChainSurvivesConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const workers, each = 8, 10
		ctx := context.Background()
		clk := clock.NewManual(t0)
		log := &audit.Log{Clock: clk}
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					err := log.Record(ctx, db, audit.Actor{UserID: fmt.Sprintf("worker-%d", w)},
						audit.Event{Action: "test.concurrent", ObjectID: fmt.Sprintf("%d-%d", w, i)})
					if err != nil {
						errs <- fmt.Errorf("worker %d entry %d: %w", w, i, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n, brk, err := audit.Verify(ctx, db)
		if err != nil || brk != nil || n != workers*each {
			t.Fatalf("checked %d, break %v, err %v; want %d, nil, nil", n, brk, err, workers*each)
		}
		var distinct int64
		db.Raw("SELECT COUNT(DISTINCT object_id) FROM audit_entries").Scan(&distinct)
		if distinct != workers*each {
			t.Fatalf("%d distinct entries, want %d", distinct, workers*each)
		}
	})
}

// List filters by action prefix, outcome, actor, organisation and time,
// returns newest first, and pages with Before and Limit.
func TestListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(t0)
		log := &audit.Log{Clock: clk}
		priya := audit.Actor{UserID: "u-priya", Label: "Priya Shah", OrgID: "org-platform"}
		aisha := audit.Actor{UserID: "u-aisha", Label: "Aisha Khan", OrgID: "org-rj7"}
		type rec struct {
			actor   audit.Actor
			action  string
			outcome string
		}
		// Entry i happens at t0 + i hours.
		recs := []rec{
			{priya, "organisation.create", audit.Success},                    // 0
			{priya, "membership.grant", audit.Success},                       // 1
			{aisha, "membership.grant", audit.Denied},                        // 2
			{aisha, "auth.sign_in", audit.Success},                           // 3
			{audit.System, "seed.demo", audit.Success},                       // 4
			{priya, "membership.revoke", audit.Success},                      // 5
			{aisha, "organisation.update", audit.Failure},                    // 6
			{priya, "auth.sign_in", audit.Failure},                           // 7
			{aisha, "membershipx.other", audit.Success},                      // 8
			{priya, "organisation.update", audit.Denied},                     // 9
			{audit.Actor{UserID: "u-aisha"}, "auth.sign_out", audit.Success}, // 10: no label, matched by ID
		}
		for i, r := range recs {
			clk.Set(t0.Add(time.Duration(i) * time.Hour))
			if err := log.Record(ctx, db, r.actor, audit.Event{Action: r.action, Outcome: r.outcome, ObjectID: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name   string
			filter audit.Filter
			want   []int // indexes into recs, newest first
		}{
			{"everything, newest first", audit.Filter{}, []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
			{"action prefix", audit.Filter{Action: "membership."}, []int{5, 2, 1}},
			{"whole action", audit.Filter{Action: " auth.sign_in "}, []int{7, 3}},
			{"outcome", audit.Filter{Outcome: audit.Denied}, []int{9, 2}},
			{"actor by part of the name, any case", audit.Filter{Actor: "PRIYA"}, []int{9, 7, 5, 1, 0}},
			{"actor by user ID", audit.Filter{Actor: "u-aisha"}, []int{10, 8, 6, 3, 2}},
			{"actor and outcome together", audit.Filter{Actor: "u-aisha", Outcome: audit.Success}, []int{10, 8, 3}},
			{"actor name and action together", audit.Filter{Actor: "Khan", Action: "organisation."}, []int{6}},
			{"organisation", audit.Filter{OrgID: "org-rj7"}, []int{8, 6, 3, 2}},
			{"from is inclusive", audit.Filter{From: t0.Add(8 * time.Hour)}, []int{10, 9, 8}},
			{"to is exclusive", audit.Filter{To: t0.Add(2 * time.Hour)}, []int{1, 0}},
			{"date range", audit.Filter{From: t0.Add(3 * time.Hour), To: t0.Add(5*time.Hour + time.Minute)}, []int{5, 4, 3}},
			{"date range in another zone", audit.Filter{From: t0.Add(3 * time.Hour).In(time.FixedZone("UTC+5", 5*3600)), To: t0.Add(4 * time.Hour).In(time.FixedZone("UTC-7", -7*3600))}, []int{3}},
			{"limit", audit.Filter{Limit: 3}, []int{10, 9, 8}},
			{"nothing matches", audit.Filter{Action: "tender."}, nil},
			{"action in capitals, same on both engines", audit.Filter{Action: "MEMBERSHIP."}, []int{5, 2, 1}},
			{"underscore matches only itself", audit.Filter{Action: "membership_"}, nil},
			{"percent matches only itself", audit.Filter{Actor: "%"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := audit.List(ctx, db, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if ids := objectIDs(got); fmt.Sprint(ids) != fmt.Sprint(tt.want) {
					t.Fatalf("List(%+v) = entries %v, want %v", tt.filter, ids, tt.want)
				}
			})
		}

		// Paging: each page starts below the last seq of the one before.
		var pages [][]int
		f := audit.Filter{Limit: 4}
		for {
			page, err := audit.List(ctx, db, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			pages = append(pages, objectIDs(page))
			f.Before = page[len(page)-1].Seq
		}
		if want := "[[10 9 8 7] [6 5 4 3] [2 1 0]]"; fmt.Sprint(pages) != want {
			t.Fatalf("pages = %v, want %s", pages, want)
		}

		// Out-of-range limits fall back to the default of 100.
		for i := len(recs); i < 120; i++ {
			if err := log.Record(ctx, db, audit.System, audit.Event{Action: "bulk.entry", ObjectID: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, limit := range []int{0, -1, 501} {
			got, err := audit.List(ctx, db, audit.Filter{Limit: limit})
			if err != nil || len(got) != 100 {
				t.Fatalf("List with limit %d returned %d entries (err %v), want 100", limit, len(got), err)
			}
		}
		if got, _ := audit.List(ctx, db, audit.Filter{Limit: 500}); len(got) != 120 {
			t.Fatalf("List with limit 500 returned %d entries, want all 120", len(got))
		}
	})
}

func objectIDs(entries []audit.Entry) []int {
	var out []int
	for _, e := range entries {
		var i int
		fmt.Sscan(e.ObjectID, &i)
		out = append(out, i)
	}
	return out
}
