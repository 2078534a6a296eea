package orgs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Grant gives a user a role in an organisation.
func (s *Service) Grant(ctx context.Context, actor audit.Actor, userID, orgID, role string) (*Membership, error) {
	var m *Membership
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		m, err = s.GrantTx(ctx, tx, actor, userID, orgID, role)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, s.rolesChanged(ctx)
}

// GrantTx gives a role inside the caller's transaction, with the same rules,
// notification and audit entry as Grant. The caller reloads the role rules
// (RolesChanged) after committing.
func (s *Service) GrantTx(ctx context.Context, tx *gorm.DB, actor audit.Actor, userID, orgID, role string) (*Membership, error) {
	m := &Membership{ID: newID(), UserID: userID, OrganisationID: orgID, Role: role, Source: SourcePortal, CreatedAt: s.Clock.Now()}
	var v validate.Errors
	var u User
	if err := tx.Where("id = ?", userID).First(&u).Error; err != nil {
		return nil, notFound(err, "user")
	}
	var o Organisation
	if err := tx.Where("id = ?", orgID).First(&o).Error; err != nil {
		v.Add("organisationId", "Select an organisation from the list")
	}
	r := authz.Role(role)
	switch {
	case !r.Valid():
		v.Add("role", "Select a role from the list")
	case o.ID != "" && !r.AllowedIn(o.Kind):
		v.Add("role", fmt.Sprintf("A %s can only be given in a %s", r.Label(), kindList(r.Kinds())))
	}
	var n int64
	tx.Model(&Membership{}).Where("user_id = ? AND organisation_id = ? AND role = ?", userID, orgID, role).Count(&n)
	if n > 0 {
		v.Add("role", u.DisplayName()+" already has this role in "+o.Name)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := tx.Omit("User", "Organisation").Create(m).Error; err != nil {
		return nil, fmt.Errorf("grant role: %w", err)
	}
	if err := s.markRolesChanged(tx, userID); err != nil {
		return nil, err
	}
	if err := s.roleChanged(ctx, tx, actor, userID, o.Name, role, true); err != nil {
		return nil, err
	}
	err := s.Audit.Append(tx, actor, audit.Event{
		Action: "membership.grant", ObjectType: "user", ObjectID: userID,
		Detail: map[string]any{"organisation_id": orgID, "role": role},
	})
	return m, err
}

// RolesChanged reloads this instance's role rules after a caller committed
// a GrantTx.
func (s *Service) RolesChanged(ctx context.Context) error { return s.rolesChanged(ctx) }

func kindList(kinds []string) string {
	out := ""
	for i, k := range kinds {
		if i > 0 {
			out += " or "
		}
		out += KindLabel(k)
	}
	return out
}

// Revoke removes a membership. The change reaches every instance through the
// role version (see authz.Changed).
func (s *Service) Revoke(ctx context.Context, actor audit.Actor, userID, membershipID string) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var m Membership
		if err := tx.Where("id = ? AND user_id = ?", membershipID, userID).First(&m).Error; err != nil {
			return notFound(err, "membership")
		}
		if err := tx.Delete(&m).Error; err != nil {
			return fmt.Errorf("revoke role: %w", err)
		}
		if err := tx.Exec("UPDATE sessions SET acting_org_id = NULL WHERE user_id = ? AND acting_org_id = ? AND NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = ? AND organisation_id = ?)",
			userID, m.OrganisationID, userID, m.OrganisationID).Error; err != nil {
			return fmt.Errorf("reset acting organisation: %w", err)
		}
		if err := s.markRolesChanged(tx, userID); err != nil {
			return err
		}
		var org Organisation
		if err := tx.Where("id = ?", m.OrganisationID).First(&org).Error; err != nil {
			return notFound(err, "organisation")
		}
		if err := s.roleChanged(ctx, tx, actor, m.UserID, org.Name, m.Role, false); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "membership.revoke", ObjectType: "user", ObjectID: m.UserID,
			Detail: map[string]any{"organisation_id": m.OrganisationID, "role": m.Role},
		})
	})
	if err != nil {
		return err
	}
	return s.rolesChanged(ctx)
}

// markRolesChanged marks, inside tx, that userID's roles have changed: every
// instance reloads the role rules and forgets what it remembered of the
// person's roles.
func (s *Service) markRolesChanged(tx *gorm.DB, userID string) error {
	if err := authz.Changed(tx); err != nil {
		return err
	}
	return s.DB.Publish(tx, store.ChangedUser(userID))
}

// MembershipsOf lists a user's roles with their organisations.
func (s *Service) MembershipsOf(ctx context.Context, userID string) ([]Membership, error) {
	return membershipsOf(s.DB.WithContext(ctx), userID)
}

