package sealed_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestDraftVersions: saves that saw the same version race; exactly one
// wins and the others are conflicts, so no tab's answers silently replace
// another's. A save that says any version always goes through.
func TestDraftVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		if err := f.s.SaveDraftAt(ctx, f.sarah, f.box, f.meridian, []byte("first"), 0); err != nil {
			t.Fatal(err)
		}
		wc, err := f.s.WorkingCopy(ctx, f.sarah, f.box, f.meridian)
		if err != nil || wc.Version != 1 || string(wc.Content) != "first" {
			t.Fatalf("working copy %+v (err %v)", wc, err)
		}
		const tabs = 6
		var wg sync.WaitGroup
		errs := make([]error, tabs)
		for i := range tabs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.s.SaveDraftAt(ctx, f.sarah, f.box, f.meridian, []byte(fmt.Sprintf("tab %d", i)), 1)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("save: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d saves of version 1 went through, want exactly 1", won)
		}
		wc, _ = f.s.WorkingCopy(ctx, f.sarah, f.box, f.meridian)
		if wc.Version != 2 {
			t.Fatalf("version %d after one winning save, want 2", wc.Version)
		}
		if err := f.s.SaveDraftAt(ctx, f.sarah, f.box, f.meridian, []byte("any"), sealed.AnyDraftVersion); err != nil {
			t.Fatal(err)
		}
	})
}
