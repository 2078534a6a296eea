package award

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Bid statuses the confirmed award settles.
const (
	BidSuccessful   = "successful"
	BidUnsuccessful = "unsuccessful"
)

// Field names of confirmation errors.
const (
	FieldConfirm = "confirm"
	FieldStart   = "start"
	FieldEnd     = "end"
)

// ConfirmInput is the lead's confirmation, with the contract term every
// buying trust's contract starts from (each trust may then change its own).
type ConfirmInput struct {
	CompetitionID string
	Start, End    time.Time
}

// Confirm confirms the award once its standstill has run out with no
// challenge open: the recommended bid becomes successful and every other
// opened bid unsuccessful, and one pending contract is made for each
// buying trust with the winning bid's price for that trust as its value
// (contracts.CreateFromAward), all in one transaction. The buying trusts'
// leads and the winner are told.
func (s *Service) Confirm(ctx context.Context, actor audit.Actor, in ConfirmInput) error {
	const action = "award.confirmed"
	rec, err := s.recommendation(ctx, in.CompetitionID)
	if err != nil {
		return err
	}
	values, err := s.Evaluation.ValuePerBuyer(ctx, in.CompetitionID)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.asLead(tx, actor, in.CompetitionID)
		if err != nil {
			return err
		}
		aw, err := awardIn(tx, c.ID)
		if err != nil {
			return err
		}
		open, err := openChallenge(tx, c.ID)
		if err != nil {
			return err
		}
		now := s.now()
		var v validate.Errors
		switch st := State(nil, aw, open, now); {
		case aw == nil:
			v.Add(FieldConfirm, "Send the award decision first; the award can be confirmed when its standstill has run out")
		case st == StateReady:
		case st == StateStandstill:
			v.Add(FieldConfirm, "The standstill runs until "+uktime.Moment(*aw.StandstillEnds)+"; the award can be confirmed after that")
		case st == StatePaused:
			v.Add(FieldConfirm, "A challenge is open, which pauses the award; record how it was resolved first")
		default:
			v.Add(FieldConfirm, "The award is "+StateLabel(st)+", so it cannot be confirmed")
		}
		if aw != nil && (rec.Version != aw.RecommendationVersion || rec.BidID != aw.BidID) {
			v.Add(FieldConfirm, "The recommendation was changed after the award decision was sent, so this award cannot be confirmed; cancel the competition or run the award again")
		}
		if err := v.Err(); err != nil {
			return err
		}
		var buyers []competition.Buyer
		if err := tx.Preload("Organisation").Where("competition_id = ?", c.ID).Order("added_at, id").Find(&buyers).Error; err != nil {
			return fmt.Errorf("read buyers: %w", err)
		}
		award := contracts.AwardInput{CompetitionID: c.ID, SupplierOrgID: aw.SupplierOrgID, Reference: c.Reference, Title: c.Title,
			Start: in.Start, End: in.End}
		for _, b := range buyers {
			award.Buyers = append(award.Buyers, contracts.BuyerValue{OrganisationID: b.OrganisationID, Label: buyerLabel(b.Organisation), ValuePence: values[b.OrganisationID]})
		}
		made, err := s.Contracts.CreateFromAward(ctx, tx, actor, award)
		if err != nil {
			return err
		}
		if err := tx.Model(&Award{}).Where("competition_id = ? AND version = ?", c.ID, aw.Version).
			Updates(map[string]any{"status": StatusConfirmed, "confirmed_at": now, "confirmed_by": actor.UserID, "version": aw.Version + 1}).Error; err != nil {
			return fmt.Errorf("confirm award: %w", err)
		}
		if err := tx.Model(&competition.Bid{}).Where("competition_id = ? AND status = ?", c.ID, competition.BidOpened).
			Update("status", gorm.Expr("CASE WHEN id = ? THEN ? ELSE ? END", aw.BidID, BidSuccessful, BidUnsuccessful)).Error; err != nil {
			return fmt.Errorf("settle bids: %w", err)
		}
		if err := s.appendAudit(tx, actor, action, c.ID, map[string]any{"winner": aw.SupplierOrgID, "contracts": len(made)}); err != nil {
			return err
		}
		var buyerIDs []string
		for _, b := range buyers {
			buyerIDs = append(buyerIDs, b.OrganisationID)
		}
		leads, err := orgs.UsersWithRole(tx, authz.TrustLead, buyerIDs...)
		if err != nil {
			return err
		}
		update := map[string]any{"Procurement": c.Name(), "Update": fmt.Sprintf("The award is confirmed and %d contracts are ready to complete and sign.", len(made))}
		if err := s.notifyAll(ctx, tx, leads, KindAwardUpdate, update, Path(c.ID)); err != nil {
			return err
		}
		winners, err := orgs.UsersWithRole(tx, authz.SupplierUser, aw.SupplierOrgID)
		if err != nil {
			return err
		}
		won := map[string]any{"Procurement": c.Name(), "Update": "The award to your organisation is confirmed; the buying trusts will send their contracts to sign."}
		return s.notifyAll(ctx, tx, winners, KindAwardUpdate, won, competition.SupplierPath(c.ID))
	})
	return s.refused(ctx, actor, action, in.CompetitionID, err)
}

// buyerLabel names a buying trust in a contract reference: its ODS code,
// or its name for an organisation without one.
func buyerLabel(o orgs.Organisation) string {
	if o.ODSCode != nil && *o.ODSCode != "" {
		return *o.ODSCode
	}
	return o.Name
}
