// Package auth signs people in through OpenID Connect providers and keeps
// their sessions on the server, in the database, so sessions survive a
// restart, work across several instances and can be ended from anywhere.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
)

// Session is a signed-in browser. Its ID is a keyed hash of the token in the
// cookie, so a copy of the database alone cannot be used to take a session
// over.
type Session struct {
	ID          string
	UserID      string
	User        orgs.User `gorm:"foreignKey:UserID"`
	ActingOrgID *string
	Provider    string
	IDTokenHint string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
}

// ErrNoSession means the cookie names no live session (absent, expired,
// ended, or the user was disabled).
var ErrNoSession = errors.New("no live session")

// Sessions creates, finds and ends sessions.
type Sessions struct {
	DB       *store.DB
	Clock    clock.Clock
	Key      []byte
	Idle     time.Duration
	Absolute time.Duration
}

// touchEvery limits how often a busy session's last-seen time is written.
const touchEvery = time.Minute

// randomToken returns n random bytes, URL-safe encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS has no randomness: nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Sessions) id(token string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Create starts a session inside tx (the sign-in transaction) and returns the
// token for the cookie. A new token at every sign-in prevents fixation.
func (s *Sessions) Create(tx *gorm.DB, userID, provider, idTokenHint string, actingOrg *string) (string, error) {
	token := randomToken(32)
	now := s.Clock.Now()
	sess := Session{
		ID: s.id(token), UserID: userID, ActingOrgID: actingOrg, Provider: provider, IDTokenHint: idTokenHint,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.Absolute),
	}
	if err := tx.Omit("User").Create(&sess).Error; err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// Lookup returns the live session for token, refusing expired sessions (idle
// or absolute) and disabled users, and records activity.
func (s *Sessions) Lookup(ctx context.Context, token string) (*Session, error) {
	sess, err := s.Find(ctx, token)
	if err != nil {
		return nil, err
	}
	if _, err := s.Live(ctx, sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// ID is the ID of the session token names (the key for remembering it).
func (s *Sessions) ID(token string) string { return s.id(token) }

// Find reads the session token names, with its user, without deciding
// whether it may still be used: Live does, every time it is used, so a
// session read earlier and remembered is checked as strictly as one read
// now.
func (s *Sessions) Find(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	var sess Session
	// One query with its user (a join, not a second query): this runs on
	// every signed-in request that is not answered from memory.
	err := s.DB.WithContext(ctx).Joins("User").Where("sessions.id = ?", s.id(token)).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return &sess, nil
}

// Live refuses a session that has expired (idle or absolute) or whose user
// is disabled, ending it, and records activity at most every touchEvery.
// It reports whether it recorded activity: sess, which it does not change,
// then holds an older last-seen time than the database.
func (s *Sessions) Live(ctx context.Context, sess *Session) (touched bool, err error) {
	now := s.Clock.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(s.Idle)) || sess.User.Disabled() {
		db := s.DB.WithContext(ctx)
		if err := db.Where("id = ?", sess.ID).Delete(&Session{}).Error; err == nil {
			_ = s.DB.Publish(db, store.ChangedSession(sess.ID))
		}
		return false, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) < touchEvery {
		return false, nil
	}
	if err := s.DB.WithContext(ctx).Model(&Session{}).Where("id = ?", sess.ID).Update("last_seen_at", now).Error; err != nil {
		return false, fmt.Errorf("touch session: %w", err)
	}
	return true, nil
}

// End deletes a session inside tx (the sign-out transaction).
func (s *Sessions) End(tx *gorm.DB, sessionID string) error {
	if err := tx.Where("id = ?", sessionID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return s.DB.Publish(tx, store.ChangedSession(sessionID))
}

// SetActingOrg records which organisation the person acts for, with its
// audit entry, in one transaction. The caller has checked that they hold a
// role there.
func (s *Sessions) SetActingOrg(ctx context.Context, sessionID, orgID string, log *audit.Log, actor audit.Actor) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&Session{}).Where("id = ?", sessionID).Update("acting_org_id", orgID).Error; err != nil {
			return fmt.Errorf("set acting organisation: %w", err)
		}
		if err := s.DB.Publish(tx, store.ChangedSession(sessionID)); err != nil {
			return err
		}
		actor.OrgID = orgID
		return log.Append(tx, actor, audit.Event{Action: "auth.act_for", ObjectType: "organisation", ObjectID: orgID})
	})
}

// Sweep removes expired sessions and sign-in attempts.
func (s *Sessions) Sweep(ctx context.Context) error {
	now := s.Clock.Now()
	db := s.DB.WithContext(ctx)
	if err := db.Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-s.Idle)).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	if err := db.Where("expires_at <= ?", now).Delete(&loginAttempt{}).Error; err != nil {
		return fmt.Errorf("sweep sign-in attempts: %w", err)
	}
	return nil
}

// Forget ends the session named by token, if there is one, so a browser that
// signs in again leaves no older session behind.
func (s *Sessions) Forget(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	db := s.DB.WithContext(ctx)
	if err := db.Where("id = ?", s.id(token)).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("end previous session: %w", err)
	}
	return s.DB.Publish(db, store.ChangedSession(s.id(token)))
}
