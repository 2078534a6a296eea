package auth_test

// These tests drive sign-in and sign-out end to end against the whole portal
// (apptest) and the real in-process OpenID Provider (devidp): nothing of
// go-oidc or oauth2 is mocked. Where a test needs a token the provider would
// never issue (wrong audience, expired, badly signed...), a RoundTripper on
// the portal's own HTTP client (app.Options.HTTPClient) rewrites the token
// endpoint's response, re-signing the ID token with the provider's real key
// so that exactly one thing differs from a genuine token.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/auth"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/devidp"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// Cookie names the portal uses over plain http (the harness listens on
// http://127.0.0.1; over https they carry the __Host- prefix).
const (
	portalSessionCookie = "portal_session"
	portalAttemptCookie = "portal_signin"
)

// TestSignInSucceeds is the baseline the refusals below are measured
// against: the real flow signs a demo user in, acting for their trust, and
// audits it.
func TestSignInSucceeds(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		r := b.SignInAs("demo-trust-lead")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Acting for") {
			t.Fatalf("after sign-in: status %d, want 200 with \"Acting for\"", r.Status)
		}
		if !strings.Contains(r.Body, "St George") || !strings.Contains(r.Body, `data-testid="signed-in-as"`) {
			t.Errorf("signed-in page does not show the person acting for St George's")
		}
		u := userBySubject(t, h, "demo-trust-lead")
		es := auditEntries(t, h, "auth.sign_in", audit.Success)
		if len(es) != 1 {
			t.Fatalf("auth.sign_in success entries = %d, want 1", len(es))
		}
		if e := es[0]; e.ActorUserID != u.ID || e.ObjectType != "user" || e.ObjectID != u.ID || e.ActingOrgID == "" {
			t.Errorf("sign-in audit entry = %+v, want actor and object %s with an acting organisation", e, u.ID)
		}
		if n := countRows(t, h, "sessions", "user_id = ?", u.ID); n != 1 {
			t.Errorf("sessions for the user = %d, want 1", n)
		}
		if n := countRows(t, h, "login_attempts", "1 = 1"); n != 0 {
			t.Errorf("login attempts left after the callback = %d, want 0 (each is used once)", n)
		}
		if len(auditEntries(t, h, "auth.sign_in", audit.Failure)) != 0 {
			t.Errorf("a successful sign-in recorded a failure")
		}
	})
}

// TestCallbackWithBadStateIsRefused: the callback must carry the state of
// this browser's attempt; anything else is refused, audited, and uses up the
// attempt.
func TestCallbackWithBadStateIsRefused(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(q url.Values)
		reason string
	}{
		{"changed state", func(q url.Values) { q.Set("state", q.Get("state")+"x") }, "state does not match"},
		{"missing state", func(q url.Values) { q.Del("state") }, "state does not match"},
		{"provider error", func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }, "provider returned error access_denied"},
		{"missing code", func(q url.Values) { q.Del("code") }, "no authorisation code"},
	}
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				b := h.Browser(t)
				callback, err := b.AuthorizeAs("demo-trust-lead")
				if err != nil {
					t.Fatal(err)
				}
				bad := withQuery(t, callback, tc.edit)
				f := startFailureCheck(t, h)
				r := b.Get(bad)
				f.expectRefused(t, b, r, tc.reason)

				// The refused callback used up the attempt: the genuine
				// callback URL no longer works in this browser either.
				f = startFailureCheck(t, h)
				r = b.Get(callback)
				f.expectRefused(t, b, r, "no sign-in attempt cookie")
			})
		}
	})
}

