package framework_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

func lotSuppliers(ag framework.PublicAgreement) [][]string {
	var out [][]string
	for _, l := range ag.Lots {
		out = append(out, l.Suppliers)
	}
	return out
}

// TestPublicAgreements: the public pages list live agreements with their
// consortium, lots and currently appointed suppliers; a suspended
// supplier drops off; drafts are never found; an expired agreement leaves
// the list but can still be read.
func TestPublicAgreements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := domaintest.LiveFramework(t, db)
		ctx := context.Background()
		fw := x.Frameworks
		london := domaintest.OrgID(t, db, "kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon)
		draft, err := fw.CreateFramework(ctx, x.Tom, london, framework.FrameworkInput{
			Reference: "SLCSC-PACS-2027", Title: "Imaging", Regime: framework.RegimePA2023, Kind: framework.KindClosed,
			TermStart: domaintest.At(2027, 6, 1, 0, 0), TermEnd: domaintest.At(2031, 6, 1, 0, 0),
			ApplicationsOpen: domaintest.At(2027, 3, 1, 9, 0), ClarificationDeadline: domaintest.At(2027, 3, 10, 17, 0), ApplicationDeadline: domaintest.At(2027, 3, 20, 12, 0),
		})
		if err != nil {
			t.Fatal(err)
		}

		live, err := fw.LiveAgreements(ctx)
		if err != nil || len(live) != 1 {
			t.Fatalf("%d live agreements (err %v), want the one", len(live), err)
		}
		ag := live[0]
		both := []string{"Meridian Health Systems Ltd", "Northgate Clinical Software Ltd"}
		if ag.ID != x.Framework.ID || ag.Reference != "SLCSC-EPR-2027" || ag.Consortium != orgs.DemoLondon || ag.State != framework.StateLive ||
			ag.Regime != framework.RegimePCR2015 || !ag.TermEnd.Equal(x.Framework.TermEnd) || len(ag.Lots) != 2 ||
			ag.Lots[0].Title != "Acute EPR" || ag.Lots[1].CallOff != framework.CallOffDirect ||
			!slices.Equal(ag.Lots[0].Suppliers, both) || len(ag.Lots[1].Suppliers) != 0 {
			t.Fatalf("live agreement %+v", ag)
		}
		if _, err := fw.PublicAgreementByID(ctx, draft.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("draft: err %v, want not found", err)
		}
		if _, err := fw.PublicAgreementByID(ctx, "no-such-framework"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown: err %v, want not found", err)
		}

		apps, err := fw.Applications(ctx, x.Framework.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range apps {
			if a.SupplierOrgID == x.James.OrgID {
				if err := fw.SetAppointment(ctx, x.Tom, a.ID, framework.AppointmentSuspended, "Insolvency under review."); err != nil {
					t.Fatal(err)
				}
			}
		}
		one, err := fw.PublicAgreementByID(ctx, x.Framework.ID)
		if err != nil || !slices.EqualFunc(lotSuppliers(*one), [][]string{{both[0]}, nil}, slices.Equal) {
			t.Fatalf("after suspending Northgate: %v (err %v)", lotSuppliers(*one), err)
		}

		x.Clock.Set(x.Framework.TermEnd)
		if live, err := fw.LiveAgreements(ctx); err != nil || len(live) != 0 {
			t.Fatalf("%d live agreements after the term (err %v)", len(live), err)
		}
		if one, err := fw.PublicAgreementByID(ctx, x.Framework.ID); err != nil || one.State != framework.StateExpired || len(one.Lots) != 2 {
			t.Fatalf("expired agreement %+v (err %v)", one, err)
		}
	})
}

// TestPublicAgreementCancelled: a cancelled agreement is no longer public.
func TestPublicAgreementCancelled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := domaintest.LiveFramework(t, db)
		ctx := context.Background()
		if err := x.Frameworks.Cancel(ctx, x.Tom, x.Framework.ID, "Replaced by a national framework."); err != nil {
			t.Fatal(err)
		}
		if live, err := x.Frameworks.LiveAgreements(ctx); err != nil || len(live) != 0 {
			t.Fatalf("%d live agreements (err %v)", len(live), err)
		}
		if _, err := x.Frameworks.PublicAgreementByID(ctx, x.Framework.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cancelled: err %v, want not found", err)
		}
	})
}
