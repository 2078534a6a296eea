// Package audit keeps the append-only, hash-chained record of who did what.
// Every entry's hash covers its own fields and the previous entry's hash, so
// changing or deleting a row breaks the chain at that point and Verify names
// it. Entries are written inside the same transaction as the change they
// describe, and writes are serialised so the chain has exactly one order.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
)

// Outcomes of an audited action.
const (
	Success = "success"
	Denied  = "denied"
	Failure = "failure"
)

// genesis is the previous-hash of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainLock is the first half of the PostgreSQL advisory lock key that
// serialises appends; the second half is the schema's, since each schema
// holds a chain of its own (advisory locks are database-wide).
const chainLock = 7_244_001

// Entry is one row of the audit log.
type Entry struct {
	Seq         int64     `gorm:"column:seq;primaryKey;autoIncrement"`
	OccurredAt  time.Time `gorm:"column:occurred_at"`
	ActorUserID string    `gorm:"column:actor_user_id"`
	ActorLabel  string    `gorm:"column:actor_label"`
	ActingOrgID string    `gorm:"column:acting_org_id"`
	Action      string    `gorm:"column:action"`
	ObjectType  string    `gorm:"column:object_type"`
	ObjectID    string    `gorm:"column:object_id"`
	Outcome     string    `gorm:"column:outcome"`
	IP          string    `gorm:"column:ip"`
	Detail      string    `gorm:"column:detail"`
	PrevHash    string    `gorm:"column:prev_hash"`
	Hash        string    `gorm:"column:hash"`
}

// TableName tells GORM where entries live.
func (Entry) TableName() string { return "audit_entries" }

// Actor is who is acting: the signed-in user, the organisation they act for
// and where the request came from. The zero Actor is the system itself.
type Actor struct {
	UserID string
	Label  string
	OrgID  string
	IP     string
}

// System is the actor for work the portal does by itself (seeding, jobs).
var System = Actor{Label: "system"}

// Event is what happened.
type Event struct {
	Action     string
	ObjectType string
	ObjectID   string
	Outcome    string
	// Detail holds extra facts (old and new values, a reason). Never put bid
	// prices, tokens or document contents here.
	Detail map[string]any
}

// Log appends entries using the injected clock.
type Log struct {
	Clock clock.Clock
}

// Append writes ev as the next entry of the chain inside tx. It must be
// called in the transaction that makes the change, so both commit together.
func (l *Log) Append(tx *gorm.DB, actor Actor, ev Event) error {
	if ev.Outcome == "" {
		ev.Outcome = Success
	}
	detail := ""
	if len(ev.Detail) > 0 {
		b, err := json.Marshal(ev.Detail)
		if err != nil {
			return fmt.Errorf("audit detail: %w", err)
		}
		detail = string(b)
	}
	e := Entry{
		ActorUserID: actor.UserID,
		ActorLabel:  actor.Label,
		ActingOrgID: actor.OrgID,
		Action:      ev.Action,
		ObjectType:  ev.ObjectType,
		ObjectID:    ev.ObjectID,
		Outcome:     ev.Outcome,
		IP:          actor.IP,
		Detail:      detail,
	}
	// In a transaction opened by store.DB.Tx the entry is linked and
	// written just before the commit, so the chain's lock is held for the
	// commit alone rather than for the rest of the transaction.
	write := func(tx *gorm.DB) error { return l.link(tx, &e) }
	if store.BeforeCommit(tx, write) {
		return nil
	}
	return write(tx)
}

// link takes the chain's lock, links e to the head with the time now and
// writes it.
func (l *Log) link(tx *gorm.DB, e *Entry) error {
	prev, err := lockHead(tx)
	if err != nil {
		return err
	}
	e.OccurredAt = l.Clock.Now().UTC().Truncate(time.Microsecond)
	e.PrevHash = prev
	e.Hash = e.computeHash()
	if err := tx.Create(e).Error; err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// lockHead takes the chain's write lock for the rest of tx and returns the
// hash of the last entry (genesis for an empty log), which the next entry
// links to.
func lockHead(tx *gorm.DB) (string, error) {
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))", chainLock).Error; err != nil {
			return "", fmt.Errorf("lock audit chain: %w", err)
		}
	}
	// SQLite transactions start with an immediate write lock (see store.Open),
	// which serialises appends there.
	var last Entry
	if err := tx.Select("hash").Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return "", fmt.Errorf("read audit chain head: %w", err)
	}
	if last.Hash == "" {
		return genesis, nil
	}
	return last.Hash, nil
}

