package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

const devIssuer = "http://localhost:8080/dev-idp"

var (
	t0 = time.Date(2027, 1, 20, 9, 0, 0, 0, time.UTC)
	// Midday on 1 February 2027, UK time (GMT in winter).
	deadline = time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
)

type fixture struct {
	s                   *sealed.Service
	db                  *store.DB
	clk                 *clock.Manual
	log                 *audit.Log
	box                 sealed.Box
	meridian, northgate string
	sarah, james, lead  audit.Actor
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(t0)
	log := &audit.Log{Clock: clk}
	if _, err := orgs.SeedDemo(ctx, db.DB, log, clk.Now(), devIssuer); err != nil {
		t.Fatal(err)
	}
	keys, err := documents.NewKeyring(bytes.Repeat([]byte{7}, documents.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	org := func(where string, args ...any) orgs.Organisation {
		var o orgs.Organisation
		if err := db.Where(where, args...).First(&o).Error; err != nil {
			t.Fatal(err)
		}
		return o
	}
	user := func(subject string) string {
		var u orgs.User
		if err := db.Where("subject = ?", subject).First(&u).Error; err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	meridian := org("companies_house_number = ?", "04123456")
	northgate := org("companies_house_number = ?", "05234567")
	london := org("kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon)
	return &fixture{
		s:   &sealed.Service{DB: db, Audit: log, Clock: clk, Keys: keys},
		db:  db,
		clk: clk, log: log,
		box:      sealed.Box{Type: sealed.TypeFrameworkApplication, ID: "fw-1", Deadline: deadline},
		meridian: meridian.ID, northgate: northgate.ID,
		sarah: audit.Actor{UserID: user("demo-supplier"), Label: "Sarah Lund", OrgID: meridian.ID},
		james: audit.Actor{UserID: user("demo-supplier-2"), Label: "James Whitfield", OrgID: northgate.ID},
		lead:  audit.Actor{UserID: user("demo-consortium-lead"), Label: "Tom Reilly", OrgID: london.ID},
	}
}

func (f *fixture) auditCount(t *testing.T, action, outcome string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Model(&audit.Entry{}).Where("action = ? AND outcome = ?", action, outcome).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeadlineEdge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		content := []byte("MARKER-price £1,234,567")

		f.clk.Set(deadline.Add(-time.Second))
		if err := f.s.SaveDraft(ctx, f.sarah, f.box, f.meridian, []byte("draft")); err != nil {
			t.Fatalf("draft before deadline: %v", err)
		}
		rc, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, content, 0)
		if err != nil {
			t.Fatalf("submit one second before: %v", err)
		}
		if rc.Kind != sealed.KindSubmit || rc.Number != 1 || rc.SHA256 != sealed.Hash(content) ||
			!rc.ReceivedAt.Equal(deadline.Add(-time.Second)) || rc.SubmissionID == "" {
			t.Fatalf("receipt = %+v", rc)
		}
		if len(rc.SHA256) != 64 {
			t.Fatalf("sha256 %q", rc.SHA256)
		}

		for _, at := range []time.Time{deadline, deadline.Add(time.Second)} {
			f.clk.Set(at)
			_, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("late"), 1)
			var de *sealed.DeadlineError
			if !errors.As(err, &de) || !errors.Is(err, sealed.ErrDeadlinePassed) {
				t.Fatalf("submit at %v: err = %v", at, err)
			}
			if !de.Attempt.Equal(at) || !de.Deadline.Equal(deadline) {
				t.Fatalf("deadline error %+v", de)
			}
			if !strings.Contains(err.Error(), "The deadline was midday on 1 February 2027 (UK time)") {
				t.Fatalf("message does not name the deadline: %q", err)
			}
			want := sealed.UKTimeSeconds(at)
			if !strings.Contains(err.Error(), "your submission reached us at "+want) {
				t.Fatalf("message does not name the attempt %q: %q", want, err)
			}
			if _, err := f.s.Withdraw(ctx, f.sarah, f.box, f.meridian, 1); !errors.Is(err, sealed.ErrDeadlinePassed) {
				t.Fatalf("withdraw at %v: %v", at, err)
			}
			if err := f.s.SaveDraft(ctx, f.sarah, f.box, f.meridian, []byte("x")); !errors.Is(err, sealed.ErrDeadlinePassed) {
				t.Fatalf("draft at %v: %v", at, err)
			}
		}
		if got := f.receipts(t); len(got) != 1 {
			t.Fatalf("late writes left versions: %+v", got)
		}
		if n := f.auditCount(t, "sealed.submit", audit.Denied); n != 2 {
			t.Fatalf("denied late submits audited %d times", n)
		}
		if !strings.Contains(sealed.UKTimeSeconds(deadline.Add(time.Second)), "12:00:01pm on 1 February 2027") {
			t.Fatalf("format %q", sealed.UKTimeSeconds(deadline.Add(time.Second)))
		}
	})
}

