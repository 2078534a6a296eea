package orgs

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
)

// RoleReloader is told after role assignments change so this instance
// enforces the change at once (other instances notice the version bump).
type RoleReloader interface {
	Reload(ctx context.Context) error
}

// Notifier tells people about changes, inside the transaction that makes
// them (so a rolled-back change tells nobody).
type Notifier interface {
	Notify(ctx context.Context, tx *gorm.DB, userID, kind string, data map[string]any, link string) error
}

// Service changes organisations, users and memberships. Every change runs in
// one transaction with its audit entry.
type Service struct {
	DB     *store.DB
	Audit  *audit.Log
	Clock  clock.Clock
	Roles  RoleReloader
	Notify Notifier // optional
}

// roleChanged tells a person their role in an organisation was given or
// taken away.
func (s *Service) roleChanged(ctx context.Context, tx *gorm.DB, actor audit.Actor, userID, orgName, role string, added bool) error {
	if s.Notify == nil {
		return nil
	}
	return s.Notify.Notify(ctx, tx, userID, "role_changed", map[string]any{
		"Organisation": orgName, "Role": authz.Role(role).Label(), "Added": added, "ChangedBy": actor.Label,
	}, "/")
}

// newID returns a random identifier, so URLs never reveal how many records
// exist.
func newID() string { return uuid.NewString() }

// notFound turns GORM's not-found into the store's.
func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// rolesChanged reloads this instance's role rules after a committed change.
func (s *Service) rolesChanged(ctx context.Context) error {
	if s.Roles == nil {
		return nil
	}
	return s.Roles.Reload(ctx)
}
