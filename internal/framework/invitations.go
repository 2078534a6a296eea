package framework

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Invitation statuses.
const (
	InvitationSent     = "sent"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
)

// Field names of the invitations' errors. The registration fields match the
// orgs package's organisation form.
const (
	FieldEmail          = "email"
	FieldSupplierName   = "name"
	FieldCompaniesHouse = "companiesHouseNumber"
	FieldInvitation     = "invitation"
)

// Invitation is a supplier invited by email to apply to a framework. The
// token that proves the link was received is never stored, only its hash.
type Invitation struct {
	ID            string
	FrameworkID   string
	Email         string
	SupplierOrgID *string
	SupplierOrg   *orgs.Organisation `gorm:"foreignKey:SupplierOrgID"`
	TokenHash     string
	Status        string
	InvitedBy     string
	InvitedAt     time.Time
	AcceptedAt    *time.Time
	AcceptedBy    string
	RevokedAt     *time.Time
}

// TableName tells GORM where invitations live.
func (Invitation) TableName() string { return "framework_invitations" }

// Open reports whether the invitation still waits to be accepted.
func (i Invitation) Open() bool { return i.Status == InvitationSent }

// hashToken is what is stored of a token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newToken returns a random token for an invitation link (256 bits).
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("invitation token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// normaliseEmail checks a bare address ("name@example.com", no display name)
// and returns it in lower case.
func normaliseEmail(email string) (string, bool) {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email || !strings.Contains(a.Address[strings.LastIndex(a.Address, "@")+1:], ".") {
		return "", false
	}
	return strings.ToLower(a.Address), true
}

// invitable refuses unless suppliers may be invited to f now: a draft, or
// published and not yet past its application deadline.
func invitable(f *Framework, now time.Time) error {
	var v validate.Errors
	switch st := f.State(now); st {
	case StateDraft, StateScheduled, StateOpen:
	case StateEvaluation:
		v.Add(FieldState, "The application deadline has passed; suppliers can no longer be invited")
	default:
		v.Add(FieldState, fmt.Sprintf("Suppliers cannot be invited while the framework is %s", strings.ToLower(StateLabel(st))))
	}
	return v.Err()
}

// Invite invites a supplier by email to apply to a framework, returning the
// invitation and the token for the emailed link (it is not stored and
// cannot be read again). supplierOrgID names a supplier already known to
// the portal, or is empty. Inviting an email again revokes its open
// invitation, so only the newest link works.
func (s *Service) Invite(ctx context.Context, actor audit.Actor, frameworkID, email, supplierOrgID string) (*Invitation, string, error) {
	var v validate.Errors
	addr, ok := normaliseEmail(email)
	switch {
	case strings.TrimSpace(email) == "":
		v.Add(FieldEmail, "Enter the supplier contact's email address")
	case !ok:
		v.Add(FieldEmail, "Enter an email address in the correct format, like name@example.com")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	token, err := newToken()
	if err != nil {
		return nil, "", err
	}
	supplierOrgID = strings.TrimSpace(supplierOrgID)
	var inv *Invitation
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lock(tx, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := invitable(f, now); err != nil {
			return err
		}
		if supplierOrgID != "" {
			var org orgs.Organisation
			if err := tx.Where("id = ?", supplierOrgID).First(&org).Error; err != nil {
				return notFound(err, "organisation")
			}
			if org.Kind != orgs.KindSupplier {
				v.Add(FieldOrganisation, fmt.Sprintf("Only suppliers can be invited; %s is not a supplier", org.Name))
				return v.Err()
			}
		}
		var accepted int64
		if err := tx.Model(&Invitation{}).Where("framework_id = ? AND email = ? AND status = ?", frameworkID, addr, InvitationAccepted).
			Count(&accepted).Error; err != nil {
			return fmt.Errorf("read invitations: %w", err)
		}
		if accepted > 0 {
			v.Add(FieldEmail, fmt.Sprintf("%s has already accepted an invitation to this framework", addr))
			return v.Err()
		}
		res := tx.Model(&Invitation{}).Where("framework_id = ? AND email = ? AND status = ?", frameworkID, addr, InvitationSent).
			Updates(map[string]any{"status": InvitationRevoked, "revoked_at": now})
		if res.Error != nil {
			return fmt.Errorf("revoke earlier invitation: %w", res.Error)
		}
		inv = &Invitation{ID: newID(), FrameworkID: frameworkID, Email: addr, TokenHash: hashToken(token), Status: InvitationSent,
			InvitedBy: actor.UserID, InvitedAt: now}
		if supplierOrgID != "" {
			inv.SupplierOrgID = &supplierOrgID
		}
		if err := tx.Omit("SupplierOrg").Create(inv).Error; err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		if err := s.emailInvitation(ctx, tx, f, inv, token); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.invitation.send", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"invitation_id": inv.ID, "email": addr, "supplier_org_id": supplierOrgID, "reinvite": res.RowsAffected > 0}})
	})
	if err != nil {
		return nil, "", err
	}
	return inv, token, nil
}

// Invitation returns the invitation a link's token belongs to, with its
// supplier when known. An unknown or revoked token is store.ErrNotFound.
func (s *Service) Invitation(ctx context.Context, token string) (*Invitation, error) {
	var inv Invitation
	err := s.DB.WithContext(ctx).Preload("SupplierOrg").
		Where("token_hash = ? AND status IN ?", hashToken(strings.TrimSpace(token)), []string{InvitationSent, InvitationAccepted}).
		First(&inv).Error
	if err != nil {
		return nil, notFound(err, "invitation")
	}
	return &inv, nil
}

// openInvitation marks the token's open invitation changed at the start of
// a transaction (so a concurrent accept queues behind this one) and loads
// it. An unknown or revoked token is store.ErrNotFound; an accepted one a
// field error. The framework must still be taking suppliers in.
func (s *Service) openInvitation(tx *gorm.DB, token string) (*Invitation, *Framework, error) {
	hash := hashToken(strings.TrimSpace(token))
	// A no-op update takes the row lock on PostgreSQL and the write lock on SQLite.
	if err := tx.Model(&Invitation{}).Where("token_hash = ?", hash).Update("status", gorm.Expr("status")).Error; err != nil {
		return nil, nil, fmt.Errorf("lock invitation: %w", err)
	}
	var inv Invitation
	if err := tx.Where("token_hash = ? AND status IN ?", hash, []string{InvitationSent, InvitationAccepted}).First(&inv).Error; err != nil {
		return nil, nil, notFound(err, "invitation")
	}
	var v validate.Errors
	if inv.Status == InvitationAccepted {
		v.Add(FieldInvitation, "This invitation has already been accepted")
		return nil, nil, v.Err()
	}
	var f Framework
	if err := tx.Where("id = ?", inv.FrameworkID).First(&f).Error; err != nil {
		return nil, nil, notFound(err, "framework")
	}
	switch st := f.State(s.now()); st {
	case StateCancelled, StateExpired:
		v.Add(FieldState, fmt.Sprintf("The framework is %s; the invitation can no longer be accepted", strings.ToLower(StateLabel(st))))
		return nil, nil, v.Err()
	}
	return &inv, &f, nil
}

// accept marks inv accepted for the supplier, with its audit entry.
func (s *Service) accept(tx *gorm.DB, actor audit.Actor, inv *Invitation, f *Framework, supplier *orgs.Organisation) error {
	now := s.now()
	res := tx.Model(&Invitation{}).Where("id = ? AND status = ?", inv.ID, InvitationSent).Updates(map[string]any{
		"status": InvitationAccepted, "supplier_org_id": supplier.ID, "accepted_at": now, "accepted_by": actor.UserID,
	})
	if res.Error != nil {
		return fmt.Errorf("accept invitation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return store.ErrConflict
	}
	inv.Status, inv.SupplierOrgID, inv.SupplierOrg, inv.AcceptedAt, inv.AcceptedBy = InvitationAccepted, &supplier.ID, supplier, &now, actor.UserID
	return s.Audit.Append(tx, actor, audit.Event{Action: "framework.invitation.accept", ObjectType: "framework", ObjectID: f.ID,
		Detail: map[string]any{"invitation_id": inv.ID, "email": inv.Email, "supplier_org_id": supplier.ID, "supplier": supplier.Name}})
}

// Accept links the token's invitation to the supplier organisation the
// signed-in person acts for; they must belong to it. An invitation sent to
// a known supplier can only be accepted for that supplier.
func (s *Service) Accept(ctx context.Context, actor audit.Actor, token, supplierOrgID string) (*Invitation, error) {
	var inv *Invitation
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		i, f, err := s.openInvitation(tx, token)
		if err != nil {
			return err
		}
		var org orgs.Organisation
		if err := tx.Where("id = ?", supplierOrgID).First(&org).Error; err != nil {
			return notFound(err, "organisation")
		}
		var v validate.Errors
		var member int64
		if err := tx.Model(&orgs.Membership{}).Where("user_id = ? AND organisation_id = ?", actor.UserID, org.ID).Count(&member).Error; err != nil {
			return fmt.Errorf("check membership: %w", err)
		}
		switch {
		case org.Kind != orgs.KindSupplier:
			v.Add(FieldOrganisation, fmt.Sprintf("Only a supplier can accept an invitation; %s is not a supplier", org.Name))
		case member == 0:
			v.Add(FieldOrganisation, fmt.Sprintf("You do not belong to %s", org.Name))
		case i.SupplierOrgID != nil && *i.SupplierOrgID != org.ID:
			v.Add(FieldOrganisation, fmt.Sprintf("This invitation is for another supplier, not %s", org.Name))
		}
		if err := v.Err(); err != nil {
			return err
		}
		inv = i
		return s.accept(tx, actor, i, f, &org)
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// Register registers a supplier not yet known to the portal from an
// invitation link: it creates the supplier organisation, makes the
// signed-in person a supplier user there and accepts the invitation, all in
// one transaction. The checks match the orgs package's for a supplier.
func (s *Service) Register(ctx context.Context, actor audit.Actor, token, name, companiesHouseNumber string) (*orgs.Organisation, error) {
	name = strings.Join(strings.Fields(name), " ")
	number := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(companiesHouseNumber), " ", ""))
	var org *orgs.Organisation
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		inv, f, err := s.openInvitation(tx, token)
		if err != nil {
			return err
		}
		var v validate.Errors
		if inv.SupplierOrgID != nil {
			v.Add(FieldInvitation, "This invitation is for a supplier already registered; sign in as one of its users to accept it")
			return v.Err()
		}
		if s.Orgs == nil {
			return errors.New("registering a supplier needs the organisations service")
		}
		o, err := s.Orgs.CreateOrganisationTx(tx, actor, orgs.OrganisationInput{Kind: orgs.KindSupplier, Name: name, CompaniesHouseNumber: number})
		if err != nil {
			return err
		}
		if _, err := s.Orgs.GrantTx(ctx, tx, actor, actor.UserID, o.ID, string(authz.SupplierUser)); err != nil {
			return err
		}
		org = o
		return s.accept(tx, actor, inv, f, o)
	})
	if err != nil {
		return nil, err
	}
	return org, s.Orgs.RolesChanged(ctx)
}

