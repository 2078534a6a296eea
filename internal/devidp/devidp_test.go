package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

const (
	clientID     = "portal"
	clientSecret = "dev-secret"
)

// testKey is shared so each test does not pay for RSA key generation.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// userList lets a test add users while the provider runs.
type userList struct {
	mu    sync.Mutex
	users []User
}

func (l *userList) get(context.Context) ([]User, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]User(nil), l.users...), nil
}

func (l *userList) add(u User) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.users = append(l.users, u)
}

func defaultUsers() *userList {
	return &userList{users: []User{
		{
			Subject: "sub-buyer", Name: "Beth Buyer", Email: "beth.buyer@example.nhs.uk",
			Role: "Trust procurement lead", Organisation: "Example NHS Trust",
			Claims: map[string]any{"nhsid_nrbac_roles": []any{
				map[string]any{"org_code": "RX1", "role_name": "Procurement Lead"},
			}},
		},
		{
			Subject: "sub-supplier", Name: "Sam Supplier", Email: "sam@supplier.example",
			Role: "Supplier bid manager", Organisation: "Example Supplies Ltd",
		},
		{
			Subject: "sub-admin", Name: "Ada Admin", Email: "ada@example.nhs.uk",
			Role: "Portal administrator", Organisation: "NHS Procurement",
		},
		{
			Subject: "sub-buyer-2", Name: "Alan Buyer", Email: "alan.buyer@example.nhs.uk",
			Role: "Trust procurement lead", Organisation: "Other NHS Trust",
		},
	}}
}

type env struct {
	t           *testing.T
	srv         *httptest.Server
	issuer      string
	redirectURI string
	logoutURI   string
	idp         *Provider
	users       *userList
	provider    *oidc.Provider
	browser     *http.Client
}

// newEnv runs the provider the way the portal will: mounted under
// /dev-idp on a real HTTP server, discovered by go-oidc.
func newEnv(t *testing.T, configure func(*Config)) *env {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{
		t:           t,
		srv:         srv,
		issuer:      srv.URL + "/dev-idp",
		redirectURI: srv.URL + "/auth/callback",
		logoutURI:   srv.URL + "/signed-out",
		users:       defaultUsers(),
		browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
	cfg := Config{
		Issuer: e.issuer,
		Clients: []Client{{
			ID: clientID, Secret: clientSecret,
			RedirectURIs:           []string{e.redirectURI},
			PostLogoutRedirectURIs: []string{e.logoutURI},
		}},
		Users:      e.users.get,
		SigningKey: testKey(),
		Logger:     slog.New(slog.DiscardHandler),
	}
	if configure != nil {
		configure(&cfg)
	}
	idp, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.idp = idp
	mux.Handle("/dev-idp/", idp.Handler())
	e.provider, err = oidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return e
}

func (e *env) oauth2Config(style oauth2.AuthStyle) *oauth2.Config {
	ep := e.provider.Endpoint()
	ep.AuthStyle = style
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint:     ep,
		RedirectURL:  e.redirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

func (e *env) verifier(now func() time.Time) *oidc.IDTokenVerifier {
	return e.provider.Verifier(&oidc.Config{ClientID: clientID, Now: now})
}

type signIn struct {
	code, nonce, verifier string
}

// startSignIn follows the authorization request to the sign-in page and
// returns the auth request ID it was given.
func (e *env) startSignIn(authURL string) string {
	e.t.Helper()
	resp := e.get(authURL)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize: status %d, body %q", resp.StatusCode, readBody(resp))
	}
	loginURL := mustParse(e.t, resp.Header.Get("Location"))
	if want := e.issuer + "/login"; loginURL.Scheme+"://"+loginURL.Host+loginURL.Path != want {
		e.t.Fatalf("authorize redirected to %s, want the sign-in page %s", loginURL, want)
	}
	page := e.get(loginURL.String())
	if body := readBody(page); page.StatusCode != http.StatusOK || !strings.Contains(body, "Beth Buyer") {
		e.t.Fatalf("sign-in page: status %d, body %q", page.StatusCode, body)
	}
	return loginURL.Query().Get("authRequestID")
}

// signInAs runs the browser half of the code flow and returns the code
// delivered to the client's redirect_uri.
func (e *env) signInAs(cfg *oauth2.Config, subject string) signIn {
	e.t.Helper()
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	id := e.startSignIn(authURL)

	resp := e.postLogin(id, subject)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in POST: status %d, body %q", resp.StatusCode, readBody(resp))
	}
	resp = e.get(absolute(e.t, e.srv.URL, resp.Header.Get("Location")))
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("callback: status %d, body %q", resp.StatusCode, readBody(resp))
	}
	back := mustParse(e.t, resp.Header.Get("Location"))
	if got := back.Scheme + "://" + back.Host + back.Path; got != e.redirectURI {
		e.t.Fatalf("redirected to %s, want redirect_uri %s", got, e.redirectURI)
	}
	if errCode := back.Query().Get("error"); errCode != "" {
		e.t.Fatalf("authorization error %s: %s", errCode, back.Query().Get("error_description"))
	}
	if got := back.Query().Get("state"); got != state {
		e.t.Fatalf("state = %q, want %q", got, state)
	}
	code := back.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", back)
	}
	return signIn{code: code, nonce: nonce, verifier: verifier}
}

