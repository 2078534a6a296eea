package competition

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// FieldSuppliers names the problem of a lot with no supplier to invite.
const FieldSuppliers = "suppliers"

// Publish publishes a draft competition and invites every supplier
// appointed to the lot, each of whose users is notified, all in one
// transaction. It refuses, listing every problem at once and saving
// nothing, unless: the framework is live and the lot allows further
// competition and has appointed suppliers; the lead and every other buying
// trust are still eligible buyers; there are requirements whose weights add
// up to 100; the quality and price weights add up to 100; every buying
// trust has a price schedule; the deadlines are in order, in the future and
// the submission deadline is at least the regime's minimum period away;
// and there is an evaluation panel whose members are all still evaluators
// at a buying trust or the consortium. Only the lead trust publishes.
func (s *Service) Publish(ctx context.Context, actor audit.Actor, competitionID string) error {
	before, err := s.Buyers(ctx, competitionID)
	if err != nil {
		return err
	}
	c, err := s.Competition(ctx, competitionID)
	if err != nil {
		return err
	}
	orgIDs := make([]string, len(before))
	for i, b := range before {
		orgIDs[i] = b.OrganisationID
	}
	eligible, err := s.eligible(ctx, c.FrameworkID, orgIDs...)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var v validate.Errors
		switch c.Status {
		case StatusPublished:
			v.Add(FieldState, "The competition has already been published")
		case StatusCancelled:
			v.Add(FieldState, "The competition has been cancelled")
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()

		var f framework.Framework
		if err := tx.Where("id = ?", c.FrameworkID).First(&f).Error; err != nil {
			return notFound(err, "framework")
		}
		var lot framework.Lot
		if err := tx.Where("id = ?", c.LotID).First(&lot).Error; err != nil {
			return notFound(err, "lot")
		}
		checkCallOff(&v, &f, &lot, now)
		suppliers, err := framework.CallOffSuppliers(tx, c.LotID, now)
		if err != nil {
			return err
		}
		if f.State(now) == framework.StateLive && len(suppliers) == 0 {
			v.Add(FieldSuppliers, fmt.Sprintf("No supplier is appointed to %s, so there is nobody to invite", lotLabel(lot)))
		}

		bs, err := buyers(tx, c.ID)
		if err != nil {
			return err
		}
		// The eligibility was read before the transaction; if the buyers
		// changed since, it may not cover them.
		if !slices.EqualFunc(bs, before, func(a, b Buyer) bool { return a.OrganisationID == b.OrganisationID }) {
			return store.ErrConflict
		}
		for _, b := range bs {
			switch {
			case eligible[b.OrganisationID]:
			case b.Lead:
				v.Add(FieldLead, fmt.Sprintf("%s, the lead trust, is no longer an eligible buyer under framework %s", b.Organisation.Name, f.Reference))
			default:
				v.Add(FieldBuyer(b.OrganisationID), fmt.Sprintf("%s is no longer an eligible buyer under framework %s; remove it from the buying trusts", b.Organisation.Name, f.Reference))
			}
		}

		reqs, err := requirements(tx, c.ID)
		if err != nil {
			return err
		}
		if len(reqs) == 0 {
			v.Add(FieldRequirements, "Add at least one requirement: copy them from the lot or add your own")
		}
		checkWeightTotal(&v, c.QualityWeight, reqs)
		checkWeights(&v, c.QualityWeight, c.PriceWeight)

		scheds, err := schedules(tx, c.ID)
		if err != nil {
			return err
		}
		for _, sc := range scheds {
			if len(sc.Items) == 0 {
				v.Add(FieldPriceSchedule(sc.Buyer.OrganisationID), fmt.Sprintf("Add at least one item to the price schedule of %s", sc.Buyer.Organisation.Name))
			}
		}

		t := timelineOf(c)
		checkOrder(&v, t, c.ExpressionOfInterest)
		checkSupplierDeadlines(&v, t, c.ExpressionOfInterest, now)
		if !v.Has(FieldSubmissionDeadline) {
			s.checkMinimum(&v, c.Regime, c.SubmissionDeadline, now)
		}

		members, err := panel(tx, c)
		if err != nil {
			return err
		}
		if len(members) == 0 {
			v.Add(FieldPanel, "Choose the evaluation panel")
		}
		for _, m := range members {
			if m.OrganisationID == "" {
				v.Add(FieldPanel, fmt.Sprintf("%s is no longer an evaluator at one of the buying trusts or the consortium", m.Name))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}

		res := tx.Model(&Competition{}).Where("id = ? AND status = ?", c.ID, StatusDraft).Updates(map[string]any{
			"status": StatusPublished, "published_at": now, "version": gorm.Expr("version + 1"), "updated_at": now,
		})
		if res.Error != nil {
			return fmt.Errorf("publish competition: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		c.Status, c.PublishedAt = StatusPublished, &now
		sent, err := s.invite(ctx, tx, c, suppliers, buyerLabel(bs), now)
		if err != nil {
			return err
		}
		invited := make([]string, len(suppliers))
		for i, sup := range suppliers {
			invited[i] = sup.OrganisationID
		}
		return s.appendAudit(tx, actor, "competition.publish", c.ID, map[string]any{
			"reference": c.Reference, "buyers": len(bs), "requirements": len(reqs), "panel": len(members),
			"invited": invited, "notified": sent, "submission_deadline": c.SubmissionDeadline,
		})
	})
	return s.refused(ctx, actor, "competition.publish", competitionID, err)
}

// buyerLabel names the buyer in invitations: the lead trust, and the other
// buying trusts with it.
func buyerLabel(bs []Buyer) string {
	var lead string
	var others []string
	for _, b := range bs {
		if b.Lead {
			lead = b.Organisation.Name
		} else {
			others = append(others, b.Organisation.Name)
		}
	}
	switch len(others) {
	case 0:
		return lead
	case 1:
		return lead + " (with " + others[0] + ")"
	}
	return lead + " (with " + strings.Join(others[:len(others)-1], ", ") + " and " + others[len(others)-1] + ")"
}
