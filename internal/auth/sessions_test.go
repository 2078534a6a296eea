package auth_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/auth"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

var sessionStart = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const (
	idleTimeout     = 30 * time.Minute
	absoluteTimeout = 12 * time.Hour
)

// sessionFixture is a database with one user and one trust, and sessions on a
// manual clock.
type sessionFixture struct {
	db       *store.DB
	clk      *clock.Manual
	sessions *auth.Sessions
	userID   string
	orgID    string
}

func newSessionFixture(t *testing.T, db *store.DB) *sessionFixture {
	t.Helper()
	clk := clock.NewManual(sessionStart)
	f := &sessionFixture{
		db:       db,
		clk:      clk,
		sessions: &auth.Sessions{DB: db, Clock: clk, Key: bytes.Repeat([]byte{7}, 32), Idle: idleTimeout, Absolute: absoluteTimeout},
		userID:   "user-1",
		orgID:    "org-1",
	}
	ods := "RJ7"
	if err := db.Create(&orgs.Organisation{ID: f.orgID, Kind: orgs.KindTrust, Name: "Trust", ODSCode: &ods, Region: "Y56", Version: 1, CreatedAt: sessionStart, UpdatedAt: sessionStart}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&orgs.User{ID: f.userID, Issuer: "https://idp.example.nhs.uk", Subject: "sub-1", Name: "Aisha Khan", Version: 1, CreatedAt: sessionStart, UpdatedAt: sessionStart}).Error; err != nil {
		t.Fatal(err)
	}
	return f
}

// create starts a session in its own transaction, as sign-in does.
func (f *sessionFixture) create(t *testing.T) string {
	t.Helper()
	var token string
	err := f.db.Tx(context.Background(), func(tx *gorm.DB) error {
		var err error
		token, err = f.sessions.Create(tx, f.userID, "dev", "hint", &f.orgID)
		return err
	})
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return token
}

func (f *sessionFixture) count(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := f.db.Model(&auth.Session{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A session created in a transaction is found by its token and by nothing
// else; a session whose transaction rolls back does not exist.
func TestSessionLookupByToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSessionFixture(t, db)
		token := f.create(t)
		other := f.create(t)
		if token == other || len(token) < 40 {
			t.Fatalf("tokens %q and %q: want two distinct long random tokens", token, other)
		}
		sess, err := f.sessions.Lookup(ctx, token)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if sess.UserID != f.userID || sess.User.Name != "Aisha Khan" || sess.Provider != "dev" || sess.IDTokenHint != "hint" ||
			sess.ActingOrgID == nil || *sess.ActingOrgID != f.orgID || !sess.ExpiresAt.Equal(sessionStart.Add(absoluteTimeout)) {
			t.Fatalf("session = %+v", sess)
		}
		otherSess, err := f.sessions.Lookup(ctx, other)
		if err != nil || otherSess.ID == sess.ID {
			t.Fatalf("second session: %+v, %v; want a different session", otherSess, err)
		}
		for _, bad := range []string{"", "not-a-token", token[:len(token)-1], token + "x", strings.ToUpper(token), sess.ID} {
			if _, err := f.sessions.Lookup(ctx, bad); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("Lookup(%q) = %v, want ErrNoSession", bad, err)
			}
		}

		var lost string
		boom := errors.New("sign-in failed later")
		err = db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			if lost, err = f.sessions.Create(tx, f.userID, "dev", "", nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		if _, err := f.sessions.Lookup(ctx, lost); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("session from a rolled-back sign-in: %v, want ErrNoSession", err)
		}

		// Ending a session removes it.
		if err := db.Tx(ctx, func(tx *gorm.DB) error { return f.sessions.End(tx, sess.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.sessions.Lookup(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("ended session: %v, want ErrNoSession", err)
		}
		if _, err := f.sessions.Lookup(ctx, other); err != nil {
			t.Fatalf("ending one session ended another: %v", err)
		}
	})
}

// The database holds a keyed hash of the token, never the token: a copy of
// the sessions table cannot be replayed, and without the key the token
// finds nothing.
func TestSessionIDIsKeyedHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSessionFixture(t, db)
		token := f.create(t)
		var ids []string
		if err := db.Raw("SELECT id FROM sessions").Scan(&ids).Error; err != nil || len(ids) != 1 {
			t.Fatalf("session ids %v (err %v), want one", ids, err)
		}
		id := ids[0]
		if id == token || strings.Contains(id, token) {
			t.Fatalf("stored session ID %q contains the token", id)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
			t.Fatalf("stored session ID %q is not a hex SHA-256 HMAC", id)
		}
		if _, err := f.sessions.Lookup(ctx, id); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("the stored ID works as a token: %v", err)
		}
		otherKey := *f.sessions
		otherKey.Key = bytes.Repeat([]byte{8}, 32)
		if _, err := otherKey.Lookup(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("the token found the session under another key: %v", err)
		}
		if _, err := f.sessions.Lookup(ctx, token); err != nil {
			t.Fatalf("the right key no longer finds the session: %v", err)
		}
	})
}