func TestWithdrawEdge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		if _, err := f.s.Withdraw(ctx, f.sarah, f.box, f.meridian, 0); !errors.Is(err, sealed.ErrNotSubmitted) {
			t.Fatalf("withdraw nothing: %v", err)
		}
		if _, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("bid"), 0); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(deadline.Add(-time.Second))
		rc, err := f.s.Withdraw(ctx, f.sarah, f.box, f.meridian, 1)
		if err != nil {
			t.Fatalf("withdraw one second before: %v", err)
		}
		if rc.Kind != sealed.KindWithdraw || rc.Number != 2 || rc.SHA256 != sealed.Hash(nil) ||
			!rc.ReceivedAt.Equal(deadline.Add(-time.Second)) {
			t.Fatalf("withdraw receipt %+v", rc)
		}
		if n, err := f.s.Count(ctx, f.box); err != nil || n != 0 {
			t.Fatalf("count after withdraw = %d, %v", n, err)
		}
		rs := f.receipts(t)
		if len(rs) != 2 || rs[0].Kind != sealed.KindSubmit || rs[1].Kind != sealed.KindWithdraw {
			t.Fatalf("receipts %+v", rs)
		}
		// Submitting again after a withdrawal is a resubmission.
		rc, err = f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("bid again"), 2)
		if err != nil || rc.Kind != sealed.KindResubmit || rc.Number != 3 {
			t.Fatalf("submit after withdraw: %+v, %v", rc, err)
		}
	})
}

func TestResubmitKeepsVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		r1, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("version one"), 0)
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Minute)
		r2, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("version two"), 1)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Kind != sealed.KindResubmit || r2.Number != 2 || r2.SubmissionID != r1.SubmissionID || !r2.ReceivedAt.After(r1.ReceivedAt) {
			t.Fatalf("resubmit receipt %+v after %+v", r2, r1)
		}
		rs := f.receipts(t)
		if len(rs) != 2 || rs[0] != r1 || rs[1] != r2 {
			t.Fatalf("receipts %+v, want %+v %+v", rs, r1, r2)
		}
		// A stale expected version is a conflict.
		if _, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("stale"), 1); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale resubmit: %v", err)
		}
		st, err := f.s.StatusOf(ctx, f.box, f.meridian)
		if err != nil || st.Version != 2 || st.Status != sealed.StatusSubmitted {
			t.Fatalf("status %+v, %v", st, err)
		}
		// Another supplier's user cannot write for Meridian.
		if _, err := f.s.Submit(ctx, f.james, f.box, f.meridian, []byte("x"), 2); !errors.Is(err, sealed.ErrForbidden) {
			t.Fatalf("cross-tenant submit: %v", err)
		}
		if n := f.auditCount(t, "sealed.submit", audit.Denied); n != 1 {
			t.Fatalf("cross-tenant attempt audited %d times", n)
		}
		// The buyer sees a count, nothing more.
		if n, err := f.s.Count(ctx, f.box); err != nil || n != 1 {
			t.Fatalf("count = %d, %v", n, err)
		}
	})
}

