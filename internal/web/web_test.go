package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

func orgID(t *testing.T, h *apptest.Harness, ods string) string {
	t.Helper()
	list, err := h.App.Orgs.Organisations(context.Background(), orgs.KindTrust, ods)
	if err != nil || len(list) != 1 {
		t.Fatalf("trust %s: %v (%d found)", ods, err, len(list))
	}
	return list[0].ID
}

func countAudit(h *apptest.Harness, action, outcome, objectID string) int64 {
	var n int64
	q := h.App.DB.Model(&audit.Entry{}).Where("action = ? AND outcome = ?", action, outcome)
	if objectID != "" {
		q = q.Where("object_id = ?", objectID)
	}
	q.Count(&n)
	return n
}

func signedIn(r apptest.Response) bool { return strings.Contains(r.Body, `data-testid="signed-in-as"`) }

// TestAnotherOrganisationsObjectIs404AndAudited: an ID of another
// organisation edited into the URL gives 404 (revealing nothing) and an audit
// entry, while the person's own organisation is shown.
func TestAnotherOrganisationsObjectIs404AndAudited(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		own := b.Get("/organisations/" + orgID(t, h, "RJ7"))
		if own.Status != http.StatusOK || !strings.Contains(own.Body, "Aisha Khan") {
			t.Fatalf("own organisation: status %d", own.Status)
		}
		other := orgID(t, h, "RJ1")
		res := b.Get("/organisations/" + other)
		if res.Status != http.StatusNotFound || !strings.Contains(res.Body, "Page not found") {
			t.Fatalf("other trust: status %d; want the 404 page", res.Status)
		}
		if strings.Contains(res.Body, "Guy") {
			t.Fatal("the 404 page names the other trust")
		}
		if countAudit(h, "organisation.read", audit.Denied, other) != 1 {
			t.Fatal("the attempt was not audited")
		}
		// A made-up ID is refused the same way.
		if res := b.Get("/organisations/not-a-real-id"); res.Status != http.StatusNotFound {
			t.Fatalf("unknown id: status %d", res.Status)
		}
	})
}

// TestCSRF: a missing or forged token, or a cross-site request, is refused
// with 403 and audited; nothing changes.
func TestCSRF(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-platform-admin")
		form := url.Values{"kind": {"supplier"}, "name": {"Forged Ltd"}, "companiesHouseNumber": {"01234567"}}
		if res := b.Post("/admin/organisations", form); res.Status != http.StatusForbidden {
			t.Fatalf("missing token: status %d", res.Status)
		}
		form.Set("_csrf", "forged-token-value-forged-token-v")
		if res := b.Post("/admin/organisations", form); res.Status != http.StatusForbidden {
			t.Fatalf("forged token: status %d", res.Status)
		}
		form.Set("_csrf", b.CSRF("/admin/organisations/new"))
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/admin/organisations", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site post with a valid token: status %d", resp.StatusCode)
		}
		if n := countAudit(h, "request.csrf_refused", audit.Denied, ""); n != 3 {
			t.Fatalf("%d CSRF refusals audited, want 3", n)
		}
		list, _ := h.App.Orgs.Organisations(context.Background(), orgs.KindSupplier, "Forged")
		if len(list) != 0 {
			t.Fatal("a refused request created an organisation")
		}
		// With the token the same request works.
		if res := b.Post("/admin/organisations", form); res.Status != http.StatusSeeOther {
			t.Fatalf("valid post: status %d", res.Status)
		}
	})
}

