package devidp

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	// authRequestLifetime bounds how long a sign-in may sit on the picker
	// page and how long its code stays redeemable, so abandoned requests
	// cannot be completed much later by whoever finds the URL.
	authRequestLifetime = 10 * time.Minute
	// tokenLifetime matches what the portal expects from the production
	// provider, so session handling is exercised with realistic expiry.
	tokenLifetime = time.Hour
)

// supportedScopes is deliberately small: the portal only needs identity,
// and refusing offline_access keeps refresh tokens out of the picture.
var supportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}

var errNotSupported = errors.New("devidp: not supported by the development identity provider")

// authRequest is one pending sign-in. Values handed to the op package are
// copies, so the library never reads fields another goroutine is writing.
type authRequest struct {
	id            string
	clientID      string
	redirectURI   string
	scopes        []string
	state         string
	nonce         string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge oidc.CodeChallenge
	created       time.Time
	subject       string
	authTime      time.Time
	code          string
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return nil }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { c := a.codeChallenge; return &c }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return slices.Clone(a.scopes) }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.subject != "" }

func (a *authRequest) copy() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	return &c
}

func (a *authRequest) expired(now time.Time) bool {
	return !now.Before(a.created.Add(authRequestLifetime))
}

// accessToken is kept server side because the bearer token the client
// holds is only an encrypted reference to it; that is what lets sign-out
// and code replay revoke it.
type accessToken struct {
	id            string
	subject       string
	clientID      string
	scopes        []string
	authRequestID string
	expires       time.Time
}

// redeemedCode remembers a spent code until its auth request would have
// expired anyway, so a replay can be recognised and punished.
type redeemedCode struct {
	authRequestID string
	until         time.Time
}

// client adapts a configured Client to op.Client. Everything is fixed to
// what a confidential web application using the code flow needs, so the
// portal cannot come to rely on a flow production will not offer.
type client struct {
	cfg      Client
	now      func() time.Time
	loginURL func(authRequestID string) string
}

func (c *client) GetID() string                       { return c.cfg.ID }
func (c *client) RedirectURIs() []string              { return slices.Clone(c.cfg.RedirectURIs) }
func (c *client) PostLogoutRedirectURIs() []string    { return slices.Clone(c.cfg.PostLogoutRedirectURIs) }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType  { return []oidc.ResponseType{"code"} }
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) DevMode() bool                       { return false }
func (c *client) IsScopeAllowed(string) bool          { return false }
func (c *client) ClockSkew() time.Duration            { return 0 }

// IDTokenLifetime is measured against the injected clock. The op package
// sets exp to wall-clock now plus this duration, so returning the distance
// from the wall clock to (injected now + 1h) puts exp one hour after the
// injected clock, and moving that clock in a test expires the ID token
// exactly when the portal's clock says so. (iat stays on the wall clock;
// the library offers no hook for it and go-oidc does not check it.)
func (c *client) IDTokenLifetime() time.Duration {
	return time.Until(c.now().Add(tokenLifetime))
}

// IDTokenUserinfoClaimsAssertion is true so that name and email stay in
// the ID token even though an access token is issued with it; otherwise
// the op package would leave them to the userinfo endpoint.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// storage is the in-memory op.Storage. One mutex guards everything: the
// provider serves a handful of developers, so simplicity beats throughput.
type storage struct {
	now      func() time.Time
	users    func(context.Context) ([]User, error)
	clients  map[string]*client
	key      *signingKey
	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string // code -> auth request ID
	redeemed map[string]redeemedCode
	tokens   map[string]*accessToken
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
	_ op.Client                    = (*client)(nil)
	_ op.AuthRequest               = (*authRequest)(nil)
)

func newStorage(now func() time.Time, users func(context.Context) ([]User, error), key *signingKey) *storage {
	return &storage{
		now:      now,
		users:    users,
		clients:  map[string]*client{},
		key:      key,
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		redeemed: map[string]redeemedCode{},
		tokens:   map[string]*accessToken{},
	}
}

