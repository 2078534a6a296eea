package store_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// Work registered with BeforeCommit is part of the transaction: it runs
// after the transaction's own work, not at all when that work fails, and
// its own failure rolls everything back. The audit log relies on this to
// write each entry with its change or not at all.
func TestBeforeCommitIsPartOfTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(tx *gorm.DB, id string) error {
			return tx.Exec("INSERT INTO organisations (id, kind, name, version, created_at, updated_at) VALUES (?, 'trust', ?, 1, ?, ?)", id, id, t0, t0).Error
		}
		count := func(id string) int64 {
			var n int64
			if err := db.Table("organisations").Where("id = ?", id).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		var order []string
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			if !store.BeforeCommit(tx, func(tx *gorm.DB) error { order = append(order, "hook"); return insert(tx, "hooked") }) {
				t.Fatal("BeforeCommit refused a transaction opened by Tx")
			}
			order = append(order, "work")
			return insert(tx, "worked")
		})
		if err != nil || count("worked") != 1 || count("hooked") != 1 || len(order) != 2 || order[0] != "work" {
			t.Fatalf("committed: err %v, rows %d/%d, order %v; want both rows, the work before the hook", err, count("worked"), count("hooked"), order)
		}

		boom := errors.New("boom")
		ran := false
		err = db.Tx(ctx, func(tx *gorm.DB) error {
			store.BeforeCommit(tx, func(*gorm.DB) error { ran = true; return nil })
			_ = insert(tx, "failed-work")
			return boom
		})
		if !errors.Is(err, boom) || ran || count("failed-work") != 0 {
			t.Fatalf("failed work: err %v, hook ran %v, rows %d; want the error, no hook, no row", err, ran, count("failed-work"))
		}

		err = db.Tx(ctx, func(tx *gorm.DB) error {
			store.BeforeCommit(tx, func(*gorm.DB) error { return boom })
			return insert(tx, "failed-hook")
		})
		if !errors.Is(err, boom) || count("failed-hook") != 0 {
			t.Fatalf("failed hook: err %v, rows %d; want the error and the work rolled back", err, count("failed-hook"))
		}

		if store.BeforeCommit(db.DB, func(*gorm.DB) error { return nil }) {
			t.Error("BeforeCommit accepted a handle outside any Tx; its work would never run")
		}
	})
}
