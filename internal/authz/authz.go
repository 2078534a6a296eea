// Package authz decides who may do what. The rules are casbin policies read
// from policies/; role assignments come from the memberships table. Checks on
// a stored object take the domain from the record itself, never from the
// request, so editing an ID into a URL cannot borrow another organisation's
// rights.
package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	defaultrolemanager "github.com/casbin/casbin/v2/rbac/default-role-manager"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/store"
)

// Domain names an organisation for casbin: "<kind>:<id>".
func Domain(kind, id string) string { return kind + ":" + id }

// Authorizer answers permission questions. It is safe for concurrent use and
// swaps in a freshly loaded enforcer when role assignments change.
type Authorizer struct {
	db        *store.DB
	modelText string
	policyCSV string
	log       *slog.Logger

	mu      sync.Mutex // serialises reloads
	current atomic.Pointer[loaded]
}

// loaded is one snapshot of the rules and role assignments with the
// decisions made on it. A decision depends on nothing but the snapshot
// and the four request values (the model's matcher calls only g and
// keyMatch), so it is remembered until the next reload replaces the
// snapshot: a page asks a dozen questions of the navigation alone, and a
// remembered answer is one map lookup where a check through the policy
// index takes a few microseconds (casbin's evaluator, the fallback, tens).
type loaded struct {
	enforcer *casbin.Enforcer
	// permissions answers checks for the enforcer without its expression
	// evaluator; nil when the model is not the one it answers for.
	permissions *permissions
	version     int64
	decisions   sync.Map // decisionKey -> bool
	remembered  atomic.Int64
}

// maxDecisions bounds the decisions remembered per snapshot (a few MiB);
// beyond it checks are evaluated every time.
const maxDecisions = 200_000

type decisionKey struct{ user, domain, obj, act string }

// New loads the model and policy text (from policies/) and the role
// assignments from db.
func New(ctx context.Context, db *store.DB, modelText, policyCSV string, log *slog.Logger) (*Authorizer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Authorizer{db: db, modelText: modelText, policyCSV: policyCSV, log: log}
	if err := a.Reload(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Allowed reports whether user may perform act on obj in domain.
func (a *Authorizer) Allowed(user, domain, obj, act string) bool {
	l := a.current.Load()
	key := decisionKey{user, domain, obj, act}
	if ok, found := l.decisions.Load(key); found {
		return ok.(bool)
	}
	ok, err := l.decide(user, domain, obj, act)
	if err != nil {
		a.log.Error("authorisation check failed; refusing", "err", err)
		return false
	}
	if l.remembered.Add(1) <= maxDecisions {
		l.decisions.Store(key, ok)
	}
	return ok
}

// decide answers a check from the policy index, or casbin's evaluator.
func (l *loaded) decide(user, domain, obj, act string) (bool, error) {
	if l.permissions != nil {
		return l.permissions.allowed(user, domain, obj, act)
	}
	return l.enforcer.Enforce(user, domain, obj, act)
}

// Version is the role assignment version the rules in force were loaded
// at: it changes whenever they are reloaded after a change, so what was
// worked out from role assignments can be remembered until it does.
func (a *Authorizer) Version() int64 { return a.current.Load().version }

// RolesIn returns the roles user holds in domain.
func (a *Authorizer) RolesIn(user, domain string) []string {
	return a.current.Load().enforcer.GetRolesForUserInDomain(user, domain)
}

// Reload rebuilds the enforcer from the policy text and the database.
func (a *Authorizer) Reload(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	version, err := a.version(ctx)
	if err != nil {
		return err
	}
	m, err := model.NewModelFromString(a.modelText)
	if err != nil {
		return fmt.Errorf("parse policies/model.conf: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return fmt.Errorf("build the enforcer: %w", err)
	}
	// Seeing keyMatch(r.dom, p.dom) in the matcher (there for the policy
	// lines' "trust:*" patterns), casbin also gives role assignments a
	// domain matching function, and then every assignment added walks
	// every domain already loaded (a reload of 100,000 took minutes) and a
	// check in a domain where nobody holds a role walks them all again.
	// Assignments hold exact domains only, so a role manager without that
	// function gives the same answers; it is also the narrower rule, as a
	// "*" in an organisation ID would match nothing but itself.
	roles := defaultrolemanager.NewRoleManager(10)
	e.SetRoleManager(roles)
	e.SetAdapter(&adapter{ctx: ctx, db: a.db, policyCSV: a.policyCSV})
	if err := e.LoadPolicy(); err != nil {
		return fmt.Errorf("load role rules: %w", err)
	}
	perms := indexPermissions(e.GetModel(), roles)
	if perms == nil {
		a.log.Warn("policies/model.conf is not the model the policy index answers for; checks use casbin's evaluator, which is slower")
	}
	a.current.Store(&loaded{enforcer: e, permissions: perms, version: version})
	return nil
}

// Refresh reloads when another instance (or this one) has changed role
// assignments since the last load.
func (a *Authorizer) Refresh(ctx context.Context) error {
	v, err := a.version(ctx)
	if err != nil {
		return err
	}
	if v == a.current.Load().version {
		return nil
	}
	return a.Reload(ctx)
}

// Watch refreshes every interval until ctx ends, so a role revoked on one
// instance is enforced on every instance within that interval.
func (a *Authorizer) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Refresh(ctx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("refresh role assignments", "err", err)
			}
		}
	}
}

func (a *Authorizer) version(ctx context.Context) (int64, error) {
	var v int64
	if err := a.db.WithContext(ctx).Raw("SELECT version FROM authz_state WHERE id = 1").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("read role assignment version: %w", err)
	}
	return v, nil
}

// Changed marks role assignments as changed, inside the transaction that
// changes them, so every instance reloads.
func Changed(tx *gorm.DB) error {
	if err := tx.Exec("UPDATE authz_state SET version = version + 1 WHERE id = 1").Error; err != nil {
		return fmt.Errorf("mark role assignments changed: %w", err)
	}
	return nil
}

// adapter loads the policy file's lines and one g line per membership of an
// enabled user. It is read-only: roles are changed through the portal's own
// services, which write the memberships table and call Changed.
type adapter struct {
	ctx       context.Context
	db        *store.DB
	policyCSV string
}

func (ad *adapter) LoadPolicy(m model.Model) error {
	for _, line := range strings.Split(ad.policyCSV, "\n") {
		if err := persist.LoadPolicyLine(strings.TrimSpace(line), m); err != nil {
			return fmt.Errorf("policies/policy.csv: %w", err)
		}
	}
	type row struct{ UserID, Role, Kind, OrganisationID string }
	var rows []row
	err := ad.db.WithContext(ad.ctx).Raw(`
		SELECT m.user_id, m.role, o.kind, m.organisation_id
		FROM memberships m
		JOIN users u ON u.id = m.user_id
		JOIN organisations o ON o.id = m.organisation_id
		WHERE u.disabled_at IS NULL`).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("load role assignments: %w", err)
	}
	for _, r := range rows {
		if err := persist.LoadPolicyArray([]string{"g", r.UserID, r.Role, Domain(r.Kind, r.OrganisationID)}, m); err != nil {
			return err
		}
	}
	return nil
}

var errReadOnly = errors.New("role rules are read-only here; change memberships through the portal")

func (ad *adapter) SavePolicy(model.Model) error                { return errReadOnly }
func (ad *adapter) AddPolicy(string, string, []string) error    { return errReadOnly }
func (ad *adapter) RemovePolicy(string, string, []string) error { return errReadOnly }
func (ad *adapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnly
}
