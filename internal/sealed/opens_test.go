package sealed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestBoxNotOpenYet: a box with an opening time refuses every write before
// it, saving nothing, and takes them from that moment.
func TestBoxNotOpenYet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		box := f.box
		box.Opens = t0.Add(time.Hour)
		if err := f.s.SaveDraft(ctx, f.sarah, box, f.meridian, []byte("draft")); !errors.Is(err, sealed.ErrNotOpenYet) {
			t.Fatalf("draft before opening: %v", err)
		}
		if _, err := f.s.Submit(ctx, f.sarah, box, f.meridian, []byte("bid"), 0); !errors.Is(err, sealed.ErrNotOpenYet) {
			t.Fatalf("submit before opening: %v", err)
		}
		if _, err := f.s.StatusOf(ctx, box, f.meridian); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("something was saved before opening: %v", err)
		}
		f.clk.Set(box.Opens)
		if _, err := f.s.Submit(ctx, f.sarah, box, f.meridian, []byte("bid"), 0); err != nil {
			t.Fatalf("submit at the opening: %v", err)
		}
	})
}
