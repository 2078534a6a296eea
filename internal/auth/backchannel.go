package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/store"
)

// backChannelEvent is the event a logout token must carry (OpenID Connect
// Back-Channel Logout 1.0, section 2.4).
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// BackChannelLogout ends every session of the person a provider says has
// signed out there. The logout token is verified like an ID token
// (signature, issuer, audience, expiry) and must have typ logout+jwt, the
// logout event, a subject, and no nonce; anything else is refused and
// audited.
func (a *Authenticator) BackChannelLogout(ctx context.Context, providerID, rawToken, ip string) error {
	err := a.backChannelLogout(ctx, providerID, rawToken, ip)
	if err != nil {
		_ = a.Audit.Record(ctx, a.DB, audit.Actor{Label: "identity provider " + providerID, IP: ip}, audit.Event{
			Action: "auth.backchannel_logout", ObjectType: "identity_provider", ObjectID: providerID, Outcome: audit.Failure,
			Detail: map[string]any{"reason": err.Error()},
		})
	}
	return err
}

func (a *Authenticator) backChannelLogout(ctx context.Context, providerID, rawToken, ip string) error {
	p, ok := a.provider(providerID)
	if !ok {
		return &SignInError{"unknown provider"}
	}
	if typ := jwtType(rawToken); typ != "logout+jwt" {
		return &SignInError{"logout token typ is " + typ + ", not logout+jwt"}
	}
	op, err := a.discover(ctx, p)
	if err != nil {
		return &SignInError{err.Error()}
	}
	tok, err := op.Verifier(&oidc.Config{ClientID: p.Config.ClientID, Now: a.Clock.Now}).Verify(a.clientContext(ctx), rawToken)
	if err != nil {
		return &SignInError{"logout token rejected: " + err.Error()}
	}
	var claims struct {
		Events map[string]any `json:"events"`
		Nonce  *string        `json:"nonce"`
	}
	if err := tok.Claims(&claims); err != nil {
		return &SignInError{"unreadable logout token"}
	}
	switch {
	case claims.Nonce != nil:
		return &SignInError{"logout token carries a nonce"}
	case claims.Events == nil || claims.Events[backChannelEvent] == nil:
		return &SignInError{"logout token lacks the back-channel logout event"}
	case tok.Subject == "":
		return &SignInError{"logout token names no subject"}
	}
	return a.DB.Tx(ctx, func(tx *gorm.DB) error {
		var userID string
		if err := tx.Raw("SELECT id FROM users WHERE issuer = ? AND subject = ?", tok.Issuer, tok.Subject).Scan(&userID).Error; err != nil {
			return err
		}
		res := tx.Where("user_id = ?", userID).Delete(&Session{})
		if res.Error != nil {
			return res.Error
		}
		if err := a.DB.Publish(tx, store.ChangedUser(userID)); err != nil {
			return err
		}
		return a.Audit.Append(tx, audit.Actor{Label: "identity provider " + providerID, IP: ip}, audit.Event{
			Action: "auth.backchannel_logout", ObjectType: "user", ObjectID: userID,
			Detail: map[string]any{"sessions_ended": res.RowsAffected},
		})
	})
}

// jwtType reads the typ header of a compact JWT without trusting anything
// else in it (the signature is checked afterwards).
func jwtType(raw string) string {
	header, _, ok := strings.Cut(raw, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return ""
	}
	var h struct {
		Typ string `json:"typ"`
	}
	_ = json.Unmarshal(b, &h)
	return strings.ToLower(h.Typ)
}