func (e *env) postLogin(authRequestID, subject string) *http.Response {
	e.t.Helper()
	resp, err := e.browser.PostForm(e.issuer+"/login", url.Values{
		"authRequestID": {authRequestID},
		"subject":       {subject},
	})
	if err != nil {
		e.t.Fatalf("POST login: %v", err)
	}
	return resp
}

func (e *env) get(u string) *http.Response {
	e.t.Helper()
	resp, err := e.browser.Get(u)
	if err != nil {
		e.t.Fatalf("GET %s: %v", u, err)
	}
	return resp
}

func readBody(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u
}

func absolute(t *testing.T, base, ref string) string {
	t.Helper()
	return mustParse(t, base).ResolveReference(mustParse(t, ref)).String()
}

func exchange(t *testing.T, cfg *oauth2.Config, s signIn) (*oauth2.Token, string) {
	t.Helper()
	tok, err := cfg.Exchange(context.Background(), s.code, oauth2.VerifierOption(s.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatal("token response has no id_token")
	}
	return tok, raw
}

func retrieveErrorCode(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not an OAuth error response", err)
	}
	return re.ErrorCode
}

type idClaims struct {
	Email         string           `json:"email"`
	EmailVerified bool             `json:"email_verified"`
	Name          string           `json:"name"`
	Roles         []map[string]any `json:"nhsid_nrbac_roles"`
}

func TestCodeFlowWithBasicAuth(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	s := e.signInAs(cfg, "sub-buyer")
	tok, raw := exchange(t, cfg, s)

	idToken, err := e.verifier(nil).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idToken.Subject != "sub-buyer" {
		t.Errorf("sub = %q", idToken.Subject)
	}
	if idToken.Nonce != s.nonce {
		t.Errorf("nonce = %q, want %q", idToken.Nonce, s.nonce)
	}
	if idToken.Issuer != e.issuer {
		t.Errorf("iss = %q, want %q", idToken.Issuer, e.issuer)
	}
	var c idClaims
	if err := idToken.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Email != "beth.buyer@example.nhs.uk" || !c.EmailVerified || c.Name != "Beth Buyer" {
		t.Errorf("claims = %+v", c)
	}
	if len(c.Roles) != 1 || c.Roles[0]["org_code"] != "RX1" {
		t.Errorf("nhsid_nrbac_roles = %v", c.Roles)
	}
	if got := signedKeyID(t, raw); got != e.idp.KeyID() {
		t.Errorf("kid = %q, want %q", got, e.idp.KeyID())
	}

	info, err := e.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var ic idClaims
	if err := info.Claims(&ic); err != nil {
		t.Fatal(err)
	}
	if info.Subject != "sub-buyer" || info.Email != "beth.buyer@example.nhs.uk" || ic.Name != "Beth Buyer" ||
		len(ic.Roles) != 1 || ic.Roles[0]["role_name"] != "Procurement Lead" {
		t.Errorf("userinfo = %+v, claims %+v", info, ic)
	}
}