// TestReplayedCallbackIsRefused: a callback URL (code and state) works once,
// in the browser that started the sign-in, and the provider itself will not
// exchange a code twice.
func TestReplayedCallbackIsRefused(t *testing.T) {
	eachWithTamperer(t, func(t *testing.T, h *apptest.Harness, tp *tamperer) {
		a := h.Browser(t)
		callback, err := a.AuthorizeAs("demo-trust-lead")
		if err != nil {
			t.Fatal(err)
		}
		attempt := jarCookie(t, h, a, portalAttemptCookie)
		if attempt == "" {
			t.Fatal("no sign-in attempt cookie before the callback")
		}
		if r := a.Follow(callback); r.Status != http.StatusOK || !strings.Contains(r.Body, "Acting for") {
			t.Fatalf("first use of the callback: status %d, want 200 signed in", r.Status)
		}

		t.Run("provider refuses a second exchange of the code", func(t *testing.T) {
			body, authHeader := tp.lastTokenRequest()
			form, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatal(err)
			}
			cbURL, _ := url.Parse(callback)
			if form.Get("code") == "" || form.Get("code") != cbURL.Query().Get("code") || form.Get("code_verifier") == "" {
				t.Fatalf("captured token request %q does not redeem the callback's code with PKCE", form.Encode())
			}
			if authHeader == "" && form.Get("client_secret") == "" {
				t.Fatal("captured token request carries no client authentication")
			}
			before := countRows(t, h, "sessions", "1 = 1")
			req, _ := http.NewRequest(http.MethodPost, h.URL+tp.path(), bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if authHeader != "" {
				req.Header.Set("Authorization", authHeader)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var out struct {
				Error   string `json:"error"`
				IDToken string `json:"id_token"`
			}
			_ = json.Unmarshal(raw, &out)
			if resp.StatusCode != http.StatusBadRequest || out.Error != "invalid_grant" || out.IDToken != "" {
				t.Errorf("second exchange of the code: status %d body %s, want 400 invalid_grant", resp.StatusCode, raw)
			}
			if after := countRows(t, h, "sessions", "1 = 1"); after != before {
				t.Errorf("sessions %d -> %d after replaying the code at the provider", before, after)
			}
		})

		t.Run("another browser without the attempt cookie", func(t *testing.T) {
			b := h.Browser(t)
			f := startFailureCheck(t, h)
			f.expectRefused(t, b, b.Get(callback), "no sign-in attempt cookie")
		})

		t.Run("another browser with a copy of the attempt cookie", func(t *testing.T) {
			b := h.Browser(t)
			setJarCookie(t, h, b, portalAttemptCookie, attempt)
			f := startFailureCheck(t, h)
			f.expectRefused(t, b, b.Get(callback), "sign-in attempt unknown or already used")
		})

		t.Run("same browser after signing out", func(t *testing.T) {
			if r := a.PostForm("/", "/sign-out", nil); r.Status != http.StatusSeeOther {
				t.Fatalf("sign out: status %d, want 303", r.Status)
			}
			f := startFailureCheck(t, h)
			f.expectRefused(t, a, a.Get(callback), "no sign-in attempt cookie")

			// Even with the old attempt cookie put back.
			setJarCookie(t, h, a, portalAttemptCookie, attempt)
			f = startFailureCheck(t, h)
			f.expectRefused(t, a, a.Get(callback), "sign-in attempt unknown or already used")
		})
	})
}

// TestTamperedIDTokensAreRefused changes one thing at a time in the ID token
// the provider returns and checks the portal refuses each.
func TestTamperedIDTokensAreRefused(t *testing.T) {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	eachWithTamperer(t, func(t *testing.T, h *apptest.Harness, tp *tamperer) {
		key, kid := h.App.DevIdP.SigningKey(), h.App.DevIdP.KeyID()

		// Control: re-signing the genuine claims with the provider's key
		// changes nothing, so each refusal below is down to its one change.
		tp.set(resign(key, kid, func(map[string]any) {}))
		r := h.Browser(t).SignInAs("demo-trust-lead")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Acting for") {
			t.Fatalf("re-signed but unchanged ID token: status %d, want 200 signed in", r.Status)
		}
		if tp.tamperedCount() != 1 {
			t.Fatalf("tampered %d token responses, want 1", tp.tamperedCount())
		}
		tp.checkErr(t)
		earlier := tp.lastOriginalIDToken()
		if c, err := claimsOf(earlier); err != nil || c["nonce"] == nil || c["aud"] == nil {
			t.Fatalf("recorded ID token has no nonce or aud: %v %v", c, err)
		}

		cases := []struct {
			name   string
			tamper func(raw string) (string, error)
			reason []string
		}{
			{"wrong audience", resign(key, kid, func(c map[string]any) { c["aud"] = "someone-else" }),
				[]string{"ID token rejected", "expected audience"}},
			{"wrong issuer", resign(key, kid, func(c map[string]any) { c["iss"] = "https://idp.example.com/dev-idp" }),
				[]string{"ID token rejected", "issued by a different provider"}},
			{"expired", resign(key, kid, func(c map[string]any) { c["exp"] = h.Clock.Now().Add(-time.Hour).Unix() }),
				[]string{"ID token rejected", "expired"}},
			{"signed by another key with the same kid", resign(otherKey, kid, func(map[string]any) {}),
				[]string{"ID token rejected", "signature"}},
			{"claims edited after signing", editPayloadKeepSignature(func(c map[string]any) { c["sub"] = "demo-platform-admin" }),
				[]string{"ID token rejected", "signature"}},
			{"unsigned (alg none)", algNone,
				[]string{"ID token rejected"}},
			{"replayed token from an earlier sign-in (old nonce)", func(string) (string, error) { return earlier, nil },
				[]string{"nonce does not match"}},
			{"nonce removed", resign(key, kid, func(c map[string]any) { delete(c, "nonce") }),
				[]string{"nonce does not match"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tp.set(tc.tamper)
				defer tp.set(nil)
				before := tp.tamperedCount()
				b := h.Browser(t)
				callback, err := b.AuthorizeAs("demo-trust-lead")
				if err != nil {
					t.Fatal(err)
				}
				f := startFailureCheck(t, h)
				r := b.Get(callback)
				tp.checkErr(t)
				if tp.tamperedCount() != before+1 {
					t.Fatalf("the token response was not tampered with (%d -> %d)", before, tp.tamperedCount())
				}
				f.expectRefused(t, b, r, tc.reason...)
			})
		}
	})
}

