package competition

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// FieldInvitation names problems with a supplier's response to its
// invitation.
const FieldInvitation = "invitation"

// actsForSupplier reports whether the actor holds the supplier role in
// orgID, a supplier organisation.
func actsForSupplier(tx *gorm.DB, userID, orgID string) (bool, error) {
	if userID == "" || orgID == "" {
		return false, nil
	}
	var n int64
	err := tx.Table("memberships m").Joins("JOIN organisations o ON o.id = m.organisation_id").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m.user_id = ? AND m.organisation_id = ? AND m.role = ? AND o.kind = ? AND u.disabled_at IS NULL", userID, orgID, supplierRole, "supplier").
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check supplier membership: %w", err)
	}
	return n > 0, nil
}

// invite records every supplier as invited and notifies each supplier user
// of each, in tx (the publishing transaction), returning how many people
// were notified.
func (s *Service) invite(ctx context.Context, tx *gorm.DB, c *Competition, suppliers []framework.AppointedSupplier, buyer string, now time.Time) (int, error) {
	sent := 0
	data := map[string]any{"Procurement": c.Name(), "Buyer": buyer, "Deadline": c.SubmissionDeadline}
	for _, sup := range suppliers {
		inv := Invitee{CompetitionID: c.ID, SupplierOrgID: sup.OrganisationID, Status: InviteeInvited, InvitedAt: now}
		if err := tx.Omit("Supplier").Create(&inv).Error; err != nil {
			return 0, fmt.Errorf("invite %s: %w", sup.Name, err)
		}
		users, err := orgs.UsersWithRole(tx, authz.SupplierUser, sup.OrganisationID)
		if err != nil {
			return 0, err
		}
		n, err := s.notifyAll(ctx, tx, users, invitationKind, data, SupplierPath(c.ID))
		if err != nil {
			return 0, err
		}
		sent += n
	}
	return sent, nil
}

// Invitees lists the invited suppliers by name, with their responses: for
// the buying trusts, who need to know who declined and why. It says nothing
// about bids.
func (s *Service) Invitees(ctx context.Context, competitionID string) ([]Invitee, error) {
	var out []Invitee
	err := s.DB.WithContext(ctx).Preload("Supplier").
		Joins("JOIN organisations o ON o.id = competition_invitees.supplier_org_id").
		Where("competition_invitees.competition_id = ?", competitionID).Order("o.name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list invitees: %w", err)
	}
	for i := range out {
		out[i].utc()
	}
	return out, nil
}

func (i *Invitee) utc() {
	i.InvitedAt = i.InvitedAt.UTC()
	if i.RespondedAt != nil {
		t := i.RespondedAt.UTC()
		i.RespondedAt = &t
	}
}

// Invitation returns one supplier's invitation, or store.ErrNotFound when
// it was not invited.
func (s *Service) Invitation(ctx context.Context, competitionID, supplierOrgID string) (*Invitee, error) {
	return invitation(s.DB.WithContext(ctx), competitionID, supplierOrgID)
}

func invitation(db *gorm.DB, competitionID, supplierOrgID string) (*Invitee, error) {
	var inv Invitee
	if err := db.Where("competition_id = ? AND supplier_org_id = ?", competitionID, supplierOrgID).First(&inv).Error; err != nil {
		return nil, notFound(err, "invitation")
	}
	inv.utc()
	return &inv, nil
}

// SupplierCompetitions lists, by reference, the competitions a supplier was
// invited to (cancelled ones included, so it can see that they were).
func (s *Service) SupplierCompetitions(ctx context.Context, supplierOrgID string) ([]Competition, error) {
	var out []Competition
	err := s.DB.WithContext(ctx).
		Where("id IN (?)", s.DB.Model(&Invitee{}).Select("competition_id").Where("supplier_org_id = ?", supplierOrgID)).
		Order("reference").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list supplier's competitions: %w", err)
	}
	for i := range out {
		out[i].utc()
	}
	return out, nil
}

