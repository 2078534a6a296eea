package competition

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
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
	var orgIDs []string
	if err := tx.Model(&Invitee{}).Where("competition_id = ?", competitionID).Pluck("supplier_org_id", &orgIDs).Error; err != nil {
		return nil, fmt.Errorf("list invitees: %w", err)
	}
	return orgs.UsersWithRole(tx, authz.SupplierUser, orgIDs...)
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