// TestRequiredACR covers the assurance-level check. The development
// provider's relying-party configuration is built inside app.New with no
// RequiredACR, and config.Config cannot set one for it; the development
// provider also never issues an acr claim. So this test builds its own
// Authenticator for the same provider and registered client, with
// RequiredACR set, and drives it through the real provider. The client secret
// is random at each start and not exported: it is read from the portal's own
// token request as it passes through the test's HTTP client.
func TestRequiredACR(t *testing.T) {
	eachWithTamperer(t, func(t *testing.T, h *apptest.Harness, tp *tamperer) {
		if r := h.Browser(t).SignInAs("demo-trust-lead"); r.Status != http.StatusOK {
			t.Fatalf("sign-in through the portal: status %d", r.Status)
		}
		clientID, secret := tp.clientCredentials(t)
		if clientID != "portal-development" || secret == "" {
			t.Fatalf("captured client %q with secret set %v", clientID, secret != "")
		}
		required := []string{"AAL3", "AAL2"}
		acr := auth.NewAuthenticator(auth.Authenticator{
			DB: h.App.Auth.DB, Audit: h.App.Auth.Audit, Clock: h.App.Auth.Clock,
			Sessions: h.App.Auth.Sessions, HTTPClient: h.App.Auth.HTTPClient,
		}, h.URL, []config.Provider{{
			ID: app.DevProviderID, Label: "Development sign-in requiring AAL2+", Issuer: app.DevIssuer(h.App.Config),
			ClientID: clientID, ClientSecret: secret, Scopes: []string{"openid", "profile", "email"},
			RoleSource: "nrbac", RoleMap: map[string]string{}, RequiredACR: required,
		}})
		ctx := context.Background()
		const ip = "192.0.2.10"
		signIn := func(t *testing.T) (*auth.Result, error) {
			t.Helper()
			authURL, attempt, err := acr.Begin(ctx, app.DevProviderID, "/")
			if err != nil {
				t.Fatal(err)
			}
			if u, _ := url.Parse(authURL); u.Query().Get("acr_values") != "AAL3 AAL2" {
				t.Errorf("authorisation request acr_values = %q, want %q", u.Query().Get("acr_values"), "AAL3 AAL2")
			}
			callback := authorizeAt(t, h.Browser(t), authURL, "demo-trust-lead")
			u, err := url.Parse(callback)
			if err != nil {
				t.Fatal(err)
			}
			return acr.Complete(ctx, app.DevProviderID, attempt, u.Query(), ip)
		}
		key, kid := h.App.DevIdP.SigningKey(), h.App.DevIdP.KeyID()

		refused := []struct {
			name   string
			tamper func(string) (string, error)
			reason string
		}{
			{"no acr claim", nil, `assurance level "" is not one of those required`},
			{"acr below the required levels", resign(key, kid, func(c map[string]any) { c["acr"] = "AAL1" }), `assurance level "AAL1"`},
			{"acr differing in case", resign(key, kid, func(c map[string]any) { c["acr"] = "aal3" }), `assurance level "aal3"`},
			{"acr not a string", resign(key, kid, func(c map[string]any) { c["acr"] = []string{"AAL3"} }), `assurance level ""`},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				tp.set(tc.tamper)
				defer tp.set(nil)
				sessions := countRows(t, h, "sessions", "1 = 1")
				failures := len(auditEntries(t, h, "auth.sign_in", audit.Failure))
				res, err := signIn(t)
				tp.checkErr(t)
				var sie *auth.SignInError
				if !errors.As(err, &sie) || res != nil {
					t.Fatalf("Complete = %v, %v; want a SignInError", res, err)
				}
				if !strings.Contains(sie.Reason, tc.reason) {
					t.Errorf("reason = %q, want it to contain %q", sie.Reason, tc.reason)
				}
				if n := countRows(t, h, "sessions", "1 = 1"); n != sessions {
					t.Errorf("sessions %d -> %d on a refused sign-in", sessions, n)
				}
				es := auditEntries(t, h, "auth.sign_in", audit.Failure)
				if len(es) != failures+1 {
					t.Fatalf("failure audit entries %d -> %d, want one more", failures, len(es))
				}
				if e := es[len(es)-1]; !strings.Contains(e.Detail, "assurance level") || e.IP != ip || e.ObjectID != app.DevProviderID {
					t.Errorf("failure audit entry = %+v", e)
				}
			})
		}

		t.Run("acr among the required levels", func(t *testing.T) {
			tp.set(resign(key, kid, func(c map[string]any) { c["acr"] = "AAL2" }))
			defer tp.set(nil)
			res, err := signIn(t)
			tp.checkErr(t)
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if res.SessionToken == "" || res.SignIn == nil || res.SignIn.User.Subject != "demo-trust-lead" || res.ReturnTo != "/" {
				t.Fatalf("result = %+v", res)
			}
			// The session it made is a real portal session.
			b := h.Browser(t)
			setJarCookie(t, h, b, portalSessionCookie, res.SessionToken)
			if r := b.Get("/"); !strings.Contains(r.Body, "Sign out") || !strings.Contains(r.Body, "Acting for") {
				t.Errorf("session from the ACR sign-in does not work in the portal (status %d)", r.Status)
			}
		})
	})
}