// Record writes ev in a transaction of its own, for events with no other
// change to go with them (a refused request, a failed sign-in).
func (l *Log) Record(ctx context.Context, db *store.DB, actor Actor, ev Event) error {
	return db.Tx(ctx, func(tx *gorm.DB) error { return l.Append(tx, actor, ev) })
}

// Refused records that actor was refused action on an object, with err's
// text as the reason, in a transaction of its own (the refused change has
// rolled back by then), when err is one of refusals (errors.Is); it
// returns err either way, joined with any failure to record. Every domain
// package reports its permission refusals through it, so a refusal is
// audited the same way everywhere.
func (l *Log) Refused(ctx context.Context, db *store.DB, actor Actor, action, objectType, objectID string, err error, refusals ...error) error {
	refused := false
	for _, r := range refusals {
		refused = refused || errors.Is(err, r)
	}
	if !refused {
		return err
	}
	if aerr := l.Record(ctx, db, actor, Event{
		Action: action, ObjectType: objectType, ObjectID: objectID, Outcome: Denied,
		Detail: map[string]any{"reason": err.Error()},
	}); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// computeHash hashes the previous hash and every field of the entry with
// unambiguous separators.
func (e Entry) computeHash() string {
	h := sha256.New()
	fields := []string{
		e.PrevHash,
		e.OccurredAt.UTC().Format(time.RFC3339Nano),
		e.ActorUserID, e.ActorLabel, e.ActingOrgID,
		e.Action, e.ObjectType, e.ObjectID, e.Outcome, e.IP, e.Detail,
	}
	for _, f := range fields {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Break describes the first entry where the chain does not hold.
type Break struct {
	Seq    int64
	Reason string
}

func (b Break) String() string { return fmt.Sprintf("entry %d: %s", b.Seq, b.Reason) }

// Verify walks the whole chain in order and returns how many entries it
// checked and the first broken link, if any.
func Verify(ctx context.Context, db *store.DB) (int, *Break, error) {
	const batch = 1000
	prev := genesis
	var after int64
	checked := 0
	for {
		var entries []Entry
		if err := db.WithContext(ctx).Where("seq > ?", after).Order("seq").Limit(batch).Find(&entries).Error; err != nil {
			return checked, nil, fmt.Errorf("read audit entries: %w", err)
		}
		for _, e := range entries {
			switch {
			case e.PrevHash != prev:
				return checked, &Break{e.Seq, "does not follow the entry before it (an entry was removed, inserted or changed)"}, nil
			case e.computeHash() != e.Hash:
				return checked, &Break{e.Seq, "its content does not match its hash (the row was changed)"}, nil
			}
			prev = e.Hash
			after = e.Seq
			checked++
		}
		if len(entries) < batch {
			return checked, nil, nil
		}
	}
}

// Filter narrows the audit page's listing.
type Filter struct {
	Action  string
	Actor   string
	OrgID   string
	Outcome string
	From    time.Time
	To      time.Time
	Before  int64 // paging: entries with seq below this
	Limit   int
	// HideSealed leaves out entries about sealed submissions, which name the
	// suppliers who applied or bid: only auditors may see those.
	HideSealed bool
}

// List returns entries newest first, matching f.
func List(ctx context.Context, db *store.DB, f Filter) ([]Entry, error) {
	q := db.WithContext(ctx).Model(&Entry{})
	if f.Action != "" {
		q = q.Where("LOWER(action) LIKE ? "+store.LikeEscape, store.Prefix(f.Action))
	}
	if f.Actor != "" {
		q = q.Where("LOWER(actor_label) LIKE ? "+store.LikeEscape+" OR actor_user_id = ?", store.Contains(f.Actor), f.Actor)
	}
	if f.OrgID != "" {
		q = q.Where("acting_org_id = ?", f.OrgID)
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", f.To.UTC())
	}
	if f.Before > 0 {
		q = q.Where("seq < ?", f.Before)
	}
	if f.HideSealed {
		q = q.Where("object_type <> ?", "sealed_submission")
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []Entry
	if err := q.Order("seq DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}