// TestMalformedFormKeepsInput: the form comes back with the NHS.UK error
// summary, the message beside the field and what was typed.
func TestMalformedFormKeepsInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-platform-admin")
		res := b.PostForm("/admin/organisations/new", "/admin/organisations", url.Values{
			"kind": {"trust"}, "name": {"Riverside Community NHS Trust"}, "odsCode": {"R!"}, "region": {"Y56"},
		})
		if res.Status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", res.Status)
		}
		for _, want := range []string{"nhsuk-error-summary", `href="#odsCode"`, "Enter the trust", `value="Riverside Community NHS Trust"`, `value="R!"`, "Error: "} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("response lacks %q", want)
			}
		}
		// The check-your-answers step shows the answers before saving.
		check := b.PostForm("/admin/organisations/new", "/admin/organisations/new", url.Values{
			"kind": {"supplier"}, "name": {"Harbour Health IT Ltd"}, "companiesHouseNumber": {"08765432"},
		})
		if check.Status != http.StatusOK || !strings.Contains(check.Body, "Check the organisation") || !strings.Contains(check.Body, "08765432") {
			t.Fatalf("check page: status %d", check.Status)
		}
		list, _ := h.App.Orgs.Organisations(context.Background(), orgs.KindSupplier, "Harbour")
		if len(list) != 0 {
			t.Fatal("the check page saved the organisation")
		}
	})
}

// TestDisablingAUserEndsTheirSessions: an administrator disables a user and
// the user's open session stops working at once.
func TestDisablingAUserEndsTheirSessions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		lead := h.Browser(t)
		if !signedIn(lead.SignInAs("demo-trust-lead")) {
			t.Fatal("trust lead not signed in")
		}
		admin := h.Browser(t)
		admin.SignInAs("demo-platform-admin")
		id := h.UserID(t, "demo-trust-lead")
		res := admin.PostForm("/admin/users/"+id, "/admin/users/"+id+"/disable", nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("disable: status %d", res.Status)
		}
		if after := lead.Get("/"); signedIn(after) {
			t.Fatal("disabled user still signed in")
		}
		var sessions int64
		h.App.DB.Table("sessions").Where("user_id = ?", id).Count(&sessions)
		if sessions != 0 {
			t.Fatalf("%d sessions remain", sessions)
		}
		if countAudit(h, "user.disable", audit.Success, id) != 1 {
			t.Fatal("disabling was not audited")
		}
		// An administrator cannot lock themselves out.
		self := h.UserID(t, "demo-platform-admin")
		if res := admin.PostForm("/admin/users/"+self, "/admin/users/"+self+"/disable", nil); res.Status != http.StatusBadRequest {
			t.Fatalf("self-disable: status %d, want 400", res.Status)
		}
	})
}

// TestRoleChangesTakeEffectWithoutRestart: revoking a role is enforced on
// the next request on this instance, and by a second instance sharing the
// database within 2 seconds.
func TestRoleChangesTakeEffectWithoutRestart(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		second := apptest.NewOn(t, h.Kind, h.DSN, h.Clock.Now(), nil)
		auditor := h.Browser(t)
		auditor.SignInAs("demo-auditor")
		if res := auditor.Get("/audit"); res.Status != http.StatusOK {
			t.Fatalf("auditor: status %d", res.Status)
		}
		ctx := context.Background()
		id := h.UserID(t, "demo-auditor")
		ms, _ := h.App.Orgs.MembershipsOf(ctx, id)
		domain := authz.Domain(ms[0].Organisation.Kind, ms[0].OrganisationID)
		if !second.App.Authz.Allowed(id, domain, "audit", "read") {
			t.Fatal("second instance does not know the auditor's role")
		}
		if err := h.App.Orgs.Revoke(ctx, audit.System, id, ms[0].ID); err != nil {
			t.Fatal(err)
		}
		if res := auditor.Get("/audit"); res.Status == http.StatusOK {
			t.Fatal("revoked role still works on the same instance")
		}
		deadline := time.Now().Add(2 * time.Second)
		for second.App.Authz.Allowed(id, domain, "audit", "read") {
			if time.Now().After(deadline) {
				t.Fatal("revoked role still allowed by the second instance after 2 seconds")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestSessionTimeouts: a session ends after the idle timeout, and after the
// absolute timeout however active it is.
func TestSessionTimeouts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-evaluator")
		h.Clock.Advance(29 * time.Minute)
		if !signedIn(b.Get("/")) {
			t.Fatal("signed out before the idle timeout")
		}
		h.Clock.Advance(31 * time.Minute)
		if signedIn(b.Get("/")) {
			t.Fatal("still signed in after 31 idle minutes")
		}
		b.SignInAs("demo-evaluator")
		for i := 0; i < 26; i++ { // 26 × 28 minutes = just over 12 hours
			h.Clock.Advance(28 * time.Minute)
			if r := b.Get("/"); !signedIn(r) && i < 25 {
				t.Fatalf("signed out early, after %d steps", i+1)
			}
		}
		if signedIn(b.Get("/")) {
			t.Fatal("still signed in after the absolute timeout")
		}
	})
}