// TestClaimsNamingUnknownOrganisationOrRole: a person whose claims name an
// organisation the portal does not know, or a role code the provider's map
// does not list, is signed in with no roles and told whom to ask.
func TestClaimsNamingUnknownOrganisationOrRole(t *testing.T) {
	stranger := devidp.User{
		Subject: "stranger", Name: "Stan Ranger", Email: "stan@example.com",
		Claims: map[string]any{"nhsid_nrbac_roles": []any{
			map[string]any{"org_code": "ZZZ99", "role_code": "trust_lead"},
			map[string]any{"org_code": "RJ7", "role_code": "R9999"},
		}},
	}
	eachKind(t, staticDevUsers(stranger), func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		callback, err := b.AuthorizeAs("stranger")
		if err != nil {
			t.Fatal(err)
		}
		r := b.Get(callback)
		if r.Status != http.StatusSeeOther || r.Location != "/no-access" {
			t.Fatalf("callback: status %d location %q, want 303 to /no-access", r.Status, r.Location)
		}
		r = b.Get(r.Location)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "procurement lead") || !strings.Contains(r.Body, "Stan Ranger") {
			t.Fatalf("/no-access: status %d, want 200 naming the person and whom to ask", r.Status)
		}
		if !strings.Contains(r.Body, h.App.Config.SupportEmail) {
			t.Errorf("/no-access does not give the support email %s", h.App.Config.SupportEmail)
		}
		u := userBySubject(t, h, "stranger")
		if u.Name != "Stan Ranger" || u.Email != "stan@example.com" || u.Issuer != app.DevIssuer(h.App.Config) {
			t.Errorf("user = %+v", u)
		}
		if n := countRows(t, h, "memberships", "user_id = ?", u.ID); n != 0 {
			t.Errorf("memberships = %d, want 0", n)
		}
		for _, path := range []string{"/admin", "/admin/users", "/audit"} {
			r := b.Get(path)
			switch {
			case r.Status == http.StatusForbidden:
			case (r.Status == http.StatusSeeOther || r.Status == http.StatusFound) && r.Location == "/no-access":
			default:
				t.Errorf("GET %s: status %d location %q, want 403 or a redirect to /no-access", path, r.Status, r.Location)
			}
		}
		es := auditEntries(t, h, "auth.sign_in", audit.Success)
		if len(es) != 1 || es[0].ActorUserID != u.ID || !strings.Contains(es[0].Detail, `"roles":0`) || !strings.Contains(es[0].Detail, `"unmatched_claims":1`) {
			t.Errorf("sign-in audit entries = %+v, want one with roles 0 and unmatched_claims 1", es)
		}
	})
}

// TestClaimedRolesFollowTheProvider: roles that map are applied at sign-in,
// and the next sign-in replaces them with whatever the provider says then,
// leaving roles granted in the portal alone.
func TestClaimedRolesFollowTheProvider(t *testing.T) {
	var mu sync.Mutex
	var roles []any
	setRoles := func(rs ...any) {
		mu.Lock()
		defer mu.Unlock()
		roles = rs
	}
	users := func(context.Context) ([]devidp.User, error) {
		mu.Lock()
		defer mu.Unlock()
		return []devidp.User{{
			Subject: "nrbac-user", Name: "Nia Roberts", Email: "nia.roberts@stgeorges.example.nhs.uk",
			Claims: map[string]any{"nhsid_nrbac_roles": roles},
		}}, nil
	}
	eachKind(t, func(_ *config.Config, opt *app.Options) { opt.DevUsers = users }, func(t *testing.T, h *apptest.Harness) {
		stGeorges := organisationByODS(t, h, "RJ7")

		setRoles(map[string]any{"org_code": "rj7", "role_code": "trust_lead"})
		r := h.Browser(t).SignInAs("nrbac-user")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Acting for") || !strings.Contains(r.Body, "St George") ||
			!strings.Contains(r.Body, authz.TrustLead.Label()) {
			t.Fatalf("first sign-in: status %d, want acting for St George's as %s", r.Status, authz.TrustLead.Label())
		}
		u := userBySubject(t, h, "nrbac-user")
		wantMemberships(t, h, u.ID, heldRole{stGeorges, "trust_lead", "identity_provider"})

		setRoles(map[string]any{"org_code": "RJ7", "role_code": "board_member"})
		r = h.Browser(t).SignInAs("nrbac-user")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "St George") || !strings.Contains(r.Body, authz.BoardMember.Label()) {
			t.Fatalf("second sign-in: status %d, want acting for St George's as %s", r.Status, authz.BoardMember.Label())
		}
		wantMemberships(t, h, u.ID, heldRole{stGeorges, "board_member", "identity_provider"})

		// A role granted in the portal survives the provider dropping all of
		// its own.
		if _, err := h.App.Orgs.Grant(context.Background(), audit.System, u.ID, stGeorges, "evaluator"); err != nil {
			t.Fatal(err)
		}
		setRoles()
		r = h.Browser(t).SignInAs("nrbac-user")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "St George") || !strings.Contains(r.Body, authz.Evaluator.Label()) {
			t.Fatalf("third sign-in: status %d, want acting for St George's as %s", r.Status, authz.Evaluator.Label())
		}
		wantMemberships(t, h, u.ID, heldRole{stGeorges, "evaluator", "portal"})
	})
}