// respond is the common start of a supplier's response: the actor acts for
// the supplier, the competition is published and the supplier invited.
func (s *Service) respond(tx *gorm.DB, actor audit.Actor, competitionID, supplierOrgID string) (*Competition, *Invitee, error) {
	ok, err := actsForSupplier(tx, actor.UserID, supplierOrgID)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, ErrForbidden
	}
	c, err := s.lock(tx, competitionID)
	if err != nil {
		return nil, nil, err
	}
	inv, err := invitation(tx, competitionID, supplierOrgID)
	if err != nil {
		return nil, nil, err
	}
	var v validate.Errors
	switch {
	case c.Status == StatusCancelled:
		v.Add(FieldState, "The competition has been cancelled")
	case c.Status != StatusPublished:
		v.Add(FieldState, "The competition is not open")
	case inv.Status == InviteeDeclined:
		v.Add(FieldInvitation, "Your organisation declined this invitation on "+uktime.Date(*inv.RespondedAt))
	}
	return c, inv, v.Err()
}

// RegisterInterest records that the supplier means to bid, in a
// competition with an expression-of-interest step, before its deadline.
// Only an interested supplier may bid in such a competition (MayBid).
func (s *Service) RegisterInterest(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID string) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, inv, err := s.respond(tx, actor, competitionID, supplierOrgID)
		if err != nil {
			return err
		}
		now := s.now()
		var v validate.Errors
		switch {
		case !c.ExpressionOfInterest:
			v.Add(FieldInvitation, "This competition has no expression-of-interest step; you can bid without registering interest")
		case inv.Status == InviteeInterested:
			v.Add(FieldInvitation, "Your organisation registered its interest on "+uktime.Date(*inv.RespondedAt))
		case !c.InterestOpen(now):
			v.Add(FieldInvitation, "Expressions of interest closed at "+uktime.Moment(*c.EOIDeadline)+" (UK time)")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Model(&Invitee{}).Where("competition_id = ? AND supplier_org_id = ?", c.ID, supplierOrgID).
			Updates(map[string]any{"status": InviteeInterested, "responded_at": now, "responded_by": actor.UserID}).Error; err != nil {
			return fmt.Errorf("register interest: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.interest", c.ID, map[string]any{"supplier_org_id": supplierOrgID})
	})
	return s.refused(ctx, actor, "competition.interest", competitionID, err)
}

// Decline records that the supplier will not bid, with its reason, which
// the buyer sees. With an expression-of-interest step a supplier that has
// not registered interest declines before that step's deadline (after it,
// it is out anyway); otherwise, or once interested, before the submission
// deadline. A decline is final, so the buying trusts can rely on it.
func (s *Service) Decline(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID, reason string) error {
	reason = strings.TrimSpace(reason)
	var v validate.Errors
	if v.Required(FieldReason, reason, "Say why your organisation is declining; the buyer reads it") && utf8.RuneCountInString(reason) > MaxReason {
		v.Add(FieldReason, "The reason must be 5,000 characters or fewer")
	}
	if err := v.Err(); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, inv, err := s.respond(tx, actor, competitionID, supplierOrgID)
		if err != nil {
			return err
		}
		now := s.now()
		deadline, what := c.SubmissionDeadline, "The submission deadline"
		if c.ExpressionOfInterest && inv.Status == InviteeInvited {
			deadline, what = *c.EOIDeadline, "The deadline for expressions of interest"
		}
		if !now.Before(deadline) {
			v.Add(FieldInvitation, what+" passed at "+uktime.Moment(deadline)+" (UK time)")
			return v.Err()
		}
		if err := tx.Model(&Invitee{}).Where("competition_id = ? AND supplier_org_id = ?", c.ID, supplierOrgID).
			Updates(map[string]any{"status": InviteeDeclined, "reason": reason, "responded_at": now, "responded_by": actor.UserID}).Error; err != nil {
			return fmt.Errorf("decline: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.decline", c.ID, map[string]any{"supplier_org_id": supplierOrgID, "reason": reason, "was": inv.Status})
	})
	return s.refused(ctx, actor, "competition.decline", competitionID, err)
}

// MayBid reports whether the supplier may bid in the competition: it is
// published, the supplier was invited and has not declined, and, where
// there is an expression-of-interest step, it registered interest. Whether
// the deadline has passed is the tender box's to decide (BidBox).
func (s *Service) MayBid(ctx context.Context, competitionID, supplierOrgID string) (bool, error) {
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return false, err
	}
	if c.Status != StatusPublished {
		return false, nil
	}
	inv, err := invitation(db, competitionID, supplierOrgID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch inv.Status {
	case InviteeDeclined:
		return false, nil
	case InviteeInvited:
		return !c.ExpressionOfInterest, nil
	}
	return true, nil
}
