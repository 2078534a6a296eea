package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
)

// attemptLifetime is how long a person has to finish signing in at the
// provider before the attempt is forgotten.
const attemptLifetime = 10 * time.Minute

// loginAttempt binds one sign-in to one browser: the cookie carries the
// attempt's token, the row holds the state, nonce and PKCE verifier. It is
// deleted at the callback, so a replayed callback finds nothing.
type loginAttempt struct {
	ID        string
	Provider  string
	State     string
	Nonce     string
	Verifier  string
	ReturnTo  string
	ExpiresAt time.Time
}

func (loginAttempt) TableName() string { return "login_attempts" }

// Provider is one OpenID Provider the portal trusts.
type Provider struct {
	Config      config.Provider
	RedirectURL string

	mu         sync.Mutex
	discovered *oidc.Provider
	endSession string
}

// ProviderInfo is what the sign-in page shows for a provider.
type ProviderInfo struct {
	ID    string
	Label string
}

// Authenticator runs sign-in and sign-out.
type Authenticator struct {
	DB       *store.DB
	Audit    *audit.Log
	Clock    clock.Clock
	Sessions *Sessions
	// HTTPClient talks to the providers; nil means http.DefaultClient.
	HTTPClient *http.Client

	providers []*Provider
}

// NewAuthenticator prepares the configured providers. Discovery happens at
// the first sign-in, so the portal starts even while a provider (or its own
// built-in development provider) is not yet answering.
func NewAuthenticator(a Authenticator, baseURL string, providers []config.Provider) *Authenticator {
	out := a
	for _, p := range providers {
		out.providers = append(out.providers, &Provider{Config: p, RedirectURL: baseURL + "/auth/callback/" + p.ID})
	}
	return &out
}

// Providers lists the providers in configured order.
func (a *Authenticator) Providers() []ProviderInfo {
	out := make([]ProviderInfo, len(a.providers))
	for i, p := range a.providers {
		out[i] = ProviderInfo{ID: p.Config.ID, Label: p.Config.Label}
	}
	return out
}

func (a *Authenticator) provider(id string) (*Provider, bool) {
	for _, p := range a.providers {
		if p.Config.ID == id {
			return p, true
		}
	}
	return nil, false
}

func (a *Authenticator) clientContext(ctx context.Context) context.Context {
	if a.HTTPClient != nil {
		return oidc.ClientContext(ctx, a.HTTPClient)
	}
	return ctx
}

// discover fetches (once) the provider's discovery document and keys.
func (a *Authenticator) discover(ctx context.Context, p *Provider) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovered != nil {
		return p.discovered, nil
	}
	// The provider object keeps this context for fetching keys later, so it
	// must outlive the request.
	op, err := oidc.NewProvider(a.clientContext(context.WithoutCancel(ctx)), p.Config.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", p.Config.Issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = op.Claims(&extra)
	p.discovered, p.endSession = op, extra.EndSession
	return op, nil
}

func (p *Provider) oauth(op *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.Config.ClientID, ClientSecret: p.Config.ClientSecret,
		Endpoint: op.Endpoint(), RedirectURL: p.RedirectURL, Scopes: p.Config.Scopes,
	}
}

// ErrUnknownProvider means the URL named a provider that is not configured.
var ErrUnknownProvider = errors.New("unknown identity provider")

// Begin starts a sign-in: it records an attempt with fresh state, nonce and
// PKCE verifier and returns the provider URL to send the browser to and the
// token to set in the attempt cookie.
func (a *Authenticator) Begin(ctx context.Context, providerID, returnTo string) (authURL, attemptToken string, err error) {
	p, ok := a.provider(providerID)
	if !ok {
		return "", "", ErrUnknownProvider
	}
	op, err := a.discover(ctx, p)
	if err != nil {
		return "", "", err
	}
	attemptToken = randomToken(32)
	at := loginAttempt{
		ID: a.Sessions.id(attemptToken), Provider: p.Config.ID,
		State: randomToken(32), Nonce: randomToken(32), Verifier: oauth2.GenerateVerifier(),
		ReturnTo: SafeReturnTo(returnTo), ExpiresAt: a.Clock.Now().Add(attemptLifetime),
	}
	if err := a.DB.WithContext(ctx).Create(&at).Error; err != nil {
		return "", "", fmt.Errorf("record sign-in attempt: %w", err)
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(at.Nonce), oauth2.S256ChallengeOption(at.Verifier)}
	if len(p.Config.RequiredACR) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(p.Config.RequiredACR, " ")))
	}
	return p.oauth(op).AuthCodeURL(at.State, opts...), attemptToken, nil
}

