package competition

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/validate"
)

// Cancel cancels a competition with the reason, from any state before
// contracts exist (for now: unless it is already cancelled), audited, and
// tells every invited supplier's users why, in the same transaction. A
// draft has nobody invited to tell. Only the lead trust cancels.
func (s *Service) Cancel(ctx context.Context, actor audit.Actor, competitionID, reason string) error {
	reason = strings.TrimSpace(reason)
	var v validate.Errors
	checkReason(&v, reason, "Say why the competition is cancelled; every supplier invited is told")
	if err := v.Err(); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		if c.Status == StatusCancelled {
			v.Add(FieldState, "The competition is already cancelled")
			return v.Err()
		}
		now := s.now()
		was := c.State(now)
		if err := tx.Model(&Competition{}).Where("id = ?", c.ID).Updates(map[string]any{
			"status": StatusCancelled, "cancelled_at": now, "cancel_reason": reason, "version": gorm.Expr("version + 1"), "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("cancel competition: %w", err)
		}
		sent, err := s.notifyInvitees(ctx, tx, c, "The buyer cancelled the competition. No contract will be awarded from it.\n\nReason: "+reason)
		if err != nil {
			return err
		}
		return s.appendAudit(tx, actor, "competition.cancel", c.ID, map[string]any{
			"reference": c.Reference, "reason": reason, "was": was, "notified": sent,
		})
	})
	return s.refused(ctx, actor, "competition.cancel", competitionID, err)
}
