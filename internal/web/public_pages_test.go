package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// TestPublicPagesWithoutSignIn: anyone, without signing in, reads the
// live framework agreements with their lots and appointed suppliers and
// the confirmed contract awards; drafts, anything the applications or
// bids hold, and awards not yet confirmed never appear.
func TestPublicPagesWithoutSignIn(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		draft := publishedFramework(t, h, "SLCSC-DRAFT-2027", framework.KindOpen, true)
		anon := h.Browser(t)

		// Before any framework is live.
		if r := anon.Get("/public/frameworks"); r.Status != http.StatusOK || !strings.Contains(r.Body, "no live framework agreements") ||
			strings.Contains(r.Body, "SLCSC-DRAFT-2027") {
			t.Fatalf("public frameworks with none live: status %d\n%s", r.Status, r.Body)
		}
		// A live framework with a competition under it recommended for
		// award: the award is not yet public.
		aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
		ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
		comp, _ := recommendedCompetition(t, h, aisha, ben)
		fw, err := h.App.Framework.Framework(ctx, comp.FrameworkID)
		if err != nil {
			t.Fatal(err)
		}
		lots, err := h.App.Framework.Lots(ctx, fw.ID)
		if err != nil || len(lots) != 1 {
			t.Fatalf("%d lots (err %v)", len(lots), err)
		}
		lot := lots[0]
		r := anon.Get("/public/frameworks")
		if r.Status != http.StatusOK || signedIn(r) || !strings.Contains(r.Body, fw.Reference) || !strings.Contains(r.Body, `href="/public/frameworks/`+fw.ID+`"`) ||
			!strings.Contains(r.Body, "Lot 1: "+lot.Title) || !strings.Contains(r.Body, "Meridian Health Systems Ltd, Northgate Clinical Software Ltd") ||
			!strings.Contains(r.Body, "South London Clinical Systems Consortium") {
			t.Fatalf("public frameworks: status %d\n%s", r.Status, r.Body)
		}
		for _, hidden := range []string{"SLCSC-DRAFT-2027", "Live at 40 trusts.", "Piloting.", "sarah.lund@", "/apply"} {
			if strings.Contains(r.Body, hidden) {
				t.Errorf("public frameworks show %q", hidden)
			}
		}
		r = anon.Get("/public/frameworks/" + fw.ID)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, fw.Title) || !strings.Contains(r.Body, "Northgate Clinical Software Ltd") ||
			!strings.Contains(r.Body, "Procurement Act 2023") || strings.Contains(r.Body, "Live at 40 trusts.") {
			t.Fatalf("public framework: status %d\n%s", r.Status, r.Body)
		}
		for _, id := range []string{draft.ID, "no-such-framework"} {
			if r := anon.Get("/public/frameworks/" + id); r.Status != http.StatusNotFound || strings.Contains(r.Body, "SLCSC-DRAFT-2027") {
				t.Errorf("framework %s: status %d, want 404", id, r.Status)
			}
		}
		if r := anon.Get("/public/awards"); r.Status != http.StatusOK || strings.Contains(r.Body, comp.Reference) || !strings.Contains(r.Body, "No contract awards match") {
			t.Fatalf("public awards before confirmation: status %d\n%s", r.Status, r.Body)
		}
	})
}

// TestPublicAwards: a confirmed award is listed with its winner, buying
// trust, contract value and term, and nothing of the losing bid; the
// filters narrow the list; signed-in people read it too.
func TestPublicAwards(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		comp, k := awardedCompetition(t, h, apptest.Start.AddDate(5, 0, 0))
		anon := h.Browser(t)
		r := anon.Get("/public/awards")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, comp.Reference) || !strings.Contains(r.Body, k.Reference) ||
			!strings.Contains(r.Body, "Meridian Health Systems Ltd") || !strings.Contains(r.Body, "St George") ||
			!strings.Contains(r.Body, money(k.ValuePence)) || !strings.Contains(r.Body, "1 award.") {
			t.Fatalf("public awards: status %d\n%s", r.Status, r.Body)
		}
		if strings.Contains(r.Body, "Northgate") || strings.Contains(r.Body, "/contracts/"+k.ID) {
			t.Fatalf("public awards show the losing bidder or a link to the contract's own page:\n%s", r.Body)
		}
		northgate := demoSupplier(t, h, "Northgate")
		if r := anon.Get("/public/awards?supplier=" + northgate.ID); r.Status != http.StatusOK || strings.Contains(r.Body, k.Reference) {
			t.Fatalf("filtered by another supplier: status %d\n%s", r.Status, r.Body)
		}
		if r := anon.Get("/public/awards?trust=" + k.OrganisationID + "&supplier=" + k.SupplierOrgID); r.Status != http.StatusOK || !strings.Contains(r.Body, k.Reference) {
			t.Fatalf("filtered by its trust and winner: status %d\n%s", r.Status, r.Body)
		}
		if r := anon.Get("/public/awards?trust=" + orgID(t, h, "RJ1")); strings.Contains(r.Body, k.Reference) {
			t.Fatal("filtered by another trust, the award is still listed")
		}
		james := h.Browser(t)
		james.SignInAs("demo-supplier-2")
		if r := james.Get("/public/awards"); r.Status != http.StatusOK || !signedIn(r) || !strings.Contains(r.Body, k.Reference) {
			t.Fatalf("signed in: status %d", r.Status)
		}
	})
}

// money is how the pages write pence.
func money(pence int64) string { return framework.Pounds(pence) }