func signedKeyID(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

func TestCodeFlowWithPostAuth(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.oauth2Config(oauth2.AuthStyleInParams)
	s := e.signInAs(cfg, "sub-supplier")
	_, raw := exchange(t, cfg, s)
	idToken, err := e.verifier(nil).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if idToken.Subject != "sub-supplier" {
		t.Errorf("sub = %q", idToken.Subject)
	}
}

func TestDiscoveryListsWorkingEndpointsUnderIssuer(t *testing.T) {
	e := newEnv(t, nil)
	resp := e.get(e.issuer + "/.well-known/openid-configuration")
	var doc map[string]any
	if err := json.Unmarshal([]byte(readBody(resp)), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"} {
		v, _ := doc[k].(string)
		if !strings.HasPrefix(v, e.issuer+"/") {
			t.Errorf("%s = %q, want it under %s", k, v, e.issuer)
		}
	}
	for k, want := range map[string]string{
		"response_types_supported":              `["code"]`,
		"grant_types_supported":                 `["authorization_code"]`,
		"code_challenge_methods_supported":      `["S256"]`,
		"token_endpoint_auth_methods_supported": `["client_secret_basic","client_secret_post"]`,
	} {
		if got := toJSON(t, doc[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}

	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(readBody(e.get(doc["jwks_uri"].(string)))), &jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Key(e.idp.KeyID())) != 1 {
		t.Errorf("JWKS %+v lacks kid %q", jwks, e.idp.KeyID())
	}
	// The handler itself must ignore paths that only look like the issuer's.
	for _, p := range []string{"/.well-known/openid-configuration", "/dev-idp", "/dev-idpx/login"} {
		rec := httptest.NewRecorder()
		e.idp.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s outside the issuer path: status %d", p, rec.Code)
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCodeIsSingleUse(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	s := e.signInAs(cfg, "sub-buyer")
	tok, _ := exchange(t, cfg, s)

	_, err := cfg.Exchange(context.Background(), s.code, oauth2.VerifierOption(s.verifier))
	if err == nil {
		t.Fatal("second exchange of the same code succeeded")
	}
	if code := retrieveErrorCode(t, err); code != "invalid_grant" {
		t.Errorf("error = %q, want invalid_grant", code)
	}
	// RFC 6749 section 4.1.2: a replayed code revokes what it issued.
	if _, err := e.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still works after the code was replayed")
	}
}

func TestWrongClientSecretIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	s := e.signInAs(cfg, "sub-buyer")
	cfg.ClientSecret = "not-the-secret"
	_, err := cfg.Exchange(context.Background(), s.code, oauth2.VerifierOption(s.verifier))
	if err == nil {
		t.Fatal("exchange with a wrong client secret succeeded")
	}
	if code := retrieveErrorCode(t, err); code != "invalid_client" {
		t.Errorf("error = %q, want invalid_client", code)
	}
}

func TestWrongPKCEVerifierIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	s := e.signInAs(cfg, "sub-buyer")
	_, err := cfg.Exchange(context.Background(), s.code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if err == nil {
		t.Fatal("exchange with a wrong PKCE verifier succeeded")
	}
	if code := retrieveErrorCode(t, err); code != "invalid_grant" {
		t.Errorf("error = %q, want invalid_grant", code)
	}
}

func TestPKCEIsRequired(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"no challenge": nil,
		"plain":        {oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
	} {
		t.Run(name, func(t *testing.T) {
			resp := e.get(cfg.AuthCodeURL("st", opts...))
			back := mustParse(t, resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || back.Query().Get("error") != "invalid_request" || back.Query().Get("state") != "st" {
				t.Errorf("status %d, redirect %s; want invalid_request back to the client", resp.StatusCode, back)
			}
		})
	}
}

func TestUnknownSubjectShowsPageAgain(t *testing.T) {
	var pages []LoginPage
	var mu sync.Mutex
	e := newEnv(t, func(c *Config) {
		c.RenderLogin = func(w http.ResponseWriter, _ *http.Request, page LoginPage) error {
			mu.Lock()
			pages = append(pages, page)
			mu.Unlock()
			_, err := io.WriteString(w, "users: Beth Buyer; error: "+page.Error)
			return err
		}
	})
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	id := e.startSignIn(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))

	resp := e.postLogin(id, "sub-nobody")
	if body := readBody(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not known") {
		t.Fatalf("unknown subject: status %d, body %q", resp.StatusCode, body)
	}

	mu.Lock()
	first, last := pages[0], pages[len(pages)-1]
	mu.Unlock()
	if first.AuthRequestID != id || first.FormAction != "/dev-idp/login" || first.Error != "" {
		t.Errorf("first page = %+v", first)
	}
	var order []string
	for _, u := range first.Users {
		order = append(order, u.Name)
	}
	if got, want := strings.Join(order, ","), "Ada Admin,Sam Supplier,Alan Buyer,Beth Buyer"; got != want {
		t.Errorf("users ordered %s, want %s (by role, then name)", got, want)
	}
	if last.AuthRequestID != id || len(last.Users) != 4 || last.Error == "" {
		t.Errorf("error page = %+v, want the picker again with an error", last)
	}

	// Users are read on every request, so one added now can sign in.
	e.users.add(User{Subject: "sub-new", Name: "Nia New", Role: "Trust procurement lead"})
	if resp := e.postLogin(id, "sub-new"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("new user: status %d, body %q", resp.StatusCode, readBody(resp))
	}
	// The request is now complete; it cannot be completed again as someone else.
	if resp := e.postLogin(id, "sub-admin"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second completion: status %d", resp.StatusCode)
	}
}

func TestUnknownOrExpiredAuthRequest(t *testing.T) {
	clock := &testClock{now: time.Now()}
	e := newEnv(t, func(c *Config) { c.Now = clock.Now })

	for _, id := range []string{"", "no-such-request"} {
		if resp := e.get(e.issuer + "/login?authRequestID=" + id); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET login %q: status %d", id, resp.StatusCode)
		} else if body := readBody(resp); !strings.Contains(body, "unknown or has expired") {
			t.Errorf("GET login %q: body %q", id, body)
		}
		if resp := e.postLogin(id, "sub-buyer"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST login %q: status %d", id, resp.StatusCode)
		}
	}

	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	id := e.startSignIn(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	clock.Advance(10*time.Minute + time.Second)
	if resp := e.get(e.issuer + "/login?authRequestID=" + url.QueryEscape(id)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET expired request: status %d", resp.StatusCode)
	}
	if resp := e.postLogin(id, "sub-buyer"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST expired request: status %d", resp.StatusCode)
	}
}

func TestProductionIsRefused(t *testing.T) {
	_, err := New(Config{
		Issuer:     "http://localhost:8080/dev-idp",
		Clients:    []Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{"http://localhost:8080/auth/callback"}}},
		Users:      defaultUsers().get,
		SigningKey: testKey(),
		Production: true,
	})
	if err == nil || !errors.Is(err, ErrProduction) || !strings.Contains(err.Error(), "cannot run in production") {
		t.Fatalf("New with Production: err = %v", err)
	}
}

