// Package devidp is a development OpenID Provider built into the portal.
//
// It exists so that local runs and end-to-end tests sign in over the same
// OpenID Connect code flow (discovery, JWKS, PKCE, nonce, signed ID
// tokens) the portal uses against NHS CIS2 in production, instead of a
// bypass that would leave the real sign-in path untested. Instead of
// passwords it offers a page listing the known users, so a developer can
// become any role in one click. It keeps everything in memory and refuses
// to start in production.
package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person the development provider can sign in as.
type User struct {
	Subject      string         // stable sub claim
	Name         string         // name claim (profile scope)
	Email        string         // email claim (email scope); reported as verified
	Role         string         // label shown on the sign-in page, e.g. "Trust procurement lead"
	Organisation string         // label shown on the sign-in page
	Claims       map[string]any // extra claims put into the ID token and userinfo (e.g. "nhsid_nrbac_roles")
}

// Client is a relying party allowed to sign in through the provider. It
// is always a confidential web client using the code flow, authenticated
// with client_secret_basic or client_secret_post, because that is how
// the portal is registered with the production provider.
type Client struct {
	ID, Secret             string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
}

// LoginPage is what the sign-in page shows; the form posts "authRequestID" and "subject" to FormAction.
type LoginPage struct {
	AuthRequestID string
	FormAction    string // absolute path of the POST target
	Users         []User // sorted by Role then Name
	Error         string
}

// Config configures New.
type Config struct {
	Issuer  string // e.g. "http://localhost:8080/dev-idp" (http allowed; this is development only)
	Clients []Client
	// Users is called on every sign-in page view and sign-in, so new
	// users show up without restart.
	Users func(ctx context.Context) ([]User, error)
	// Now is the injected clock; nil means time.Now. Auth request,
	// access token and ID token expiry follow it.
	Now func() time.Time
	// SigningKey signs ID tokens; nil generates a 2048-bit key at New.
	// Passing a fixed key keeps tokens valid across restarts.
	SigningKey *rsa.PrivateKey
	// Production makes New refuse to build the provider, so a
	// misconfigured deployment fails at start-up instead of letting
	// anyone sign in as anyone.
	Production bool
	// RenderLogin draws the sign-in page; nil uses a plain built-in page.
	// The provider sets the HTTP status (400 when page.Error is about the
	// request), so RenderLogin need not call WriteHeader.
	RenderLogin func(w http.ResponseWriter, r *http.Request, page LoginPage) error
	Logger      *slog.Logger // nil means slog.Default()
}

// Provider is a running development OpenID Provider.
type Provider struct {
	op        *op.Provider
	store     *storage
	issuer    string
	basePath  string // issuer path without trailing slash; "" at the root
	loginPath string
	handler   http.Handler
	key       *signingKey
	render    func(http.ResponseWriter, *http.Request, LoginPage) error
	logger    *slog.Logger
}

// ErrProduction is returned by New when Config.Production is set.
var ErrProduction = errors.New("devidp: the development identity provider cannot run in production")

