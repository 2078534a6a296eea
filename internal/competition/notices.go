package competition

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/authz"
)

// Notifier records a notification for a portal user inside the caller's
// transaction, so it exists if and only if the change it describes commits;
// *notify.Notifier satisfies it.
type Notifier interface {
	Notify(ctx context.Context, tx *gorm.DB, userID, kind string, data map[string]any, link string) error
}

// Notification kinds this package sends. The names are repeated so that
// this package does not import notify.
//   - notify.KindInvitation (Procurement, Buyer, Deadline): the invitation
//     sent at publication;
//   - notify.KindDeadlineChange (Procurement, OldDeadline, NewDeadline,
//     Reason): a legal notice, so it is always sent, whatever the person's
//     preferences;
//   - notify.KindProcurementChange (Procurement, Change): a legal notice of
//     a changed requirement, a new document or the cancellation.
const (
	invitationKind = "invitation"
	deadlineKind   = "deadline_change"
	changeKind     = "procurement_change"
)

// CompetitionPath is the buying trusts' page of a competition.
func CompetitionPath(competitionID string) string { return "/competitions/" + competitionID }

// SupplierPath is a supplier's page of a competition, with its invitation
// and its bid; notifications to suppliers link to it.
func SupplierPath(competitionID string) string { return "/competitions/" + competitionID + "/bid" }

// supplierRole is authz.SupplierUser as the membership table stores it.
const supplierRole = string(authz.SupplierUser)

// inviteeUsers lists the enabled supplier users of every invitee (declined
// ones included: a change or cancellation is told to everyone invited),
// each once, in a stable order.
func inviteeUsers(tx *gorm.DB, competitionID string) ([]string, error) {
	var ids []string
	err := tx.Table("memberships m").Joins("JOIN users u ON u.id = m.user_id").
		Where("m.role = ? AND u.disabled_at IS NULL AND m.organisation_id IN (?)", supplierRole,
			tx.Model(&Invitee{}).Select("supplier_org_id").Where("competition_id = ?", competitionID)).
		Distinct("m.user_id").Order("m.user_id").Pluck("m.user_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list invitees' users: %w", err)
	}
	return ids, nil
}

// supplierUsers lists the enabled supplier users of one supplier.
func supplierUsers(tx *gorm.DB, supplierOrgID string) ([]string, error) {
	var ids []string
	err := tx.Table("memberships m").Joins("JOIN users u ON u.id = m.user_id").
		Where("m.role = ? AND m.organisation_id = ? AND u.disabled_at IS NULL", supplierRole, supplierOrgID).
		Distinct("m.user_id").Order("m.user_id").Pluck("m.user_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list supplier users: %w", err)
	}
	return ids, nil
}

// SupplierUsers returns the users of every invited supplier: the recipients
// of a public clarification answer (clarify.Service.AnswerPublic).
func (s *Service) SupplierUsers(ctx context.Context, competitionID string) ([]string, error) {
	return inviteeUsers(s.DB.WithContext(ctx), competitionID)
}

// notifyAll sends one notification to each user, in tx, and returns how
// many were sent.
func (s *Service) notifyAll(ctx context.Context, tx *gorm.DB, userIDs []string, kind string, data map[string]any, link string) (int, error) {
	if len(userIDs) == 0 {
		return 0, nil
	}
	if s.Notify == nil {
		return 0, fmt.Errorf("competition: sending %s needs a notifier", kind)
	}
	for _, id := range userIDs {
		if err := s.Notify.Notify(ctx, tx, id, kind, data, link); err != nil {
			return 0, fmt.Errorf("notify %s: %w", kind, err)
		}
	}
	return len(userIDs), nil
}

// notifyInvitees tells every invitee's users of a change, in tx (see
// changeKind).
func (s *Service) notifyInvitees(ctx context.Context, tx *gorm.DB, c *Competition, change string) (int, error) {
	users, err := inviteeUsers(tx, c.ID)
	if err != nil {
		return 0, err
	}
	data := map[string]any{"Procurement": c.Name(), "Change": change}
	return s.notifyAll(ctx, tx, users, changeKind, data, SupplierPath(c.ID))
}
