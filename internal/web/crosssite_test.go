package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// postFrom sends form to u with the page's CSRF token as a browser at the
// given Sec-Fetch-Site would.
func postFrom(t *testing.T, b *apptest.Browser, h *apptest.Harness, page, u, site string, form url.Values) int {
	t.Helper()
	form.Set("_csrf", b.CSRF(page))
	req, err := http.NewRequest(http.MethodPost, h.URL+u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCrossSiteSubmitAndWithdrawRefused (SECURITY.md scenario 11): a
// cross-site POST to submit or withdraw an application is refused even
// with a valid token, and changes nothing; the same POST from the portal
// goes through.
func TestCrossSiteSubmitAndWithdrawRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		fw, lot := openForApplications(t, h, time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC))
		sarah := applyAsInvited(t, h, fw, "demo-supplier", "Meridian", "sarah.lund@meridian.example.com")
		reqs, _ := h.App.Framework.LotRequirements(ctx, lot.ID)
		content := framework.ApplicationContent{LotID: lot.ID, Answers: map[string]framework.Answer{}, Declarations: []string{"exclusion", "conflicts", "accurate"}}
		for _, r := range reqs {
			content.Answers[r.ID] = framework.Answer{Meets: framework.AnswerYes, Text: "Live at 40 trusts."}
		}
		draft, _ := content.Encode()
		box := framework.ApplicationBox(fw, lot.ID)
		if err := h.App.Sealed.SaveDraft(ctx, sarah, box, sarah.OrgID, draft); err != nil {
			t.Fatal(err)
		}
		b := h.Browser(t)
		b.SignInAs("demo-supplier")
		app := "/frameworks/" + fw.ID + "/lots/" + lot.ID + "/application"
		for _, site := range []string{"cross-site", "same-site"} {
			if st := postFrom(t, b, h, app+"/check", app+"/submit", site, url.Values{"version": {"0"}}); st != http.StatusForbidden {
				t.Fatalf("%s submit: status %d, want 403", site, st)
			}
		}
		if n, _ := h.App.Sealed.Count(ctx, box); n != 0 {
			t.Fatalf("a cross-site submit sealed %d applications", n)
		}
		if st := postFrom(t, b, h, app+"/check", app+"/submit", "same-origin", url.Values{"version": {"0"}}); st != http.StatusSeeOther {
			t.Fatalf("same-origin submit: status %d", st)
		}
		if st := postFrom(t, b, h, app, app+"/withdraw", "cross-site", url.Values{"version": {"1"}}); st != http.StatusForbidden {
			t.Fatalf("cross-site withdraw: status %d, want 403", st)
		}
		if n, _ := h.App.Sealed.Count(ctx, box); n != 1 {
			t.Fatalf("after a cross-site withdrawal %d applications are in, want 1", n)
		}
	})
}

// TestCrossSiteBoardApprovalRefused (SECURITY.md scenario 11): a
// cross-site or same-site POST approving an award is refused even with a
// valid token, and records nothing; the same POST from the portal goes
// through.
func TestCrossSiteBoardApprovalRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
		ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
		comp, _ := recommendedCompetition(t, h, aisha, ben)
		page := "/competitions/" + comp.ID + "/award"
		b := h.Browser(t)
		b.SignInAs("demo-board-member")
		approvals := func() int {
			a, err := h.App.Award.Approvals(ctx, comp.ID)
			if err != nil {
				t.Fatal(err)
			}
			tr, _ := a.For(aisha.OrgID)
			return tr.Approvals
		}
		for _, site := range []string{"cross-site", "same-site"} {
			if st := postFrom(t, b, h, page, page+"/decision", site, url.Values{"decision": {"approve"}}); st != http.StatusForbidden {
				t.Fatalf("%s approval: status %d, want 403", site, st)
			}
		}
		if n := approvals(); n != 0 {
			t.Fatalf("cross-site approvals recorded %d decisions", n)
		}
		if st := postFrom(t, b, h, page, page+"/decision", "same-origin", url.Values{"decision": {"approve"}}); st != http.StatusSeeOther {
			t.Fatalf("same-origin approval: status %d", st)
		}
		if n := approvals(); n != 1 {
			t.Fatalf("%d approvals after the portal's own POST, want 1", n)
		}
	})
}