// New builds a provider from cfg. Everything that can be checked is
// checked here, so a bad development setup fails at start-up rather than
// halfway through someone's first sign-in.
func New(cfg Config) (*Provider, error) {
	if cfg.Production {
		return nil, ErrProduction
	}
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("devidp: issuer: %w", err)
	}
	if (issuer.Scheme != "http" && issuer.Scheme != "https") || issuer.Host == "" ||
		issuer.User != nil || issuer.RawQuery != "" || issuer.Fragment != "" {
		return nil, fmt.Errorf("devidp: issuer %q must be an http(s) URL with a host and no query or fragment", cfg.Issuer)
	}
	if cfg.Users == nil {
		return nil, errors.New("devidp: Config.Users is required")
	}
	if len(cfg.Clients) == 0 {
		return nil, errors.New("devidp: at least one client is required")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}

	key := cfg.SigningKey
	if key == nil {
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("devidp: generating signing key: %w", err)
		}
	} else if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("devidp: signing key: %w", err)
	}
	// The key ID is the key's RFC 7638 thumbprint, so the same key always
	// gets the same ID and relying parties' cached JWKS stay valid.
	thumb, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devidp: signing key thumbprint: %w", err)
	}
	sk := &signingKey{id: base64.RawURLEncoding.EncodeToString(thumb), key: key}

	base := strings.TrimSuffix(cfg.Issuer, "/")
	p := &Provider{
		issuer:    cfg.Issuer,
		basePath:  strings.TrimSuffix(issuer.Path, "/"),
		key:       sk,
		render:    cfg.RenderLogin,
		logger:    logger,
		store:     newStorage(now, cfg.Users, sk),
		loginPath: strings.TrimSuffix(issuer.Path, "/") + "/login",
	}
	if p.render == nil {
		p.render = renderBuiltinLogin
	}
	loginURL := func(id string) string { return base + "/login?authRequestID=" + url.QueryEscape(id) }
	for _, c := range cfg.Clients {
		if err := validateClient(c); err != nil {
			return nil, err
		}
		if _, dup := p.store.clients[c.ID]; dup {
			return nil, fmt.Errorf("devidp: client %q is configured twice", c.ID)
		}
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
		p.store.clients[c.ID] = &client{cfg: c, now: now, loginURL: loginURL}
	}

	opCfg := &op.Config{
		DefaultLogoutRedirectURI: base + "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedScopes:          slices.Clone(supportedScopes),
	}
	// The key encrypts the opaque access tokens; it only has to live as
	// long as the tokens, which are in memory anyway.
	if _, err := rand.Read(opCfg.CryptoKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: generating token key: %w", err)
	}
	var opts []op.Option
	if issuer.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(opCfg, p.store, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+oidc.DiscoveryEndpoint, p.discovery)
	mux.HandleFunc("GET /login", p.showLogin)
	mux.HandleFunc("POST /login", p.submitLogin)
	mux.HandleFunc("GET /logged-out", p.loggedOut)
	mux.Handle("/", p.op)
	p.handler = mux
	if p.basePath != "" {
		// The op router matches endpoint paths relative to the issuer, but
		// the caller mounts this handler without stripping its prefix.
		strip := http.StripPrefix(p.basePath, mux)
		p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, p.basePath+"/") {
				http.NotFound(w, r)
				return
			}
			strip.ServeHTTP(w, r)
		})
	}
	return p, nil
}

// discovery narrows the op package's document, which advertises every
// flow the library can do, to what this provider accepts, so a relying
// party that negotiates from discovery picks what production will offer.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	c := op.CreateDiscoveryConfig(op.ContextWithIssuer(r.Context(), p.issuer), p.op, p.store)
	c.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	c.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode}
	c.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	c.DeviceAuthorizationEndpoint = ""
	op.Discover(w, c)
}

func validateClient(c Client) error {
	if c.ID == "" || c.Secret == "" {
		return errors.New("devidp: every client needs an ID and a secret")
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("devidp: client %q has no redirect URIs", c.ID)
	}
	for _, raw := range slices.Concat(c.RedirectURIs, c.PostLogoutRedirectURIs) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return fmt.Errorf("devidp: client %q: %q is not an absolute http(s) URL without a fragment", c.ID, raw)
		}
	}
	return nil
}

// Handler serves discovery, JWKS, the OAuth endpoints and the sign-in
// page. Mount it at the issuer's path without stripping the prefix.
func (p *Provider) Handler() http.Handler { return p.handler }

// SigningKey returns the private key that signs ID tokens, so tests can
// forge tampered tokens that differ from real ones only where intended.
func (p *Provider) SigningKey() *rsa.PrivateKey { return p.key.key }

// KeyID returns the kid of the signing key as published in the JWKS.
func (p *Provider) KeyID() string { return p.key.id }