// A session ends after Idle without a request, and its row is deleted;
// requests within Idle keep it alive, and busy sessions are written at most
// once a minute.
func TestSessionIdleTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSessionFixture(t, db)
		token := f.create(t)

		f.clk.Advance(30 * time.Second)
		if _, err := f.sessions.Lookup(ctx, token); err != nil {
			t.Fatalf("after 30s: %v", err)
		}
		var seen auth.Session
		db.First(&seen)
		if !seen.LastSeenAt.Equal(sessionStart) {
			t.Fatalf("last seen moved to %v within a minute; want it written at most once a minute", seen.LastSeenAt)
		}

		f.clk.Set(sessionStart.Add(idleTimeout - time.Second))
		if _, err := f.sessions.Lookup(ctx, token); err != nil {
			t.Fatalf("one second before the idle timeout: %v", err)
		}
		db.First(&seen)
		if !seen.LastSeenAt.Equal(sessionStart.Add(idleTimeout - time.Second)) {
			t.Fatalf("last seen = %v, want the time of the request", seen.LastSeenAt)
		}
		f.clk.Advance(idleTimeout - time.Second)
		if _, err := f.sessions.Lookup(ctx, token); err != nil {
			t.Fatalf("activity did not extend the idle timeout: %v", err)
		}

		f.clk.Advance(idleTimeout)
		if _, err := f.sessions.Lookup(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("after %v idle: %v, want ErrNoSession", idleTimeout, err)
		}
		if n := f.count(t); n != 0 {
			t.Fatalf("%d sessions left after idle expiry, want the row deleted", n)
		}
		// Going back in time does not revive it.
		f.clk.Set(sessionStart)
		if _, err := f.sessions.Lookup(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("expired session revived: %v", err)
		}
	})
}

// However active, a session ends Absolute after sign-in.
func TestSessionAbsoluteTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSessionFixture(t, db)
		token := f.create(t)
		const step = 5 * time.Minute
		for elapsed := step; elapsed < absoluteTimeout; elapsed += step {
			f.clk.Set(sessionStart.Add(elapsed))
			if _, err := f.sessions.Lookup(ctx, token); err != nil {
				t.Fatalf("active session ended after %v: %v", elapsed, err)
			}
		}
		f.clk.Set(sessionStart.Add(absoluteTimeout))
		if _, err := f.sessions.Lookup(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("at the absolute timeout: %v, want ErrNoSession", err)
		}
		if n := f.count(t); n != 0 {
			t.Fatalf("%d sessions left after absolute expiry, want 0", n)
		}
	})
}