// SafeReturnTo keeps only local paths, so a crafted link cannot send a person
// to another site after signing in.
func SafeReturnTo(s string) string {
	// Control characters and backslashes are refused outright: browsers drop
	// tabs and newlines and read "\\" as "/", so "/\t/evil.example" would
	// become "//evil.example", another site.
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") ||
		strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	return s
}

// SignInError is a refused sign-in. Reason is for the audit log and the
// server log only; people see a generic message.
type SignInError struct{ Reason string }

func (e *SignInError) Error() string { return "sign-in failed: " + e.Reason }

// Result is a completed sign-in.
type Result struct {
	SessionToken string
	SignIn       *orgs.SignInResult
	ReturnTo     string
}

// Complete finishes a sign-in at the callback: it checks the attempt, state,
// code exchange, ID token (signature, issuer, audience, expiry), nonce and
// assurance level, then records the user and a new session with an audit
// entry in one transaction. Every refusal is audited.
func (a *Authenticator) Complete(ctx context.Context, providerID, attemptToken string, q url.Values, ip string) (*Result, error) {
	res, err := a.complete(ctx, providerID, attemptToken, q, ip)
	if err != nil {
		var sie *SignInError
		if !errors.As(err, &sie) {
			sie = &SignInError{Reason: err.Error()}
		}
		_ = a.Audit.Record(ctx, a.DB, audit.Actor{Label: "anonymous", IP: ip}, audit.Event{
			Action: "auth.sign_in", ObjectType: "identity_provider", ObjectID: providerID, Outcome: audit.Failure,
			Detail: map[string]any{"reason": sie.Reason},
		})
		return nil, sie
	}
	return res, nil
}

func (a *Authenticator) complete(ctx context.Context, providerID, attemptToken string, q url.Values, ip string) (*Result, error) {
	p, ok := a.provider(providerID)
	if !ok {
		return nil, &SignInError{"unknown provider"}
	}
	at, err := a.takeAttempt(ctx, attemptToken)
	if err != nil {
		return nil, err
	}
	switch {
	case at.Provider != p.Config.ID:
		return nil, &SignInError{"attempt was for another provider"}
	case q.Get("state") == "" || q.Get("state") != at.State:
		return nil, &SignInError{"state does not match"}
	case q.Get("error") != "":
		return nil, &SignInError{"provider returned error " + q.Get("error")}
	case q.Get("code") == "":
		return nil, &SignInError{"no authorisation code"}
	}
	op, err := a.discover(ctx, p)
	if err != nil {
		return nil, &SignInError{err.Error()}
	}
	cctx := a.clientContext(ctx)
	tok, err := p.oauth(op).Exchange(cctx, q.Get("code"), oauth2.VerifierOption(at.Verifier))
	if err != nil {
		return nil, &SignInError{"code exchange refused: " + err.Error()}
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, &SignInError{"no ID token in the token response"}
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: p.Config.ClientID, Now: a.Clock.Now}).Verify(cctx, raw)
	if err != nil {
		return nil, &SignInError{"ID token rejected: " + err.Error()}
	}
	// go-oidc does not check the nonce; without this a token issued for
	// another sign-in could be replayed here.
	if idt.Nonce == "" || idt.Nonce != at.Nonce {
		return nil, &SignInError{"nonce does not match"}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, &SignInError{"unreadable claims"}
	}
	if len(p.Config.RequiredACR) > 0 && !slices.Contains(p.Config.RequiredACR, stringClaim(claims["acr"])) {
		// A missing acr counts as the weakest level: fail closed.
		return nil, &SignInError{fmt.Sprintf("assurance level %q is not one of those required", stringClaim(claims["acr"]))}
	}
	id := orgs.Identity{
		Issuer: idt.Issuer, Subject: idt.Subject,
		Email: stringClaim(claims["email"]), Name: stringClaim(claims["name"]),
		Roles: MapClaims(p.Config, claims),
	}
	return a.startSession(ctx, p.Config.ID, id, raw, at.ReturnTo, ip)
}

