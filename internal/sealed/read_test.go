package sealed_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

func TestRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		if _, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("MARKER meridian v1"), 0); err != nil {
			t.Fatal(err)
		}
		rc, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("MARKER meridian v2"), 1)
		if err != nil {
			t.Fatal(err)
		}
		withdrawn, err := f.s.Submit(ctx, f.james, f.box, f.northgate, []byte("MARKER northgate"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Withdraw(ctx, f.james, f.box, f.northgate, 1); err != nil {
			t.Fatal(err)
		}

		// Before the deadline: sealed, audited as denied, nothing returned.
		f.clk.Set(deadline.Add(-time.Second))
		if got, err := f.s.Read(ctx, f.lead, f.box, rc.SubmissionID); !errors.Is(err, sealed.ErrSealed) || got.Content != nil {
			t.Fatalf("read before the deadline: %+v, %v", got, err)
		}
		if n := f.auditCount(t, "sealed.read", audit.Denied); n != 1 {
			t.Fatalf("refused read audited %d times", n)
		}

		f.clk.Set(deadline)
		got, err := f.s.Read(ctx, f.lead, f.box, rc.SubmissionID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Content) != "MARKER meridian v2" || got.Number != 2 || got.SHA256 != rc.SHA256 ||
			got.SupplierOrgID != f.meridian || !got.ReceivedAt.Equal(rc.ReceivedAt) || got.Kind != sealed.KindResubmit {
			t.Fatalf("read %+v, want version 2 of %+v", got, rc)
		}
		if n := f.auditCount(t, "sealed.read", audit.Success); n != 1 {
			t.Fatalf("read audited %d times", n)
		}
		var detail string
		if err := db.Model(&audit.Entry{}).Where("action = ? AND outcome = ?", "sealed.read", audit.Success).Pluck("detail", &detail).Error; err != nil {
			t.Fatal(err)
		}
		if strings.Contains(detail, "MARKER") || !strings.Contains(detail, rc.SHA256) {
			t.Fatalf("audit detail %s", detail)
		}

		// A withdrawn response, an unknown id and another box's submission
		// are not found.
		other := sealed.Box{Type: sealed.TypeFrameworkApplication, ID: "fw-2", Deadline: deadline}
		for name, c := range map[string]struct {
			box sealed.Box
			id  string
		}{
			"withdrawn": {f.box, withdrawn.SubmissionID}, "unknown": {f.box, "no-such-id"}, "other box": {other, rc.SubmissionID},
		} {
			if _, err := f.s.Read(ctx, f.lead, c.box, c.id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: err = %v, want not found", name, err)
			}
		}

		// A stored hash that no longer matches the content is detected.
		if err := db.Exec("UPDATE sealed_versions SET sha256 = ? WHERE submission_id = ? AND number = 2",
			strings.Repeat("0", 64), rc.SubmissionID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Read(ctx, f.lead, f.box, rc.SubmissionID); !errors.Is(err, documents.ErrTampered) {
			t.Fatalf("read tampered: %v", err)
		}
		if n := f.auditCount(t, "sealed.read", audit.Failure); n != 1 {
			t.Fatalf("failed read audited %d times", n)
		}
	})
}