// Invitations lists a framework's invitations, newest first, with their
// suppliers.
func (s *Service) Invitations(ctx context.Context, frameworkID string) ([]Invitation, error) {
	var out []Invitation
	if err := s.DB.WithContext(ctx).Preload("SupplierOrg").Where("framework_id = ?", frameworkID).
		Order("invited_at DESC, email").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}

// Invited reports whether a supplier may apply to a framework: it accepted
// an invitation, or the framework is an open one that has been published
// and has neither been cancelled nor expired (anyone may apply to those).
func (s *Service) Invited(ctx context.Context, frameworkID, supplierOrgID string) (bool, error) {
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return false, err
	}
	if f.Kind == KindOpen {
		switch f.State(s.now()) {
		case StateDraft, StateCancelled, StateExpired:
		default:
			return true, nil
		}
	}
	var n int64
	err = s.DB.WithContext(ctx).Model(&Invitation{}).
		Where("framework_id = ? AND supplier_org_id = ? AND status = ?", frameworkID, supplierOrgID, InvitationAccepted).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check invitation: %w", err)
	}
	return n > 0, nil
}

// PublicFrameworks lists the open frameworks any supplier may apply to
// (published, neither cancelled nor expired), by reference.
func (s *Service) PublicFrameworks(ctx context.Context) ([]Framework, error) {
	var all []Framework
	if err := s.DB.WithContext(ctx).Where("kind = ? AND status NOT IN ?", KindOpen, []string{StatusDraft, StatusCancelled}).
		Order("reference").Find(&all).Error; err != nil {
		return nil, fmt.Errorf("list open frameworks: %w", err)
	}
	now := s.now()
	out := all[:0]
	for _, f := range all {
		if f.State(now) != StateExpired {
			out = append(out, f)
		}
	}
	return out, nil
}
