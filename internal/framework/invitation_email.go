package framework

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/orgs"
)

// AddressMailer emails an address inside the caller's transaction;
// *notify.Notifier satisfies it.
type AddressMailer interface {
	NotifyAddress(ctx context.Context, tx *gorm.DB, address, kind string, data map[string]any, link string) error
}

// invitationKind is notify.KindFrameworkInvitation; its templates read
// Framework, Consortium and Deadline.
const invitationKind = "framework_invitation"

// InvitationPath is the portal page an invitation's link opens.
func InvitationPath(token string) string { return "/invitations/" + token }

// emailInvitation queues the invitation email with its one-time link in
// tx, so the invitation exists if and only if its email will be sent.
func (s *Service) emailInvitation(ctx context.Context, tx *gorm.DB, f *Framework, inv *Invitation, token string) error {
	if s.Mail == nil {
		return nil
	}
	var c orgs.Organisation
	if err := tx.Where("id = ?", f.ConsortiumID).First(&c).Error; err != nil {
		return notFound(err, "consortium")
	}
	data := map[string]any{"Framework": f.Reference + " " + f.Title, "Consortium": c.Name, "Deadline": f.ApplicationDeadline}
	if err := s.Mail.NotifyAddress(ctx, tx, inv.Email, invitationKind, data, InvitationPath(token)); err != nil {
		return fmt.Errorf("email invitation: %w", err)
	}
	return nil
}