// TestChoosingAnOrganisation: a person with roles in two organisations picks
// one; the header shows it; a made-up choice is refused with an error.
func TestChoosingAnOrganisation(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		london, _ := h.App.Orgs.Organisations(ctx, orgs.KindConsortium, orgs.DemoLondon)
		if _, err := h.App.Orgs.Grant(ctx, audit.System, h.UserID(t, "demo-evaluator"), london[0].ID, "evaluator"); err != nil {
			t.Fatal(err)
		}
		b := h.Browser(t)
		page := b.SignInAs("demo-evaluator")
		if !strings.Contains(page.Body, "Which organisation are you acting for?") {
			t.Fatal("not asked to choose an organisation")
		}
		bad := b.PostForm("/choose-organisation", "/choose-organisation", url.Values{"organisation": {orgID(t, h, "RJ1")}})
		if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, "Select the organisation you are acting for") {
			t.Fatalf("choosing an organisation without a role there: status %d", bad.Status)
		}
		res := b.PostForm("/choose-organisation", "/choose-organisation", url.Values{"organisation": {london[0].ID}, "return_to": {"/"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("choose: status %d", res.Status)
		}
		home := b.Get("/")
		if !strings.Contains(home.Body, "Acting for <strong>"+orgs.DemoLondon) || !strings.Contains(home.Body, "change") {
			t.Fatal("header does not show the chosen organisation")
		}
	})
}

// TestShellHeadersAndProbes checks the headers every page carries, the
// friendly 404, and the health, readiness and metrics endpoints.
func TestShellHeadersAndProbes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		res := b.Get("/")
		want := map[string]string{
			"Content-Security-Policy": "frame-ancestors 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-store",
			"X-Request-Id":            "",
		}
		for name, part := range want {
			if v := res.Header.Get(name); v == "" || !strings.Contains(v, part) {
				t.Errorf("header %s = %q, want it to contain %q", name, v, part)
			}
		}
		if strings.Contains(res.Header.Get("Content-Security-Policy"), "unsafe-inline") {
			t.Error("CSP allows inline script or style")
		}
		if res.Header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS sent outside production over http")
		}
		if nf := b.Get("/no-such-page"); nf.Status != http.StatusNotFound || !strings.Contains(nf.Body, "Page not found") {
			t.Errorf("404 page: status %d", nf.Status)
		}
		for path, want := range map[string]string{"/healthz": "alive", "/readyz": "ready", "/metrics": "portal_http_requests_total"} {
			r := b.Get(path)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, want) {
				t.Errorf("%s: status %d, body lacks %q", path, r.Status, want)
			}
		}
		if r := b.Get("/static/nhsuk/nhsuk-frontend.min.css"); r.Status != http.StatusOK {
			t.Errorf("NHS.UK frontend stylesheet: status %d (run make assets)", r.Status)
		}
	})
}

// TestServerErrorPageRevealsNothing: with the database gone, a signed-in
// page that reads it fails closed with the generic 500 page (no detail)
// and /readyz says the instance is not ready while /healthz still says it
// is alive. (The dashboard itself may still be served: what it shows of
// the person is remembered, see viewerCache.)
func TestServerErrorPageRevealsNothing(t *testing.T) {
	h := apptest.New(t, "sqlite", nil)
	b := h.Browser(t)
	b.SignInAs("demo-trust-lead")
	if err := h.App.DB.Close(); err != nil {
		t.Fatal(err)
	}
	res := b.Get("/notifications")
	if res.Status != http.StatusInternalServerError || !strings.Contains(res.Body, "Sorry, there is a problem with the service") {
		t.Fatalf("status %d; want the 500 page", res.Status)
	}
	for _, leak := range []string{"sql", "database is closed", "gorm"} {
		if strings.Contains(strings.ToLower(res.Body), leak) {
			t.Errorf("500 page reveals %q", leak)
		}
	}
	if r := b.Get("/readyz"); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz: status %d, want 503", r.Status)
	}
	if r := b.Get("/healthz"); r.Status != http.StatusOK {
		t.Errorf("/healthz: status %d, want 200", r.Status)
	}
}

