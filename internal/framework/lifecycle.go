package framework

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of Publish's, Cancel's and the buyers' errors.
const (
	FieldLots         = "lots"
	FieldReason       = "reason"
	FieldState        = "state"
	FieldOrganisation = "organisation"
	FieldStandstill   = "standstill_ends"
)

// FieldLot is the field name of a problem with lot number n.
func FieldLot(n int) string { return fmt.Sprintf("lot%d", n) }

// Publish opens a draft framework to applications on its dates. It refuses,
// listing every problem, when there are no lots, a lot has no requirements,
// the criteria do not add up to 100 or the deadline has passed. Every
// current member trust of the consortium becomes an eligible buyer.
func (s *Service) Publish(ctx context.Context, actor audit.Actor, frameworkID string) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lockDraft(tx, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		var v validate.Errors
		var lots []Lot
		if err := tx.Where("framework_id = ?", frameworkID).Order("number").Find(&lots).Error; err != nil {
			return fmt.Errorf("read lots: %w", err)
		}
		if len(lots) == 0 {
			v.Add(FieldLots, "Add at least one lot")
		}
		for _, l := range lots {
			var n int64
			if err := tx.Model(&LotRequirement{}).Where("lot_id = ?", l.ID).Count(&n).Error; err != nil {
				return fmt.Errorf("count requirements: %w", err)
			}
			if n == 0 {
				v.Add(FieldLot(l.Number), fmt.Sprintf("Lot %d (%s) has no requirements; copy some from a catalogue", l.Number, l.Title))
			}
		}
		var criteria []Criterion
		if err := tx.Where("framework_id = ?", frameworkID).Find(&criteria).Error; err != nil {
			return fmt.Errorf("read criteria: %w", err)
		}
		total := 0
		for _, c := range criteria {
			total += c.Weight
		}
		switch {
		case len(criteria) == 0:
			v.Add(FieldCriteria, "Add the evaluation criteria")
		case total != 100:
			v.Add(FieldCriteria, totalMessage(total))
		}
		if !f.ApplicationDeadline.After(now) {
			v.Add(FieldApplicationDeadline, "The application deadline has passed; move it later before publishing")
		}
		if err := v.Err(); err != nil {
			return err
		}
		var members []orgs.ConsortiumMember
		if err := tx.Where("consortium_id = ?", f.ConsortiumID).Find(&members).Error; err != nil {
			return fmt.Errorf("read consortium members: %w", err)
		}
		today := day(now)
		added := map[string]bool{}
		for _, m := range members {
			if !m.Current(today) || added[m.TrustID] {
				continue
			}
			added[m.TrustID] = true
			b := Buyer{ID: newID(), FrameworkID: frameworkID, OrganisationID: m.TrustID, Status: BuyerMember, DecidedAt: &now}
			if err := tx.Omit("Organisation").Create(&b).Error; err != nil {
				return fmt.Errorf("add member buyer: %w", err)
			}
		}
		res := tx.Model(&Framework{}).Where("id = ? AND status = ?", frameworkID, StatusDraft).
			Updates(map[string]any{"status": StatusPublished, "published_at": now, "version": gorm.Expr("version + 1"), "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("publish framework: %w", res.Error)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.publish", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"reference": f.Reference, "lots": len(lots), "member_buyers": len(added)}})
	})
}