// TestSignOut ends the session in the portal and sends the browser to the
// provider's end-session endpoint.
func TestSignOut(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		if r := b.SignInAs("demo-trust-lead"); r.Status != http.StatusOK {
			t.Fatalf("sign-in: status %d", r.Status)
		}
		token := jarCookie(t, h, b, portalSessionCookie)
		if token == "" {
			t.Fatal("no session cookie after sign-in")
		}
		u := userBySubject(t, h, "demo-trust-lead")

		r := b.PostForm("/", "/sign-out", nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("sign out: status %d, want 303", r.Status)
		}
		end, err := url.Parse(r.Location)
		if err != nil || !strings.Contains(r.Location, "/dev-idp/") || !strings.Contains(r.Location, "id_token_hint") {
			t.Fatalf("sign out redirects to %q, want the provider's end-session endpoint with id_token_hint", r.Location)
		}
		q := end.Query()
		if q.Get("client_id") != "portal-development" || q.Get("post_logout_redirect_uri") != h.URL+"/signed-out" {
			t.Errorf("end-session query = %v", q)
		}
		if c, err := claimsOf(q.Get("id_token_hint")); err != nil || c["sub"] != "demo-trust-lead" || c["iss"] != app.DevIssuer(h.App.Config) {
			t.Errorf("id_token_hint claims = %v (%v), want the signed-in person's ID token", c, err)
		}
		if jarCookie(t, h, b, portalSessionCookie) != "" {
			t.Errorf("session cookie still set in the browser after sign-out")
		}
		if n := countRows(t, h, "sessions", "user_id = ?", u.ID); n != 0 {
			t.Errorf("sessions for the user after sign-out = %d, want 0", n)
		}

		// The old cookie, replayed from elsewhere, no longer works.
		other := h.Browser(t)
		setJarCookie(t, h, other, portalSessionCookie, token)
		home := other.Get("/")
		if strings.Contains(home.Body, "Sign out") || strings.Contains(home.Body, `data-testid="signed-in-as"`) || !strings.Contains(home.Body, `href="/sign-in"`) {
			t.Errorf("the ended session's cookie still signs the browser in")
		}
		if r := other.Get("/admin"); r.Status == http.StatusOK {
			t.Errorf("GET /admin with the ended session's cookie: 200")
		}
		es := auditEntries(t, h, "auth.sign_out", audit.Success)
		if len(es) != 1 || es[0].ActorUserID != u.ID || es[0].ObjectID != u.ID {
			t.Errorf("auth.sign_out entries = %+v, want one for %s", es, u.ID)
		}

		// The provider accepts the request and returns the browser to the
		// portal's signed-out page.
		r = b.Get(r.Location)
		for i := 0; i < 5 && r.Location != "" && !strings.HasPrefix(r.Location, h.URL+"/signed-out") && r.Location != "/signed-out"; i++ {
			r = b.Get(r.Location)
		}
		if !strings.HasPrefix(r.Location, h.URL+"/signed-out") && r.Location != "/signed-out" {
			t.Fatalf("provider's end-session endpoint: status %d location %q, want a redirect to /signed-out", r.Status, r.Location)
		}
		if r = b.Get(r.Location); r.Status != http.StatusOK || strings.Contains(r.Body, "Sign out") {
			t.Errorf("/signed-out: status %d", r.Status)
		}
	})
}

// TestDisabledUserCannotSignIn: a disabled person is refused at the callback
// even though the provider vouches for them.
func TestDisabledUserCannotSignIn(t *testing.T) {
	aisha := devidp.User{Subject: "demo-trust-lead", Name: "Aisha Khan", Email: "aisha.khan@stgeorges.example.nhs.uk"}
	t.Run("portal refuses", func(t *testing.T) {
		// A fixed user list, so the provider keeps offering the person
		// after the portal has disabled them (as a real provider would).
		eachKind(t, staticDevUsers(aisha), func(t *testing.T, h *apptest.Harness) {
			u := userBySubject(t, h, "demo-trust-lead")
			if err := h.App.DB.Exec("UPDATE users SET disabled_at = ? WHERE id = ?", h.Clock.Now(), u.ID).Error; err != nil {
				t.Fatal(err)
			}
			b := h.Browser(t)
			callback, err := b.AuthorizeAs("demo-trust-lead")
			if err != nil {
				t.Fatal(err)
			}
			f := startFailureCheck(t, h)
			f.expectRefused(t, b, b.Get(callback), "user is disabled")
			if after := userBySubject(t, h, "demo-trust-lead"); after.LastLoginAt != nil && (u.LastLoginAt == nil || !after.LastLoginAt.Equal(*u.LastLoginAt)) {
				t.Errorf("refused sign-in recorded a last sign-in time %v", after.LastLoginAt)
			}
		})
	})
	t.Run("development provider no longer offers them", func(t *testing.T) {
		apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
			u := userBySubject(t, h, "demo-trust-lead")
			if err := h.App.DB.Exec("UPDATE users SET disabled_at = ? WHERE id = ?", h.Clock.Now(), u.ID).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := h.Browser(t).TrySignInAs("demo-trust-lead"); err == nil {
				t.Errorf("signing in as a disabled demo user reached the portal callback")
			}
			if n := countRows(t, h, "sessions", "user_id = ?", u.ID); n != 0 {
				t.Errorf("sessions = %d, want 0", n)
			}
		})
	})
}