// TestSigningInAgainEndsThePreviousSession: the browser's older session is
// removed, not left alive beside the new one.
func TestSigningInAgainEndsThePreviousSession(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		b.SignInAs("demo-trust-lead")
		var n int64
		h.App.DB.Table("sessions").Where("user_id = ?", h.UserID(t, "demo-trust-lead")).Count(&n)
		if n != 1 {
			t.Fatalf("%d sessions after signing in twice in one browser, want 1", n)
		}
	})
}

// TestUnknownRoleInRoleMapStopsStartUp: a typo in a provider's role map is
// caught at start-up, naming the variable.
func TestUnknownRoleInRoleMapStopsStartUp(t *testing.T) {
	cfg := h0Config(t)
	cfg.Providers = []config.Provider{{ID: "cis2", Issuer: "https://idp.example", ClientID: "portal", RoleMap: map[string]string{"R8000": "trust-lead"}}}
	_, err := app.New(context.Background(), cfg, storetest.Open(t, "sqlite"), app.Options{})
	if err == nil || !strings.Contains(err.Error(), "PORTAL_OIDC_CIS2_ROLE_MAP") {
		t.Fatalf("got %v; want an error naming PORTAL_OIDC_CIS2_ROLE_MAP", err)
	}
}

func h0Config(t *testing.T) config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(name string) string {
		if name == "PORTAL_DATA_DIR" {
			return dir
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCookiesOverHTTPS: behind an https base URL the cookies the portal sets
// are __Host- prefixed, Secure, HttpOnly and SameSite=Lax. (The provider at
// that address does not exist here, so only the CSRF cookie is set.)
func TestCookiesOverHTTPS(t *testing.T) {
	h := apptest.New(t, "sqlite", func(cfg *config.Config, _ *app.Options) {
		cfg.BaseURL = "https://procurement.example.nhs.uk"
	})
	res := h.Browser(t).Get("/sign-in/" + app.DevProviderID)
	cookies := (&http.Response{Header: res.Header}).Cookies()
	if len(cookies) == 0 || cookies[0].Name != "__Host-portal_csrf" {
		t.Fatalf("cookies %v; want __Host-portal_csrf", cookies)
	}
	for _, ck := range cookies {
		if !strings.HasPrefix(ck.Name, "__Host-") || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("cookie %s: secure=%v httponly=%v samesite=%v path=%q domain=%q", ck.Name, ck.Secure, ck.HttpOnly, ck.SameSite, ck.Path, ck.Domain)
		}
	}
}

// TestSealedEntriesHiddenFromAdministrators: audit entries about sealed
// submissions name who applied, so only auditors see them.
func TestSealedEntriesHiddenFromAdministrators(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		ev := audit.Event{Action: "sealed.submit", ObjectType: "sealed_submission", ObjectID: "box-secret-marker"}
		if err := h.App.Audit.Record(ctx, h.App.DB, audit.Actor{Label: "Meridian bidder"}, ev); err != nil {
			t.Fatal(err)
		}
		admin := h.Browser(t)
		admin.SignInAs("demo-platform-admin")
		if r := admin.Get("/audit"); r.Status != http.StatusOK || strings.Contains(r.Body, "box-secret-marker") {
			t.Fatalf("administrator's audit page (status %d) shows a sealed entry", r.Status)
		}
		auditor := h.Browser(t)
		auditor.SignInAs("demo-auditor")
		if r := auditor.Get("/audit"); !strings.Contains(r.Body, "box-secret-marker") {
			t.Fatal("auditor cannot see the sealed entry")
		}
	})
}