func TestIDTokenExpiresByInjectedClock(t *testing.T) {
	// Start the injected clock half an hour behind the wall clock, so an
	// expiry taken from the wall clock would be visibly wrong.
	start := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	clock := &testClock{now: start}
	e := newEnv(t, func(c *Config) { c.Now = clock.Now })
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	_, raw := exchange(t, cfg, e.signInAs(cfg, "sub-buyer"))

	idToken, err := e.verifier(clock.Now).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("verify at issue time: %v", err)
	}
	if d := idToken.Expiry.Sub(start.Add(time.Hour)); d < -time.Second || d > time.Second {
		t.Errorf("exp = %v, want one hour after the injected clock's %v", idToken.Expiry, start)
	}

	clock.Advance(2 * time.Hour)
	_, err = e.verifier(clock.Now).Verify(context.Background(), raw)
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Fatalf("verify two hours later: err = %v, want a TokenExpiredError", err)
	}
}

func TestEndSessionRedirectsToRegisteredURI(t *testing.T) {
	e := newEnv(t, nil)
	var disc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := e.provider.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	tok, raw := exchange(t, cfg, e.signInAs(cfg, "sub-buyer"))

	bad := disc.EndSession + "?" + url.Values{
		"id_token_hint":            {raw},
		"post_logout_redirect_uri": {"https://evil.example/"},
	}.Encode()
	if resp := e.get(bad); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered post_logout_redirect_uri: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	good := disc.EndSession + "?" + url.Values{
		"id_token_hint":            {raw},
		"post_logout_redirect_uri": {e.logoutURI},
		"state":                    {"bye"},
	}.Encode()
	resp := e.get(good)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: status %d, body %q", resp.StatusCode, readBody(resp))
	}
	if got, want := resp.Header.Get("Location"), e.logoutURI+"?state=bye"; got != want {
		t.Errorf("redirected to %q, want %q", got, want)
	}
	if _, err := e.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still works after sign-out")
	}

	if resp := e.get(disc.EndSession + "?client_id=nobody"); resp.StatusCode >= 500 {
		t.Errorf("end_session for an unknown client: status %d", resp.StatusCode)
	}

	// Without a post-logout URI the provider shows its own page.
	resp = e.get(disc.EndSession + "?client_id=" + clientID)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != e.issuer+"/logged-out" {
		t.Fatalf("end_session without URI: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := e.get(e.issuer + "/logged-out"); resp.StatusCode != http.StatusOK {
		t.Errorf("logged-out page: status %d", resp.StatusCode)
	}
}

