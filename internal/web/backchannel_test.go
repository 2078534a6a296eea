package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
)

// logoutToken signs a back-channel logout token as the development provider
// would, with edit applied to the claims.
func logoutToken(t *testing.T, h *apptest.Harness, typ string, key *rsa.PrivateKey, edit func(map[string]any)) string {
	t.Helper()
	now := h.Clock.Now()
	claims := map[string]any{
		"iss": app.DevIssuer(h.App.Config), "aud": "portal-development", "sub": "demo-trust-lead",
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "logout-1",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	if edit != nil {
		edit(claims)
	}
	if key == nil {
		key = h.App.DevIdP.SigningKey()
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", h.App.DevIdP.KeyID())
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestBackChannelLogout: a valid logout token from the provider ends the
// person's sessions; malformed ones are refused, audited, and end nothing.
func TestBackChannelLogout(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		post := func(token string) int {
			return b.Post("/auth/backchannel-logout/dev", url.Values{"logout_token": {token}}).Status
		}
		bad := map[string]string{
			"wrong typ":      logoutToken(t, h, "JWT", nil, nil),
			"with a nonce":   logoutToken(t, h, "logout+jwt", nil, func(c map[string]any) { c["nonce"] = "abc" }),
			"no event":       logoutToken(t, h, "logout+jwt", nil, func(c map[string]any) { delete(c, "events") }),
			"wrong audience": logoutToken(t, h, "logout+jwt", nil, func(c map[string]any) { c["aud"] = "someone-else" }),
			"expired":        logoutToken(t, h, "logout+jwt", nil, func(c map[string]any) { c["exp"] = h.Clock.Now().Add(-time.Minute).Unix() }),
			"other key":      logoutToken(t, h, "logout+jwt", other, nil),
			"not a token":    "not-a-token",
		}
		for name, token := range bad {
			if status := post(token); status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", name, status)
			}
		}
		if !signedIn(b.Get("/")) {
			t.Fatal("a refused logout token ended the session")
		}
		if n := countAudit(h, "auth.backchannel_logout", audit.Failure, ""); n != int64(len(bad)) {
			t.Fatalf("%d refusals audited, want %d", n, len(bad))
		}
		if status := post(logoutToken(t, h, "logout+jwt", nil, nil)); status != http.StatusOK {
			t.Fatalf("valid logout token: status %d", status)
		}
		if signedIn(b.Get("/")) {
			t.Fatal("still signed in after the provider's logout")
		}
		if countAudit(h, "auth.backchannel_logout", audit.Success, h.UserID(t, "demo-trust-lead")) != 1 {
			t.Fatal("logout not audited")
		}
	})
}
