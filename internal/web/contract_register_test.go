package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
)

// awardedCompetition is recommendedCompetition taken through the award in
// the domain: St George's board approves, the lead sends the letters and
// publishes the award notice, and once the standstill has run out
// confirms the award with a contract ending on end. It returns the
// competition and its one contract, St George's with Meridian.
func awardedCompetition(t *testing.T, h *apptest.Harness, end time.Time) (*competition.Competition, contracts.Contract) {
	t.Helper()
	ctx := context.Background()
	aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
	ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
	margaret := h.Actor(t, "demo-board-member", orgs.KindTrust, "RJ7")
	comp, _ := recommendedCompetition(t, h, aisha, ben)
	aw := h.App.Award
	if err := aw.Decide(ctx, margaret, award.DecisionInput{CompetitionID: comp.ID, OrganisationID: aisha.OrgID, Decision: award.Approve}); err != nil {
		t.Fatal(err)
	}
	if err := aw.SendDecision(ctx, aisha, award.SendInput{CompetitionID: comp.ID}); err != nil {
		t.Fatal(err)
	}
	if err := aw.PublishNotice(ctx, aisha, comp.ID); err != nil {
		t.Fatal(err)
	}
	a, err := aw.Award(ctx, comp.ID)
	if err != nil || a.StandstillEnds == nil {
		t.Fatalf("award %+v (err %v)", a, err)
	}
	h.Clock.Set(a.StandstillEnds.Add(time.Minute))
	if err := aw.Confirm(ctx, aisha, award.ConfirmInput{CompetitionID: comp.ID, Start: h.Clock.Now(), End: end}); err != nil {
		t.Fatal(err)
	}
	made := mustContracts(t, h, comp.ID)
	if len(made) != 1 {
		t.Fatalf("%d contracts, want St George's", len(made))
	}
	return comp, made[0]
}

// TestContractRegisterPage: each reader's register holds the contracts of
// their scope, flagged by when they end, filtered through the query
// string and exported as CSV; a filter not on the lists is shown with its
// error; the trust lead is told as the contract comes within a window;
// evaluators and anonymous visitors are kept out.
func TestContractRegisterPage(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		_, k := awardedCompetition(t, h, apptest.Start.AddDate(1, 0, 0))
		// Ten months before the end of the contract.
		h.Clock.Set(k.Expires().AddDate(0, -10, 0))
		link := `href="/contracts/` + k.ID + `"`
		flag := `<strong class="nhsuk-tag nhsuk-tag--orange">Ends within 12 months</strong>`

		aisha := h.Browser(t)
		aisha.SignInAs("demo-trust-lead")
		r := aisha.Get("/register")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, k.Reference) || !strings.Contains(r.Body, link) || !strings.Contains(r.Body, flag) ||
			!strings.Contains(r.Body, `id="count-12">1<`) || !strings.Contains(r.Body, `id="count-6">0<`) {
			t.Fatalf("trust lead's register: status %d\n%s", r.Status, r.Body)
		}
		if strings.Contains(r.Body, `id="trust"`) {
			t.Error("a trust is offered a choice of trusts")
		}
		if r := aisha.Get("/register?window=6"); r.Status != http.StatusOK || strings.Contains(r.Body, link) || !strings.Contains(r.Body, "No contracts match") ||
			!strings.Contains(r.Body, `id="count-12">1<`) {
			t.Fatalf("within 6 months: status %d\n%s", r.Status, r.Body)
		}
		r = aisha.Get("/register?window=12&state=pending")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, link) || !strings.Contains(r.Body, `value="12" checked`) ||
			!strings.Contains(r.Body, `href="/register.csv?state=pending&amp;window=12"`) {
			t.Fatalf("within 12 months, pending: status %d\n%s", r.Status, r.Body)
		}
		r = aisha.Get("/register?window=soon")
		if r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "Choose when the contracts end from the list") || !strings.Contains(r.Body, link) {
			t.Fatalf("a window not on the list: status %d\n%s", r.Status, errorSummary(r.Body))
		}

		res, body := get(t, aisha, h, "/register.csv?window=12")
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="contract-register-`) ||
			!strings.Contains(string(body), k.Reference) || !strings.Contains(string(body), "Meridian Health Systems Ltd") {
			t.Fatalf("CSV: status %d, headers %v\n%s", res.StatusCode, res.Header, body)
		}
		if res, body := get(t, aisha, h, "/register.csv?window=6"); res.StatusCode != http.StatusOK || strings.Contains(string(body), k.Reference) {
			t.Fatalf("CSV within 6 months: status %d\n%s", res.StatusCode, body)
		}

		for _, tt := range []struct {
			subject    string
			sees, link bool
		}{
			{"demo-supplier", true, true},         // the winner
			{"demo-supplier-2", false, false},     // the other bidder
			{"demo-national-viewer", true, false}, // the national programme sees every contract, not its page
			{"demo-consortium-lead", true, false}, // St George's is a member of the London consortium
			{"demo-auditor", true, false},
			{"demo-board-member-gstt", false, false}, // another trust
		} {
			b := h.Browser(t)
			b.SignInAs(tt.subject)
			r := b.Get("/register")
			if r.Status != http.StatusOK || strings.Contains(r.Body, k.Reference) != tt.sees || strings.Contains(r.Body, link) != tt.link {
				t.Errorf("%s: status %d, sees %v, links %v; want %v, %v", tt.subject, r.Status, strings.Contains(r.Body, k.Reference),
					strings.Contains(r.Body, link), tt.sees, tt.link)
			}
			if res, body := get(t, b, h, "/register.csv"); res.StatusCode != http.StatusOK || strings.Contains(string(body), k.Reference) != tt.sees {
				t.Errorf("%s: CSV status %d\n%s", tt.subject, res.StatusCode, body)
			}
		}
		ben := h.Browser(t)
		ben.SignInAs("demo-evaluator")
		if r := ben.Get("/register"); r.Status != http.StatusForbidden {
			t.Errorf("evaluator: status %d, want 403", r.Status)
		}
		if r := h.Browser(t).Get("/register"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/sign-in") {
			t.Errorf("anonymous: status %d to %q, want a redirect to sign in", r.Status, r.Location)
		}

		// The 12-month notice reaches the trust lead, in the portal, once:
		// sent here, or already by the periodic job, which runs in the
		// background of this portal too.
		n, err := h.App.Contracts.SendExpiryNotices(ctx)
		if err != nil || n > 1 {
			t.Fatalf("sent %d notices (err %v)", n, err)
		}
		if again, err := h.App.Contracts.SendExpiryNotices(ctx); err != nil || again != 0 {
			t.Fatalf("a second run sent %d notices (err %v)", again, err)
		}
		if !notified(t, h, "demo-trust-lead", notify.KindContractExpiry, k.Name()+" between") {
			t.Fatal("the trust lead was not told the contract ends within 12 months")
		}
		list, err := h.App.Notify.List(ctx, h.UserID(t, "demo-trust-lead"), 100)
		if err != nil {
			t.Fatal(err)
		}
		told := 0
		for _, note := range list {
			if note.Kind == notify.KindContractExpiry {
				told++
			}
		}
		if told != 1 {
			t.Errorf("the trust lead was told %d times, want once", told)
		}
	})
}
