package web

import (
	"sync"
	"time"

	"github.com/nhsprocure/portal/internal/store"
)

// viewerTTL bounds how long a remembered viewer is used. Every change the
// portal makes to what it holds is announced (store.Changes) and forgets
// it at once; the bound is for changes made behind the portal's back,
// such as a row edited by hand.
const viewerTTL = 10 * time.Second

// viewerCacheSweep is the size at which stale entries are first swept out.
const viewerCacheSweep = 1024

// viewerCache remembers, per session, what every signed-in request reads
// before its handler runs: the session with its user, their roles and
// their unread count, three queries that were most of the work of a
// simple page, and the menu their roles give them. An entry is used only
// while the role rules in force are the ones it was read under, and is
// forgotten when a change to the session or the person is announced, on
// any instance; the session's expiry is still checked on every request
// (auth.Sessions.Live).
type viewerCache struct {
	changes *store.Changes
	now     func() time.Time // real time: freshness, not the domain's clock

	mu        sync.Mutex
	gen       uint64 // bumped by every change heard
	entries   map[string]*viewerEntry
	nextSweep int
}

// viewerEntry is what is remembered of one session. It is shared by the
// requests that use it and never changed once stored.
type viewerEntry struct {
	viewer       *Viewer
	rolesVersion int64
	loaded       time.Time
}

func newViewerCache(changes *store.Changes) *viewerCache {
	c := &viewerCache{changes: changes, now: time.Now, entries: map[string]*viewerEntry{}, nextSweep: viewerCacheSweep}
	if changes != nil {
		changes.Subscribe(c.heard)
	}
	return c
}

// get returns the remembered entry for sessionID if it is still good for
// the role rules at rolesVersion, or loads one and remembers it unless a
// change was heard while it loaded (it may have been read from before the
// change).
func (c *viewerCache) get(sessionID string, rolesVersion int64, load func() (*viewerEntry, error)) (*viewerEntry, error) {
	if !c.changes.Live() {
		return load()
	}
	c.mu.Lock()
	e, ok := c.entries[sessionID]
	gen := c.gen
	c.mu.Unlock()
	if ok && e.rolesVersion == rolesVersion && c.now().Sub(e.loaded) < viewerTTL {
		return e, nil
	}
	started := c.now()
	e, err := load()
	if err != nil {
		return nil, err
	}
	e.rolesVersion, e.loaded = rolesVersion, started
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && c.changes.Live() {
		c.entries[sessionID] = e
		c.sweep()
	}
	return e, nil
}

// forget drops what is remembered of one session on this instance.
func (c *viewerCache) forget(sessionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, sessionID)
}

// heard drops what a change announced on any instance makes stale.
func (c *viewerCache) heard(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	user, session, all := store.WhatChanged(key)
	switch {
	case all:
		clear(c.entries)
	case session != "":
		delete(c.entries, session)
	case user != "":
		for id, e := range c.entries {
			if e.viewer.Session.UserID == user {
				delete(c.entries, id)
			}
		}
	}
}

// sweep drops stale entries once the map has grown to twice its size after
// the last sweep, so sessions no longer used do not pile up. c.mu is held.
func (c *viewerCache) sweep() {
	if len(c.entries) < c.nextSweep {
		return
	}
	now := c.now()
	for id, e := range c.entries {
		if now.Sub(e.loaded) >= viewerTTL {
			delete(c.entries, id)
		}
	}
	c.nextSweep = max(viewerCacheSweep, 2*len(c.entries))
}