// sweep drops expired state so a long-running dev server does not grow
// without bound. Callers hold s.mu.
func (s *storage) sweep(now time.Time) {
	for id, r := range s.requests {
		if r.expired(now) {
			delete(s.requests, id)
			if r.code != "" {
				delete(s.codes, r.code)
			}
		}
	}
	for code, r := range s.redeemed {
		if !now.Before(r.until) {
			delete(s.redeemed, code)
		}
	}
	for id, t := range s.tokens {
		if !now.Before(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// CreateAuthRequest is where the rules stricter than the op package live:
// the library accepts requests without PKCE or the openid scope, and
// refusing them here makes a portal change that drops either fail in
// development rather than against the production provider.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		// There is no single sign-on session to reuse: every sign-in
		// picks a user on the page.
		return nil, oidc.ErrLoginRequired()
	}
	scopes := slices.DeleteFunc(slices.Clone(req.Scopes), func(s string) bool {
		return !slices.Contains(supportedScopes, s)
	})
	now := s.now()
	ar := &authRequest{
		id:            uuid.NewString(),
		clientID:      req.ClientID,
		redirectURI:   req.RedirectURI,
		scopes:        scopes,
		state:         req.State,
		nonce:         req.Nonce,
		responseType:  req.ResponseType,
		responseMode:  req.ResponseMode,
		codeChallenge: oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
		created:       now,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.requests[ar.id] = ar
	return ar.copy(), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || r.expired(s.now()) {
		return nil, errAuthRequestNotFound
	}
	return r.copy(), nil
}

var errAuthRequestNotFound = errors.New("devidp: sign-in request not found or expired")

// completeAuthRequest records who signed in. A request can only be
// completed once, so a second submission cannot swap the user behind a
// code the client is already waiting for.
func (s *storage) completeAuthRequest(id, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	r, ok := s.requests[id]
	if !ok || r.expired(now) {
		return errAuthRequestNotFound
	}
	if r.Done() {
		return errors.New("devidp: this sign-in has already been completed")
	}
	r.subject = subject
	r.authTime = now
	return nil
}

// AuthRequestByCode spends the code as it looks it up, under the lock, so
// two concurrent exchanges cannot both succeed. A failed exchange (wrong
// secret or verifier) therefore also burns the code, which is the safe
// reading of RFC 6749 section 4.1.2 for a code that may have leaked.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	id, ok := s.codes[code]
	if !ok {
		if spent, replayed := s.redeemed[code]; replayed {
			// RFC 6749 section 4.1.2: tokens issued from a replayed
			// code should be revoked.
			for tid, t := range s.tokens {
				if t.authRequestID == spent.authRequestID {
					delete(s.tokens, tid)
				}
			}
			return nil, errors.New("devidp: authorization code already used")
		}
		return nil, errors.New("devidp: unknown authorization code")
	}
	delete(s.codes, code)
	r, ok := s.requests[id]
	if !ok {
		return nil, errAuthRequestNotFound
	}
	s.redeemed[code] = redeemedCode{authRequestID: id, until: r.created.Add(authRequestLifetime)}
	if r.expired(now) {
		return nil, errAuthRequestNotFound
	}
	return r.copy(), nil
}

// SaveAuthCode allows one code per sign-in, so replaying the callback URL
// cannot mint fresh codes for a request that already has one.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || r.expired(s.now()) {
		return oidc.ErrInvalidRequest().WithDescription("sign-in request not found or expired")
	}
	if r.code != "" {
		return oidc.ErrInvalidRequest().WithDescription("an authorization code was already issued for this sign-in")
	}
	r.code = code
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		delete(s.codes, r.code)
		delete(s.requests, id)
	}
	return nil
}

// CreateAccessToken stores the token's expiry by the injected clock, but
// tells the op package an expiry one lifetime from the wall clock: the
// library only turns it into the relative expires_in, which must stay
// sensible however far a test has moved the injected clock.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, errNotSupported
	}
	now := s.now()
	t := &accessToken{
		id:            uuid.NewString(),
		subject:       ar.subject,
		clientID:      ar.clientID,
		scopes:        slices.Clone(ar.scopes),
		authRequestID: ar.id,
		expires:       now.Add(tokenLifetime),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.tokens[t.id] = t
	return t.id, time.Now().Add(tokenLifetime), nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotSupported
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, oidc.ErrInvalidGrant().WithDescription("refresh tokens are not issued")
}

// TerminateSession revokes the client's access tokens for the user: there
// is no browser session to end, so the tokens are all that is left.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && (clientID == "" || t.clientID == clientID) {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenID, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		// RFC 7009 section 2.2: unknown tokens are not an error.
		return nil
	}
	if t.clientID != clientID || (userID != "" && t.subject != userID) {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	delete(s.tokens, tokenID)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		// invalid_client rather than a plain error, which the end_session
		// endpoint would report as a 500.
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client %q", id)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.cfg.Secret), []byte(secret)) != 1 {
		return errors.New("devidp: invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the op package in favour of
// SetUserinfoFromRequest, which does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.fillUserinfo(ctx, info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken checks expiry against the injected clock, so the
// userinfo endpoint agrees with the ID token about when access ends.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.liveToken(tokenID, subject)
	if err != nil {
		return err
	}
	return s.fillUserinfo(ctx, info, t.subject, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.liveToken(tokenID, subject)
	if err != nil {
		return err
	}
	info := new(oidc.UserInfo)
	if err := s.fillUserinfo(ctx, info, t.subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Claims = info.Claims
	resp.Active = true
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Audience = []string{t.clientID}
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

func (s *storage) liveToken(tokenID, subject string) (accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.subject != subject || !s.now().Before(t.expires) {
		return accessToken{}, errors.New("devidp: access token invalid or expired")
	}
	return *t, nil
}

// fillUserinfo reads the user afresh so that edits made while the portal
// is running show up on the next token, as they would with a real IdP.
func (s *storage) fillUserinfo(ctx context.Context, info *oidc.UserInfo, subject string, scopes []string) error {
	u, err := s.user(ctx, subject)
	if err != nil {
		return err
	}
	// IDTokenClaims.SetUserInfo copies Subject over the token's sub, so
	// it must always be set here.
	info.Subject = u.Subject
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.Name
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		info.Email = u.Email
		info.EmailVerified = true
	}
	for k, v := range u.Claims {
		info.AppendClaims(k, v)
	}
	return nil
}

func (s *storage) user(ctx context.Context, subject string) (User, error) {
	users, err := s.users(ctx)
	if err != nil {
		return User{}, fmt.Errorf("devidp: loading users: %w", err)
	}
	for _, u := range users {
		if u.Subject == subject {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("devidp: unknown user %q", subject)
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotSupported
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNotSupported
}

func (s *storage) Health(context.Context) error { return nil }