// TestReturnToAfterSignIn: the page asked for before signing in is where the
// callback sends the browser, but only if it is a path on this site.
func TestReturnToAfterSignIn(t *testing.T) {
	cases := []struct{ returnTo, want string }{
		{"/admin/users?q=khan", "/admin/users?q=khan"},
		{"//evil.example/x", "/"},
		{"/\\evil.example/x", "/"},
		{"https://evil.example/x", "/"},
		{"/ok\r\nSet-Cookie: x=y", "/"},
	}
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		for _, tc := range cases {
			t.Run(tc.returnTo, func(t *testing.T) {
				b := h.Browser(t)
				r := b.Get("/sign-in/" + app.DevProviderID + "?return_to=" + url.QueryEscape(tc.returnTo))
				if r.Status != http.StatusSeeOther || r.Location == "" {
					t.Fatalf("start sign-in: status %d", r.Status)
				}
				r = b.Get(authorizeAt(t, b, r.Location, "demo-trust-lead"))
				if r.Status != http.StatusSeeOther || r.Location != tc.want {
					t.Errorf("callback: status %d location %q, want 303 to %q", r.Status, r.Location, tc.want)
				}
			})
		}
	})
}

// TestSafeReturnTo checks the return-path filter directly, including inputs
// browsers would turn into another site's address.
func TestSafeReturnTo(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/", "/"},
		{"/organisations/abc?x=1#y", "/organisations/abc?x=1#y"},
		{"", "/"},
		{"admin", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/a\r\nLocation: x", "/"},
		// Browsers drop tabs (and newlines) from URLs before parsing them,
		// so these would become //evil.example: an open redirect.
		{"/\t/evil.example", "/"},
		{"/\t\\evil.example", "/"},
		{"/\x7f/evil.example", "/"},
	}
	for _, tc := range cases {
		if got := auth.SafeReturnTo(tc.in); got != tc.want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// ---- harness helpers ----

// eachKind starts a portal per available database with modify applied.
func eachKind(t *testing.T, modify func(*config.Config, *app.Options), fn func(t *testing.T, h *apptest.Harness)) {
	t.Helper()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) { fn(t, apptest.New(t, kind, modify)) })
	}
}

// eachWithTamperer starts a portal per available database whose HTTP client
// (used for discovery, keys and the token exchange) goes through a tamperer.
func eachWithTamperer(t *testing.T, fn func(t *testing.T, h *apptest.Harness, tp *tamperer)) {
	t.Helper()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			tp := &tamperer{base: http.DefaultTransport}
			h := apptest.New(t, kind, func(_ *config.Config, opt *app.Options) {
				opt.HTTPClient = &http.Client{Transport: tp, Timeout: 30 * time.Second}
			})
			tp.setPath(tokenEndpointPath(t, h))
			fn(t, h, tp)
		})
	}
}

func staticDevUsers(users ...devidp.User) func(*config.Config, *app.Options) {
	return func(_ *config.Config, opt *app.Options) {
		opt.DevUsers = func(context.Context) ([]devidp.User, error) { return users, nil }
	}
}

// tokenEndpointPath reads the token endpoint from the provider's discovery
// document.
func tokenEndpointPath(t *testing.T, h *apptest.Harness) string {
	t.Helper()
	resp, err := http.Get(app.DevIssuer(h.App.Config) + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("discovery document: %v", err)
	}
	u, err := url.Parse(doc.TokenEndpoint)
	if err != nil || doc.Issuer != app.DevIssuer(h.App.Config) || !strings.HasPrefix(doc.TokenEndpoint, doc.Issuer+"/") {
		t.Fatalf("discovery: issuer %q token endpoint %q", doc.Issuer, doc.TokenEndpoint)
	}
	return u.Path
}

var (
	authRequestIDPattern = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	loginActionPattern   = regexp.MustCompile(`<form method="post" action="(/dev-idp/[^"]+)"`)
)

// authorizeAt walks the provider's sign-in from an authorisation URL made by
// an Authenticator the test built itself, and returns the callback URL.
func authorizeAt(t *testing.T, b *apptest.Browser, authURL, subject string) string {
	t.Helper()
	r := b.Get(authURL)
	for i := 0; i < 5 && r.Location != "" && !strings.Contains(r.Location, "/dev-idp/login"); i++ {
		r = b.Get(r.Location)
	}
	if r.Location == "" {
		t.Fatalf("authorisation request did not reach the login page: status %d", r.Status)
	}
	login := b.Get(r.Location)
	id := authRequestIDPattern.FindStringSubmatch(login.Body)
	action := loginActionPattern.FindStringSubmatch(login.Body)
	if id == nil || action == nil {
		t.Fatalf("provider login page has no form (status %d)", login.Status)
	}
	r = b.Post(action[1], url.Values{"authRequestID": {id[1]}, "subject": {subject}})
	for i := 0; i < 5 && r.Location != "" && !strings.Contains(r.Location, "/auth/callback/"); i++ {
		r = b.Get(r.Location)
	}
	if !strings.Contains(r.Location, "/auth/callback/") {
		t.Fatalf("provider did not redirect to the callback (status %d, location %q)", r.Status, r.Location)
	}
	return r.Location
}