func membershipsOf(db *gorm.DB, userID string) ([]Membership, error) {
	var out []Membership
	// One query, the organisation joined: every signed-in request reads
	// the viewer's memberships.
	err := db.Joins("Organisation").
		Where("memberships.user_id = ?", userID).Order(`"Organisation".name, memberships.role`).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	return out, nil
}

// MembersOf lists the people holding roles in an organisation.
func (s *Service) MembersOf(ctx context.Context, orgID string) ([]Membership, error) {
	var out []Membership
	err := s.DB.WithContext(ctx).Preload("User").Joins("JOIN users u ON u.id = memberships.user_id").
		Where("memberships.organisation_id = ?", orgID).Order("u.name, memberships.role").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list organisation members: %w", err)
	}
	return out, nil
}

// ClaimedRole is a role an identity provider says a person holds, naming the
// organisation by ODS code, Companies House number or portal ID.
type ClaimedRole struct {
	OrgRef string
	Role   string
}

// Identity is who an identity provider says signed in.
type Identity struct {
	Issuer  string
	Subject string
	Email   string
	Name    string
	Roles   []ClaimedRole
}

// SignInResult is the outcome of recording a sign-in.
type SignInResult struct {
	User        User
	Memberships []Membership
	// Unmatched lists claimed roles the portal could not apply (unknown
	// organisation, unknown role, or a role not allowed in that kind of
	// organisation), for the page that says whom to ask.
	Unmatched []ClaimedRole
}

// ErrUserDisabled refuses a sign-in by a disabled user.
var ErrUserDisabled = errors.New("user is disabled")

// RecordSignIn creates or updates the user behind id and replaces the roles
// that came from the identity provider with the ones claimed now, inside tx
// (the caller's sign-in transaction, which also creates the session and the
// audit entry). Roles granted in the portal are kept.
func RecordSignIn(tx *gorm.DB, id Identity, now time.Time) (*SignInResult, error) {
	var u User
	err := tx.Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).First(&u).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		u = User{ID: newID(), Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, Name: id.Name, Version: 1, CreatedAt: now, UpdatedAt: now, LastLoginAt: &now}
		if err := tx.Create(&u).Error; err != nil {
			return nil, fmt.Errorf("create user at sign-in: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("find user at sign-in: %w", err)
	case u.Disabled():
		return nil, ErrUserDisabled
	default:
		updates := map[string]any{"last_login_at": now}
		if id.Email != "" {
			updates["email"] = id.Email
		}
		if id.Name != "" {
			updates["name"] = id.Name
		}
		if err := tx.Model(&u).Updates(updates).Error; err != nil {
			return nil, fmt.Errorf("update user at sign-in: %w", err)
		}
	}
	res := &SignInResult{User: u}
	changed, err := syncClaimedRoles(tx, u.ID, id.Roles, now, res)
	if err != nil {
		return nil, err
	}
	if changed {
		if err := authz.Changed(tx); err != nil {
			return nil, err
		}
	}
	if res.Memberships, err = membershipsOf(tx, u.ID); err != nil {
		return nil, err
	}
	return res, nil
}

func syncClaimedRoles(tx *gorm.DB, userID string, claimed []ClaimedRole, now time.Time, res *SignInResult) (bool, error) {
	type key struct{ org, role string }
	want := map[key]bool{}
	for _, c := range claimed {
		var o Organisation
		err := tx.Where("id = ? OR ods_code = ? OR companies_house_number = ?", c.OrgRef, c.OrgRef, c.OrgRef).First(&o).Error
		r := authz.Role(c.Role)
		if err != nil || !r.Valid() || !r.AllowedIn(o.Kind) {
			res.Unmatched = append(res.Unmatched, c)
			continue
		}
		want[key{o.ID, c.Role}] = true
	}
	var have []Membership
	if err := tx.Where("user_id = ?", userID).Find(&have).Error; err != nil {
		return false, fmt.Errorf("read memberships at sign-in: %w", err)
	}
	changed := false
	for _, m := range have {
		k := key{m.OrganisationID, m.Role}
		if want[k] {
			delete(want, k) // already held, whatever its source
			continue
		}
		if m.Source == SourceIdentity {
			if err := tx.Delete(&m).Error; err != nil {
				return false, fmt.Errorf("drop role no longer claimed: %w", err)
			}
			changed = true
		}
	}
	keys := make([]key, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.org != b.org {
			return cmp.Compare(a.org, b.org)
		}
		return cmp.Compare(a.role, b.role)
	})
	for _, k := range keys {
		m := Membership{ID: newID(), UserID: userID, OrganisationID: k.org, Role: k.role, Source: SourceIdentity, CreatedAt: now}
		if err := tx.Create(&m).Error; err != nil {
			return false, fmt.Errorf("add claimed role: %w", err)
		}
		changed = true
	}
	return changed, nil
}