// Cancel cancels a framework that has not expired, with the reason.
func (s *Service) Cancel(ctx context.Context, actor audit.Actor, frameworkID, reason string) error {
	reason = strings.TrimSpace(reason)
	var v validate.Errors
	v.Required(FieldReason, reason, "Say why the framework is cancelled")
	if err := v.Err(); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lock(tx, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		switch f.State(now) {
		case StateCancelled:
			v.Add(FieldState, "The framework is already cancelled")
		case StateExpired:
			v.Add(FieldState, "The framework has expired and cannot be cancelled")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Model(&Framework{}).Where("id = ?", frameworkID).Updates(map[string]any{
			"status": StatusCancelled, "cancelled_at": now, "cancel_reason": reason, "version": gorm.Expr("version + 1"), "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("cancel framework: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.cancel", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"reference": f.Reference, "reason": reason, "was": f.State(now)}})
	})
}

// RequestAccess records a trust outside the consortium asking to buy under
// a published framework. A refused trust may ask again.
func (s *Service) RequestAccess(ctx context.Context, actor audit.Actor, frameworkID, orgID string) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lock(tx, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		var v validate.Errors
		switch st := f.State(now); st {
		case StateDraft, StateCancelled, StateExpired:
			v.Add(FieldState, fmt.Sprintf("Access cannot be requested while the framework is %s", strings.ToLower(StateLabel(st))))
			return v.Err()
		}
		var org orgs.Organisation
		if err := tx.Where("id = ?", orgID).First(&org).Error; err != nil {
			return notFound(err, "organisation")
		}
		if org.Kind != orgs.KindTrust {
			v.Add(FieldOrganisation, fmt.Sprintf("Only trusts can buy under a framework; %s is not a trust", org.Name))
			return v.Err()
		}
		var existing Buyer
		err = tx.Where("framework_id = ? AND organisation_id = ?", frameworkID, orgID).First(&existing).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			b := Buyer{ID: newID(), FrameworkID: frameworkID, OrganisationID: orgID, Status: BuyerRequested, RequestedAt: &now}
			if err := tx.Omit("Organisation").Create(&b).Error; err != nil {
				return fmt.Errorf("request access: %w", err)
			}
		case err != nil:
			return fmt.Errorf("read buyer: %w", err)
		case existing.Status == BuyerMember:
			v.Add(FieldOrganisation, fmt.Sprintf("%s is a member of the consortium and can already buy under this framework", org.Name))
		case existing.Status == BuyerAdmitted:
			v.Add(FieldOrganisation, fmt.Sprintf("%s has already been admitted", org.Name))
		case existing.Status == BuyerRequested:
			v.Add(FieldOrganisation, fmt.Sprintf("%s has already asked for access; the consortium lead will decide", org.Name))
		default: // refused: ask again
			if err := tx.Model(&Buyer{}).Where("id = ?", existing.ID).Updates(map[string]any{
				"status": BuyerRequested, "requested_at": now, "decided_at": nil, "decided_by": "",
			}).Error; err != nil {
				return fmt.Errorf("request access: %w", err)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		leads, err := orgs.UsersWithRole(tx, authz.ConsortiumLead, f.ConsortiumID)
		if err != nil {
			return err
		}
		data := map[string]any{"Framework": f.Reference + " " + f.Title, "Update": org.Name + " asked to buy under it; admit or refuse the request on the framework's page"}
		if err := s.notifyAll(ctx, tx, leads, updateKind, data, FrameworkPath(f.ID)); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.buyer.request", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"organisation_id": orgID, "organisation": org.Name}})
	})
}

// DecideAccess admits or refuses a pending request for access.
func (s *Service) DecideAccess(ctx context.Context, actor audit.Actor, frameworkID, orgID string, admit bool) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lock(tx, frameworkID)
		if err != nil {
			return err
		}
		var b Buyer
		if err := tx.Where("framework_id = ? AND organisation_id = ?", frameworkID, orgID).First(&b).Error; err != nil {
			return notFound(err, "access request")
		}
		if b.Status != BuyerRequested {
			var v validate.Errors
			v.Add(FieldOrganisation, "There is no pending request for access to decide")
			return v.Err()
		}
		now := s.now()
		status := BuyerRefused
		if admit {
			status = BuyerAdmitted
		}
		if err := tx.Model(&Buyer{}).Where("id = ?", b.ID).Updates(map[string]any{
			"status": status, "decided_at": now, "decided_by": actor.UserID,
		}).Error; err != nil {
			return fmt.Errorf("decide access: %w", err)
		}
		trustLeads, err := orgs.UsersWithRole(tx, authz.TrustLead, orgID)
		if err != nil {
			return err
		}
		update := "your trust's request to buy under it was refused"
		if admit {
			update = "your trust was admitted and can now buy under it"
		}
		data := map[string]any{"Framework": f.Reference + " " + f.Title, "Update": update}
		if err := s.notifyAll(ctx, tx, trustLeads, updateKind, data, BuyPath); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.buyer.decide", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"organisation_id": orgID, "decision": status}})
	})
}

// Buyers lists a framework's buyers and requests by organisation name.
func (s *Service) Buyers(ctx context.Context, frameworkID string) ([]Buyer, error) {
	var out []Buyer
	err := s.DB.WithContext(ctx).Preload("Organisation").
		Joins("JOIN organisations o ON o.id = framework_buyers.organisation_id").
		Where("framework_id = ?", frameworkID).Order("o.name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list buyers: %w", err)
	}
	return out, nil
}

// EligibleBuyer reports whether an organisation may buy under a framework:
// a consortium member when it was published, or admitted by the lead.
func (s *Service) EligibleBuyer(ctx context.Context, frameworkID, orgID string) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&Buyer{}).
		Where("framework_id = ? AND organisation_id = ? AND status IN ?", frameworkID, orgID, []string{BuyerMember, BuyerAdmitted}).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check buyer: %w", err)
	}
	return n > 0, nil
}