func TestTokensSignedWithExposedKeyVerify(t *testing.T) {
	e := newEnv(t, nil)
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.RS256,
		Key:       jose.JSONWebKey{Key: e.idp.SigningKey(), KeyID: e.idp.KeyID()},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := toJSON(t, map[string]any{
		"iss": e.issuer, "sub": "forged", "aud": clientID,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	jws, err := signer.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := e.verifier(nil).Verify(context.Background(), raw); err != nil || tok.Subject != "forged" {
		t.Fatalf("token signed with SigningKey()/KeyID(): %v", err)
	}
	// Flipping one payload byte must break the signature.
	parts := strings.Split(raw, ".")
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	body = []byte(strings.Replace(string(body), "forged", "forgeD", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(body)
	if _, err := e.verifier(nil).Verify(context.Background(), strings.Join(parts, ".")); err == nil {
		t.Fatal("tampered token verified")
	}
}

func TestConcurrentSignIns(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.oauth2Config(oauth2.AuthStyleInHeader)
	subjects := []string{"sub-buyer", "sub-supplier", "sub-admin", "sub-buyer-2"}
	for i := range 12 {
		sub := subjects[i%len(subjects)]
		t.Run(fmt.Sprintf("%d-%s", i, sub), func(t *testing.T) {
			t.Parallel()
			pe := *e
			pe.t = t
			s := pe.signInAs(cfg, sub)
			_, raw := exchange(t, cfg, s)
			idToken, err := pe.verifier(nil).Verify(context.Background(), raw)
			if err != nil || idToken.Subject != sub || idToken.Nonce != s.nonce {
				t.Errorf("ID token for %s: %v", sub, err)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := func() Config {
		return Config{
			Issuer:     "http://localhost:8080/dev-idp",
			Clients:    []Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{"http://localhost:8080/auth/callback"}}},
			Users:      defaultUsers().get,
			SigningKey: testKey(),
		}
	}
	if _, err := New(good()); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"no users":         func(c *Config) { c.Users = nil },
		"no clients":       func(c *Config) { c.Clients = nil },
		"relative issuer":  func(c *Config) { c.Issuer = "/dev-idp" },
		"issuer query":     func(c *Config) { c.Issuer += "?x=1" },
		"no secret":        func(c *Config) { c.Clients[0].Secret = "" },
		"no redirect":      func(c *Config) { c.Clients[0].RedirectURIs = nil },
		"relative logout":  func(c *Config) { c.Clients[0].PostLogoutRedirectURIs = []string{"/bye"} },
		"duplicate client": func(c *Config) { c.Clients = append(c.Clients, c.Clients[0]) },
	} {
		cfg := good()
		mutate(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestCustomRendererCannotChangeStatus(t *testing.T) {
	var fail atomic.Bool
	e := newEnv(t, func(c *Config) {
		c.RenderLogin = func(w http.ResponseWriter, _ *http.Request, _ LoginPage) error {
			if fail.Load() {
				return errors.New("template broke")
			}
			w.WriteHeader(http.StatusOK) // ignored: the provider decides
			return nil
		}
	})
	if resp := e.get(e.issuer + "/login?authRequestID=gone"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("error page: status %d, want 400", resp.StatusCode)
	}
	fail.Store(true)
	if resp := e.get(e.issuer + "/login?authRequestID=gone"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("failing renderer: status %d, want 500", resp.StatusCode)
	}
}
