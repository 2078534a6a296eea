package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// AllChanged is the change that empties every cache: heard when the
// listener (re)connects, as anything may have changed while it was not
// listening, and published when a change touches too much to name.
const AllChanged = "*"

// Changes tells the caches of every instance that rows they may hold have
// changed, so that an instance can remember what every request reads (the
// signed-in person's session, roles and unread count) and still never
// serve it after it changed. A change is named by a short key ("user:ID",
// "session:ID") and announced inside the transaction that makes it. Each
// instance hears its own changes as soon as they commit, before the
// request that made them answers; on PostgreSQL every other instance hears
// them through LISTEN/NOTIFY, which delivers a notification only when its
// transaction commits, a few milliseconds later.
type Changes struct {
	db  *DB
	log *slog.Logger

	mu   sync.RWMutex
	subs []func(key string)
	// live is whether every change made anywhere will be heard: always on
	// SQLite (one process), on PostgreSQL only while the listener is
	// connected. A cache must not answer from memory when it is not.
	live atomic.Bool
}

func newChanges(db *DB, log *slog.Logger) *Changes {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Changes{db: db, log: log}
	c.live.Store(db.Kind == SQLite)
	return c
}

// Changes returns the database's change announcements.
func (db *DB) Changes() *Changes { return db.changes }

// Subscribe has fn called with the key of every change heard, from now on.
// fn must be quick and must not block: it runs on the listener's goroutine
// or the committing request's.
func (c *Changes) Subscribe(fn func(key string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, fn)
}

// Live reports whether every change made on any instance will be heard.
func (c *Changes) Live() bool { return c != nil && c.live.Load() }

func (c *Changes) deliver(key string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, fn := range c.subs {
		fn(key)
	}
}

// Publish announces, inside tx, that what key names has changed. In a
// transaction opened by Tx the announcement is heard when it commits and
// not at all when it rolls back; outside one, at once.
func (db *DB) Publish(tx *gorm.DB, key string) error {
	if db.Kind == Postgres {
		if err := tx.Exec("SELECT pg_notify("+changesChannelSQL+", ?)", key).Error; err != nil {
			return fmt.Errorf("announce change %s: %w", key, err)
		}
	}
	if db.changes == nil {
		return nil
	}
	if !AfterCommit(tx, func() { db.changes.deliver(key) }) {
		db.changes.deliver(key)
	}
	return nil
}

// changesChannelSQL names the NOTIFY channel after the schema, so that
// portals sharing a database in separate schemas (as the tests do) do not
// hear each other; a hash keeps it within PostgreSQL's 63-byte names.
const changesChannelSQL = "'portal_changes_' || md5(current_schema())"

// listenRetry is how long the listener waits before reconnecting.
const listenRetry = time.Second

// Listen hears the changes other instances make until ctx ends,
// reconnecting after a failure. It does nothing on SQLite, where every
// change is made by this process. Each (re)connection is heard as
// AllChanged: what changed while nobody listened is not known.
func (c *Changes) Listen(ctx context.Context) {
	if c.db.Kind != Postgres {
		return
	}
	for ctx.Err() == nil {
		err := c.listenOnce(ctx)
		c.live.Store(false)
		c.deliver(AllChanged)
		if ctx.Err() != nil {
			return
		}
		c.log.Error("listen for changes from other instances; caches are bypassed until it reconnects", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

// listenOnce holds one connection of the pool for LISTEN until it fails
// or ctx ends.
func (c *Changes) listenOnce(ctx context.Context) error {
	sqlDB, err := c.db.DB.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("take a connection: %w", err)
	}
	defer conn.Close()
	var channel string
	if err := conn.QueryRowContext(ctx, "SELECT "+changesChannelSQL).Scan(&channel); err != nil {
		return fmt.Errorf("name the channel: %w", err)
	}
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL driver is %T, not pgx", driverConn)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		// Anything cached before now may have changed unheard.
		c.deliver(AllChanged)
		c.live.Store(true)
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// ErrBadConn has database/sql discard the connection, still
				// listening and perhaps mid-message, instead of pooling it.
				return errors.Join(fmt.Errorf("wait for changes: %w", err), driver.ErrBadConn)
			}
			c.deliver(n.Payload)
		}
	})
}

// Prefixes of the keys that name a change to one person or one session.
const (
	userChange    = "user:"
	sessionChange = "session:"
)

// ChangedUser names a change to a person: their account, roles or
// notifications. It also ends what is remembered of their sessions.
func ChangedUser(userID string) string { return userChange + userID }

// ChangedSession names a change to one session: ended, or acting for
// another organisation.
func ChangedSession(sessionID string) string { return sessionChange + sessionID }

// WhatChanged reads a change's key: the person or the session it names,
// or all when it is AllChanged.
func WhatChanged(key string) (userID, sessionID string, all bool) {
	if key == AllChanged {
		return "", "", true
	}
	if id, ok := strings.CutPrefix(key, userChange); ok {
		return id, "", false
	}
	id, _ := strings.CutPrefix(key, sessionChange)
	return "", id, false
}