// Disabling a user ends their live sessions at the next request, even if
// nothing else deleted them.
func TestSessionOfDisabledUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSessionFixture(t, db)
		token := f.create(t)
		if _, err := f.sessions.Lookup(ctx, token); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE users SET disabled_at = ? WHERE id = ?", f.clk.Now(), f.userID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := f.sessions.Lookup(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("disabled user's session: %v, want ErrNoSession", err)
		}
		if n := f.count(t); n != 0 {
			t.Fatalf("%d sessions left for a disabled user, want 0", n)
		}
	})
}

// SetActingOrg records the organisation the person acts for.
func TestSetActingOrg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSessionFixture(t, db)
		var token string
		if err := db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			token, err = f.sessions.Create(tx, f.userID, "dev", "", nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sess, err := f.sessions.Lookup(ctx, token)
		if err != nil || sess.ActingOrgID != nil {
			t.Fatalf("new session %+v (err %v), want no acting organisation", sess, err)
		}
		log := &audit.Log{Clock: f.sessions.Clock}
		if err := f.sessions.SetActingOrg(ctx, sess.ID, f.orgID, log, audit.Actor{UserID: sess.UserID, Label: "test"}); err != nil {
			t.Fatal(err)
		}
		if sess, err = f.sessions.Lookup(ctx, token); err != nil || sess.ActingOrgID == nil || *sess.ActingOrgID != f.orgID {
			t.Fatalf("after SetActingOrg: %+v (err %v)", sess, err)
		}
		if err := f.sessions.SetActingOrg(ctx, sess.ID, "no-such-org", log, audit.Actor{UserID: sess.UserID, Label: "test"}); err == nil {
			t.Fatal("acting for a missing organisation was stored")
		}
	})
}

// Sweep deletes sessions past their idle or absolute timeout and expired
// sign-in attempts, and keeps live ones.
func TestSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSessionFixture(t, db)
		f.sessions.Absolute = time.Hour

		idleToken := f.create(t) // created at the start, never used again: idle by 30m
		oldToken := f.create(t)  // created at the start, kept busy: hits the 1h absolute limit
		var liveToken string
		for _, minute := range []time.Duration{20, 40, 50} {
			f.clk.Set(sessionStart.Add(minute * time.Minute))
			if minute == 40 {
				liveToken = f.create(t) // created at 40m
			}
			if _, err := f.sessions.Lookup(ctx, oldToken); err != nil {
				t.Fatalf("busy session at %dm: %v", minute, err)
			}
		}
		insertAttempt := func(id string, expires time.Time) {
			t.Helper()
			if err := db.Exec("INSERT INTO login_attempts (id, provider, state, nonce, verifier, expires_at) VALUES (?, 'dev', 's', 'n', 'v', ?)", id, expires).Error; err != nil {
				t.Fatal(err)
			}
		}
		insertAttempt("attempt-expired", sessionStart.Add(55*time.Minute))
		insertAttempt("attempt-at-now", sessionStart.Add(61*time.Minute))
		insertAttempt("attempt-live", sessionStart.Add(70*time.Minute))

		f.clk.Set(sessionStart.Add(61 * time.Minute))
		if err := f.sessions.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		var left []string
		// Look at the rows directly: Lookup would delete expired rows itself.
		if err := db.Raw("SELECT user_id FROM sessions").Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 {
			t.Fatalf("%d sessions after Sweep, want only the live one", len(left))
		}
		if _, err := f.sessions.Lookup(ctx, liveToken); err != nil {
			t.Fatalf("Sweep removed the live session: %v", err)
		}
		for _, tok := range []string{idleToken, oldToken} {
			if _, err := f.sessions.Lookup(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
				t.Fatalf("expired session survived Sweep: %v", err)
			}
		}
		var attempts []string
		if err := db.Raw("SELECT id FROM login_attempts ORDER BY id").Scan(&attempts).Error; err != nil {
			t.Fatal(err)
		}
		if strings.Join(attempts, ",") != "attempt-live" {
			t.Fatalf("sign-in attempts after Sweep = %v, want only attempt-live", attempts)
		}
	})
}