func TestConcurrentResubmit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		if _, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("v1"), 0); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		rcs := make([]sealed.Receipt, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rcs[i], errs[i] = f.s.Submit(ctx, f.sarah, f.box, f.meridian, fmt.Appendf(nil, "tab %d", i), 1)
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatal("both tabs won")
				}
				won = i
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("tab %d: %v", i, err)
			}
		}
		if won < 0 {
			t.Fatalf("no tab won: %v", errs)
		}
		rs := f.receipts(t)
		if len(rs) != 2 || rs[1] != rcs[won] || rs[0].SHA256 != sealed.Hash([]byte("v1")) {
			t.Fatalf("receipts %+v", rs)
		}
		f.clk.Set(deadline)
		opened, err := f.s.Open(ctx, f.lead, f.box)
		if err != nil || len(opened) != 1 || string(opened[0].Content) != fmt.Sprintf("tab %d", won) {
			t.Fatalf("opened %+v, %v", opened, err)
		}
	})
}

func TestConcurrentFirstSubmit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.s.Submit(ctx, f.sarah, f.box, f.meridian, fmt.Appendf(nil, "tab %d", i), 0)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, store.ErrConflict) {
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("winners %d: %v", ok, errs)
		}
	})
}

func TestManySuppliersLastSecond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		osvc := &orgs.Service{DB: db, Audit: f.log, Clock: f.clk}
		suppliers := []string{f.meridian, f.northgate}
		actors := []audit.Actor{f.sarah, f.james}
		for i := len(suppliers); i < 20; i++ {
			o, err := osvc.CreateOrganisation(ctx, audit.System, orgs.OrganisationInput{
				Kind: orgs.KindSupplier, Name: fmt.Sprintf("Supplier %02d Ltd", i), CompaniesHouseNumber: fmt.Sprintf("%08d", 90000000+i),
			})
			if err != nil {
				t.Fatal(err)
			}
			u, err := osvc.CreateUser(ctx, audit.System, orgs.UserInput{
				Issuer: devIssuer, Subject: fmt.Sprintf("load-supplier-%d", i), Email: fmt.Sprintf("bidder%d@example.com", i), Name: fmt.Sprintf("Bidder %d", i),
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&orgs.Membership{ID: uuid.NewString(), UserID: u.ID, OrganisationID: o.ID, Role: "supplier_user", Source: orgs.SourcePortal, CreatedAt: t0}).Error; err != nil {
				t.Fatal(err)
			}
			suppliers = append(suppliers, o.ID)
			actors = append(actors, audit.Actor{UserID: u.ID, Label: u.Name, OrgID: o.ID})
		}
		f.clk.Set(deadline.Add(-time.Second + time.Millisecond))
		var wg sync.WaitGroup
		rcs := make([]sealed.Receipt, len(suppliers))
		errs := make([]error, len(suppliers))
		for i := range suppliers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rcs[i], errs[i] = f.s.Submit(ctx, actors[i], f.box, suppliers[i], fmt.Appendf(nil, "bid from %d", i), 0)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("supplier %d: %v", i, err)
			}
			if rcs[i].Number != 1 || rcs[i].SHA256 != sealed.Hash(fmt.Appendf(nil, "bid from %d", i)) {
				t.Fatalf("supplier %d receipt %+v", i, rcs[i])
			}
		}
		if n, err := f.s.Count(ctx, f.box); err != nil || n != len(suppliers) {
			t.Fatalf("count %d, %v", n, err)
		}
		f.clk.Set(deadline)
		opened, err := f.s.Open(ctx, f.lead, f.box)
		if err != nil || len(opened) != len(suppliers) {
			t.Fatalf("opened %d, %v", len(opened), err)
		}
		if _, br, err := audit.Verify(ctx, db); err != nil || br != nil {
			t.Fatalf("audit chain: %v %v", br, err)
		}
	})
}

func TestOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		if _, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("MARKER meridian v1"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Submit(ctx, f.sarah, f.box, f.meridian, []byte("MARKER meridian v2"), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Submit(ctx, f.james, f.box, f.northgate, []byte("MARKER northgate"), 0); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SaveDraft(ctx, f.james, f.box, f.northgate, []byte("MARKER northgate draft")); err != nil {
			t.Fatal(err)
		}
		if d, _, err := f.s.Draft(ctx, f.james, f.box, f.northgate); err != nil || string(d) != "MARKER northgate draft" {
			t.Fatalf("draft %q, %v", d, err)
		}
		if _, _, err := f.s.Draft(ctx, f.sarah, f.box, f.northgate); !errors.Is(err, sealed.ErrForbidden) {
			t.Fatalf("rival reads draft: %v", err)
		}
		// Another box is not touched.
		other := sealed.Box{Type: sealed.TypeCompetitionBid, ID: "mc-1", Deadline: deadline}
		if _, err := f.s.Submit(ctx, f.sarah, other, f.meridian, []byte("MARKER other box"), 0); err != nil {
			t.Fatal(err)
		}

		// Before the deadline: sealed, and the attempt is audited.
		f.clk.Set(deadline.Add(-time.Second))
		if got, err := f.s.Open(ctx, f.lead, f.box); !errors.Is(err, sealed.ErrSealed) || got != nil {
			t.Fatalf("open before deadline: %v, %v", got, err)
		}
		if n := f.auditCount(t, "sealed.open", audit.Denied); n != 1 {
			t.Fatalf("refused opening audited %d times", n)
		}

		// The database holds no plaintext, and the audit log no content.
		for _, q := range []string{"SELECT content FROM sealed_versions", "SELECT wrapped_key FROM sealed_versions",
			"SELECT content FROM sealed_drafts", "SELECT detail FROM audit_entries"} {
			var blobs [][]byte
			if err := db.Raw(q).Scan(&blobs).Error; err != nil {
				t.Fatal(err)
			}
			if len(blobs) == 0 {
				t.Fatalf("%s: no rows", q)
			}
			for _, b := range blobs {
				if bytes.Contains(b, []byte("MARKER")) {
					t.Fatalf("%s holds plaintext", q)
				}
			}
		}

		f.clk.Set(deadline)
		opened, err := f.s.Open(ctx, f.lead, f.box)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, o := range opened {
			if o.SHA256 != sealed.Hash(o.Content) {
				t.Fatalf("hash mismatch %+v", o)
			}
			got[o.SupplierOrgID] = string(o.Content)
		}
		want := map[string]string{f.meridian: "MARKER meridian v2", f.northgate: "MARKER northgate"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("opened %v, want %v", got, want)
		}
		if n := f.auditCount(t, "sealed.open", audit.Success); n != 1 {
			t.Fatalf("opening audited %d times", n)
		}

		// A flipped byte in the stored ciphertext is detected.
		var v struct {
			ID      string
			Content []byte
		}
		if err := db.Raw("SELECT v.id, v.content FROM sealed_versions v JOIN sealed_submissions s ON s.id = v.submission_id WHERE s.supplier_org_id = ? AND s.box_id = ? AND v.number = 2", f.meridian, "fw-1").Scan(&v).Error; err != nil || v.ID == "" {
			t.Fatalf("read version: %v", err)
		}
		v.Content[len(v.Content)/2] ^= 0x01
		if err := db.Exec("UPDATE sealed_versions SET content = ? WHERE id = ?", v.Content, v.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Open(ctx, f.lead, f.box); !errors.Is(err, documents.ErrTampered) {
			t.Fatalf("open tampered: %v", err)
		}
		if n := f.auditCount(t, "sealed.open", audit.Failure); n != 1 {
			t.Fatalf("failed opening audited %d times", n)
		}
	})
}

func (f *fixture) receipts(t *testing.T) []sealed.Receipt {
	t.Helper()
	rs, err := f.s.Receipts(context.Background(), f.box, f.meridian)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