func withQuery(t *testing.T, raw string, edit func(url.Values)) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	return u.String()
}

func jarCookie(t *testing.T, h *apptest.Harness, b *apptest.Browser, name string) string {
	t.Helper()
	u, _ := url.Parse(h.URL)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func setJarCookie(t *testing.T, h *apptest.Harness, b *apptest.Browser, name, value string) {
	t.Helper()
	u, _ := url.Parse(h.URL)
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// ---- database helpers ----

func countRows(t *testing.T, h *apptest.Harness, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := h.App.DB.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func auditEntries(t *testing.T, h *apptest.Harness, action, outcome string) []audit.Entry {
	t.Helper()
	var es []audit.Entry
	if err := h.App.DB.Where("action = ? AND outcome = ?", action, outcome).Order("seq").Find(&es).Error; err != nil {
		t.Fatalf("read audit entries: %v", err)
	}
	return es
}

func userBySubject(t *testing.T, h *apptest.Harness, subject string) orgs.User {
	t.Helper()
	var u orgs.User
	if err := h.App.DB.Where("issuer = ? AND subject = ?", app.DevIssuer(h.App.Config), subject).First(&u).Error; err != nil {
		t.Fatalf("user %s: %v", subject, err)
	}
	return u
}

func organisationByODS(t *testing.T, h *apptest.Harness, ods string) string {
	t.Helper()
	var ids []string
	if err := h.App.DB.Table("organisations").Where("ods_code = ?", ods).Pluck("id", &ids).Error; err != nil || len(ids) != 1 {
		t.Fatalf("organisation %s: %v %v", ods, ids, err)
	}
	return ids[0]
}

type heldRole struct{ org, role, source string }

func wantMemberships(t *testing.T, h *apptest.Harness, userID string, want ...heldRole) {
	t.Helper()
	var rows []struct {
		OrganisationID string
		Role           string
		Source         string
	}
	if err := h.App.DB.Table("memberships").Select("organisation_id, role, source").Where("user_id = ?", userID).Order("role").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	got := make([]heldRole, len(rows))
	for i, r := range rows {
		got[i] = heldRole{r.OrganisationID, r.Role, r.Source}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("memberships = %v, want %v", got, want)
	}
}

// failureCheck remembers the state before a callback so expectRefused can
// tell what the callback changed.
type failureCheck struct {
	h        *apptest.Harness
	failures int
	sessions int64
}

func startFailureCheck(t *testing.T, h *apptest.Harness) *failureCheck {
	t.Helper()
	return &failureCheck{h: h, failures: len(auditEntries(t, h, "auth.sign_in", audit.Failure)), sessions: countRows(t, h, "sessions", "1 = 1")}
}

// expectRefused checks r is the generic sign-in failure page, that no
// session was made or set, and that exactly one failure was audited with a
// reason containing each of reasons.
func (f *failureCheck) expectRefused(t *testing.T, b *apptest.Browser, r apptest.Response, reasons ...string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Sign-in failed") {
		t.Errorf("callback: status %d location %q, want 400 \"Sign-in failed\"", r.Status, r.Location)
	}
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == portalSessionCookie && c.Value != "" {
			t.Errorf("refused callback set a session cookie")
		}
	}
	if n := countRows(t, f.h, "sessions", "1 = 1"); n != f.sessions {
		t.Errorf("sessions %d -> %d on a refused sign-in", f.sessions, n)
	}
	home := b.Get("/")
	if strings.Contains(home.Body, "Sign out") || strings.Contains(home.Body, `data-testid="signed-in-as"`) {
		t.Errorf("browser is signed in after a refused sign-in")
	}
	es := auditEntries(t, f.h, "auth.sign_in", audit.Failure)
	if len(es) != f.failures+1 {
		t.Errorf("auth.sign_in failure entries %d -> %d, want one more", f.failures, len(es))
		return
	}
	e := es[len(es)-1]
	if e.ActorUserID != "" || e.ObjectType != "identity_provider" || e.ObjectID != app.DevProviderID {
		t.Errorf("failure audit entry = %+v", e)
	}
	var detail struct{ Reason string }
	if err := json.Unmarshal([]byte(e.Detail), &detail); err != nil {
		t.Errorf("failure audit detail %q: %v", e.Detail, err)
	}
	for _, want := range reasons {
		if !strings.Contains(detail.Reason, want) {
			t.Errorf("failure reason %q does not contain %q", detail.Reason, want)
		}
	}
}

// ---- token tampering ----

// tamperer is the portal's HTTP transport in these tests. It passes
// everything through, remembers the last token request, and may replace the
// ID token in the token endpoint's response.
type tamperer struct {
	base http.RoundTripper

	mu        sync.Mutex
	tokenPath string
	tamper    func(raw string) (string, error)
	tampered  int
	originals []string
	lastBody  []byte
	lastAuth  string
	err       error
}

func (tp *tamperer) setPath(p string) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.tokenPath = p
}