// takeAttempt finds and deletes the attempt named by the cookie, so each
// callback can be used once.
func (a *Authenticator) takeAttempt(ctx context.Context, attemptToken string) (*loginAttempt, error) {
	if attemptToken == "" {
		return nil, &SignInError{"no sign-in attempt cookie"}
	}
	var at loginAttempt
	err := a.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", a.Sessions.id(attemptToken)).First(&at).Error; err != nil {
			return err
		}
		return tx.Delete(&at).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, &SignInError{"sign-in attempt unknown or already used"}
	}
	if err != nil {
		return nil, fmt.Errorf("take sign-in attempt: %w", err)
	}
	if !a.Clock.Now().Before(at.ExpiresAt) {
		return nil, &SignInError{"sign-in attempt expired"}
	}
	return &at, nil
}

func (a *Authenticator) startSession(ctx context.Context, providerID string, id orgs.Identity, rawIDToken, returnTo, ip string) (*Result, error) {
	res := &Result{ReturnTo: returnTo}
	err := a.DB.Tx(ctx, func(tx *gorm.DB) error {
		in, err := orgs.RecordSignIn(tx, id, a.Clock.Now())
		if errors.Is(err, orgs.ErrUserDisabled) {
			return &SignInError{"user is disabled"}
		}
		if err != nil {
			return err
		}
		res.SignIn = in
		var acting *string
		if orgIDs := distinctOrgs(in.Memberships); len(orgIDs) == 1 {
			acting = &orgIDs[0]
		}
		res.SessionToken, err = a.Sessions.Create(tx, in.User.ID, providerID, rawIDToken, acting)
		if err != nil {
			return err
		}
		detail := map[string]any{"provider": providerID, "roles": len(in.Memberships)}
		if len(in.Unmatched) > 0 {
			detail["unmatched_claims"] = len(in.Unmatched)
		}
		actor := audit.Actor{UserID: in.User.ID, Label: in.User.DisplayName(), IP: ip}
		if acting != nil {
			actor.OrgID = *acting
		}
		return a.Audit.Append(tx, actor, audit.Event{Action: "auth.sign_in", ObjectType: "user", ObjectID: in.User.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func distinctOrgs(ms []orgs.Membership) []string {
	var out []string
	for _, m := range ms {
		if !slices.Contains(out, m.OrganisationID) {
			out = append(out, m.OrganisationID)
		}
	}
	return out
}

// SignOut ends the session and returns where to send the browser: the
// provider's end-session endpoint when it has one (so the person is signed
// out there too), otherwise "".
func (a *Authenticator) SignOut(ctx context.Context, sess *Session, actor audit.Actor, postLogoutURL string) (string, error) {
	err := a.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := a.Sessions.End(tx, sess.ID); err != nil {
			return err
		}
		return a.Audit.Append(tx, actor, audit.Event{Action: "auth.sign_out", ObjectType: "user", ObjectID: sess.UserID})
	})
	if err != nil {
		return "", err
	}
	p, ok := a.provider(sess.Provider)
	if !ok {
		return "", nil
	}
	if _, err := a.discover(ctx, p); err != nil || p.endSession == "" {
		return "", nil
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return "", nil
	}
	v := u.Query()
	v.Set("client_id", p.Config.ClientID)
	v.Set("post_logout_redirect_uri", postLogoutURL)
	if sess.IDTokenHint != "" {
		v.Set("id_token_hint", sess.IDTokenHint)
	}
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// Origins lists the providers' origins, for the Content-Security-Policy's
// form-action (signing out posts a form that redirects to the provider).
func (a *Authenticator) Origins() []string {
	var out []string
	for _, p := range a.providers {
		if u, err := url.Parse(p.Config.Issuer); err == nil && u.Host != "" {
			o := u.Scheme + "://" + u.Host
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}
