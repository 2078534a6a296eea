package auth_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
)

var mainContent = regexp.MustCompile(`(?s)<main class="nhsuk-main-wrapper" id="maincontent">.*</main>`)

// TestScenario9EveryRefusalLooksTheSame is SECURITY.md scenario 9's
// "refused with a generic message, logged": a bad state, a reused callback
// (and so code), a wrong audience or issuer, an unsigned or expired token
// and a replayed nonce are each refused with exactly the same page, which
// names none of the reasons, while each reason is in the audit log
// (expectRefused). TestCallbackWithBadStateIsRefused,
// TestReplayedCallbackIsRefused, TestTamperedIDTokensAreRefused and
// TestRequiredACR check each refusal on its own.
func TestScenario9EveryRefusalLooksTheSame(t *testing.T) {
	eachWithTamperer(t, func(t *testing.T, h *apptest.Harness, tp *tamperer) {
		key, kid := h.App.DevIdP.SigningKey(), h.App.DevIdP.KeyID()
		first := h.Browser(t)
		used, err := first.AuthorizeAs("demo-trust-lead")
		if err != nil {
			t.Fatal(err)
		}
		if r := first.Follow(used); r.Status != http.StatusOK {
			t.Fatalf("first sign-in: status %d", r.Status)
		}
		earlier := tp.lastOriginalIDToken()

		// refusal signs in through the provider with tamper applied to
		// the token response and edit to the callback URL, and returns the
		// page the portal shows.
		refusal := func(t *testing.T, tamper func(string) (string, error), edit func(url.Values), reason string) string {
			t.Helper()
			tp.set(tamper)
			defer tp.set(nil)
			b := h.Browser(t)
			callback, err := b.AuthorizeAs("demo-trust-lead")
			if err != nil {
				t.Fatal(err)
			}
			if edit != nil {
				callback = withQuery(t, callback, edit)
			}
			f := startFailureCheck(t, h)
			r := b.Get(callback)
			tp.checkErr(t)
			f.expectRefused(t, b, r, reason)
			return r.Body
		}
		pages := map[string]string{
			"bad state": refusal(t, nil, func(q url.Values) { q.Set("state", q.Get("state")+"x") }, "state does not match"),
			"wrong audience": refusal(t, resign(key, kid, func(c map[string]any) { c["aud"] = "someone-else" }), nil,
				"expected audience"),
			"wrong issuer": refusal(t, resign(key, kid, func(c map[string]any) { c["iss"] = "https://idp.example.com/dev-idp" }), nil,
				"issued by a different provider"),
			"expired": refusal(t, resign(key, kid, func(c map[string]any) { c["exp"] = h.Clock.Now().Add(-time.Hour).Unix() }), nil,
				"expired"),
			"unsigned":        refusal(t, algNone, nil, "ID token rejected"),
			"replayed nonce":  refusal(t, func(string) (string, error) { return earlier, nil }, nil, "nonce does not match"),
			"reused callback": "",
		}
		{
			// The first browser's callback, used once already, after
			// signing out.
			if r := first.PostForm("/", "/sign-out", nil); r.Status != http.StatusSeeOther {
				t.Fatalf("sign out: status %d", r.Status)
			}
			f := startFailureCheck(t, h)
			r := first.Get(used)
			f.expectRefused(t, first, r, "no sign-in attempt cookie")
			pages["reused callback"] = r.Body
		}

		var want, wantFrom string
		for name, body := range pages {
			m := mainContent.FindString(body)
			if m == "" {
				t.Fatalf("%s: no main content in the page", name)
			}
			if !strings.Contains(m, "Sign-in failed") || !strings.Contains(m, `href="/sign-in"`) {
				t.Errorf("%s: the page does not say sign-in failed and how to try again:\n%s", name, m)
			}
			low := strings.ToLower(m)
			for _, secret := range []string{"state", "nonce", "audience", "issuer", "expired", "signature", "token", "acr", "code"} {
				if strings.Contains(low, secret) {
					t.Errorf("%s: the page tells the reason (%q):\n%s", name, secret, m)
				}
			}
			if want == "" {
				want, wantFrom = m, name
			} else if m != want {
				t.Errorf("the page for %s differs from the one for %s:\n%s\n---\n%s", name, wantFrom, m, want)
			}
		}
	})
}