func (tp *tamperer) path() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.tokenPath
}

// set installs the function that replaces the next ID tokens (nil: none).
func (tp *tamperer) set(f func(raw string) (string, error)) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.tamper = f
}

func (tp *tamperer) tamperedCount() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.tampered
}

func (tp *tamperer) lastOriginalIDToken() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if len(tp.originals) == 0 {
		return ""
	}
	return tp.originals[len(tp.originals)-1]
}

func (tp *tamperer) lastTokenRequest() (body []byte, authorization string) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return bytes.Clone(tp.lastBody), tp.lastAuth
}

// clientCredentials returns the client ID and secret the portal sent with
// its last token request (HTTP Basic, or in the form).
func (tp *tamperer) clientCredentials(t *testing.T) (string, string) {
	t.Helper()
	body, authorization := tp.lastTokenRequest()
	if authorization != "" {
		req := &http.Request{Header: http.Header{"Authorization": {authorization}}}
		id, secret, ok := req.BasicAuth()
		if !ok {
			t.Fatalf("token request authorization %q is not Basic", strings.SplitN(authorization, " ", 2)[0])
		}
		// RFC 6749 2.3.1: both are form-encoded before Basic encoding.
		id, err1 := url.QueryUnescape(id)
		secret, err2 := url.QueryUnescape(secret)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		return id, secret
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	return form.Get("client_id"), form.Get("client_secret")
}

// checkErr fails t if tampering went wrong inside the transport (which runs
// on the server's goroutines and so cannot fail the test itself).
func (tp *tamperer) checkErr(t *testing.T) {
	t.Helper()
	tp.mu.Lock()
	err := tp.err
	tp.err = nil
	tp.mu.Unlock()
	if err != nil {
		t.Fatalf("tampering transport: %v", err)
	}
}

func (tp *tamperer) fail(err error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.err = errors.Join(tp.err, err)
}

func (tp *tamperer) RoundTrip(req *http.Request) (*http.Response, error) {
	tp.mu.Lock()
	path, tamper := tp.tokenPath, tp.tamper
	tp.mu.Unlock()
	if path == "" || req.Method != http.MethodPost || req.URL.Path != path {
		return tp.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	tp.mu.Lock()
	tp.lastBody, tp.lastAuth = body, req.Header.Get("Authorization")
	tp.mu.Unlock()

	resp, err := tp.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		raw = tp.rewrite(raw, tamper)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	resp.Header.Set("Content-Length", strconv.Itoa(len(raw)))
	return resp, nil
}

// rewrite records the genuine ID token in a token response and, when tamper
// is set, replaces it.
func (tp *tamperer) rewrite(raw []byte, tamper func(string) (string, error)) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tp.fail(fmt.Errorf("token response is not JSON: %w", err))
		return raw
	}
	idt, _ := m["id_token"].(string)
	if idt == "" {
		tp.fail(errors.New("token response has no id_token"))
		return raw
	}
	tp.mu.Lock()
	tp.originals = append(tp.originals, idt)
	tp.mu.Unlock()
	if tamper == nil {
		return raw
	}
	changed, err := tamper(idt)
	if err != nil {
		tp.fail(err)
		return raw
	}
	m["id_token"] = changed
	out, err := json.Marshal(m)
	if err != nil {
		tp.fail(err)
		return raw
	}
	tp.mu.Lock()
	tp.tampered++
	tp.mu.Unlock()
	return out
}

// claimsOf decodes a compact JWT's payload without checking anything.
func claimsOf(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var c map[string]any
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return c, nil
}

// resign returns a tamper function that edits the genuine token's claims and
// signs them with key under kid (RS256), as the provider would.
func resign(key *rsa.PrivateKey, kid string, edit func(claims map[string]any)) func(string) (string, error) {
	return func(raw string) (string, error) {
		c, err := claimsOf(raw)
		if err != nil {
			return "", err
		}
		edit(c)
		signer, err := jose.NewSigner(
			jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			return "", err
		}
		return jwt.Signed(signer).Claims(c).Serialize()
	}
}

// editPayloadKeepSignature changes the claims but keeps the original header
// and signature.
func editPayloadKeepSignature(edit func(claims map[string]any)) func(string) (string, error) {
	return func(raw string) (string, error) {
		c, err := claimsOf(raw)
		if err != nil {
			return "", err
		}
		edit(c)
		payload, err := json.Marshal(c)
		if err != nil {
			return "", err
		}
		parts := strings.Split(raw, ".")
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2], nil
	}
}

// algNone keeps the genuine claims under an "alg":"none" header with an
// empty signature.
func algNone(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a compact JWS: %d parts", len(parts))
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return header + "." + parts[1] + ".", nil
}
