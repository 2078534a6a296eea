package award

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/standstill"
	"github.com/nhsprocure/portal/internal/validate"
)

// Stored statuses of an award, once its decision has been sent.
const (
	StatusDecided   = "decided"
	StatusConfirmed = "confirmed"
	// StatusSetAside: a challenge was upheld, so the award cannot go ahead.
	StatusSetAside = "set_aside"
)

// States an award is seen in, derived from the approvals, the stored
// award and the clock.
const (
	StateNotRecommended = "not_recommended"
	StateAwaitingBoards = "awaiting_boards"
	StateRejected       = "rejected"
	StateApproved       = "approved"        // every board approved: the lead may send the decision
	StateAwaitingNotice = "awaiting_notice" // Procurement Act 2023: letters sent, notice not yet published
	StateStandstill     = "standstill"
	StatePaused         = "paused" // an open challenge
	StateReady          = "ready"  // the standstill has run out: the lead may confirm
	StateSetAside       = "set_aside"
	StateAwarded        = "awarded"
)

// StateLabel is the state people read.
func StateLabel(s string) string {
	switch s {
	case StateNotRecommended:
		return "Not yet recommended"
	case StateAwaitingBoards:
		return "Awaiting board approval"
	case StateRejected:
		return "Rejected by a board"
	case StateApproved:
		return "Approved by every board"
	case StateAwaitingNotice:
		return "Letters sent; contract award notice to publish"
	case StateStandstill:
		return "In standstill"
	case StatePaused:
		return "Paused by a challenge"
	case StateReady:
		return "Standstill over: ready to confirm"
	case StateSetAside:
		return "Set aside after a challenge"
	case StateAwarded:
		return "Awarded"
	}
	return s
}

// FieldStandstill names errors about the decision and standstill.
const FieldStandstill = "standstill"

// Award is the decision sent to the bidders and what followed.
type Award struct {
	CompetitionID         string `gorm:"primaryKey"`
	RecommendationVersion int
	BidID                 string
	SupplierOrgID         string
	Status                string
	VoluntaryStandstill   bool
	LettersSentAt         time.Time
	// NoticePublishedAt is when the contract award notice was published
	// (Procurement Act 2023); nil before, and always under the 2015
	// regulations.
	NoticePublishedAt *time.Time
	// StandstillEnds is when the contract may be entered into; nil until
	// the standstill has started.
	StandstillEnds *time.Time
	DecidedBy      string
	ConfirmedAt    *time.Time
	ConfirmedBy    *string
	Version        int
}

// TableName tells GORM where awards live.
func (Award) TableName() string { return "competition_awards" }

func (a *Award) utc() {
	a.LettersSentAt = a.LettersSentAt.UTC()
	for _, t := range []*time.Time{a.NoticePublishedAt, a.StandstillEnds, a.ConfirmedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// State works out where an award stands at now, from the approvals (nil
// before a recommendation), the stored award (nil before the decision is
// sent) and whether a challenge is open.
func State(a *Approvals, aw *Award, openChallenge bool, now time.Time) string {
	switch {
	case aw != nil && aw.Status == StatusConfirmed:
		return StateAwarded
	case aw != nil && aw.Status == StatusSetAside:
		return StateSetAside
	case aw != nil && openChallenge:
		return StatePaused
	case aw != nil && aw.StandstillEnds == nil:
		return StateAwaitingNotice
	case aw != nil && now.Before(*aw.StandstillEnds):
		return StateStandstill
	case aw != nil:
		return StateReady
	case a == nil:
		return StateNotRecommended
	case a.Rejected:
		return StateRejected
	case a.Approved:
		return StateApproved
	}
	return StateAwaitingBoards
}

// DecisionSent reports, inside tx, whether the competition's award
// decision has been sent; the evaluation uses it (evaluation.Service
// AwardSent) to keep the recommendation from changing after that.
func DecisionSent(tx *gorm.DB, competitionID string) (bool, error) {
	return decisionSent(tx, competitionID)
}

// decisionSent reports whether the award decision has been sent.
func decisionSent(tx *gorm.DB, competitionID string) (bool, error) {
	var n int64
	if err := tx.Model(&Award{}).Where("competition_id = ?", competitionID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("read award: %w", err)
	}
	return n > 0, nil
}

// Award reads the award of a competition, or nil before its decision has
// been sent.
func (s *Service) Award(ctx context.Context, competitionID string) (*Award, error) {
	var aw Award
	err := s.DB.WithContext(ctx).Where("competition_id = ?", competitionID).Limit(1).Find(&aw).Error
	if err != nil {
		return nil, fmt.Errorf("read award: %w", err)
	}
	if aw.CompetitionID == "" {
		return nil, nil
	}
	aw.utc()
	return &aw, nil
}

// DecisionInput's counterpart for the lead: whether a call-off under the
// 2015 regulations observes a voluntary standstill.
type SendInput struct {
	CompetitionID       string
	VoluntaryStandstill bool
}

// SendDecision sends the award decision once every buying trust's board
// has approved: one letter to every bidder whose bid was opened, with its
// own assessment summary against the winner's (AssessmentSummary), in one
// transaction with the award's record and audit entry.
//
// Under the Public Contracts Regulations 2015 the letters are the award
// decision notices. A call-off from a framework is exempt from the
// standstill (regulation 87(4)(b)), so the award may be confirmed at once
// unless the lead chose a voluntary standstill, which then runs 10 days
// from the letters (standstill.End). Under the Procurement Act 2023 the
// assessment summaries must reach every bidder before the contract award
// notice is published, and the standstill of 8 working days starts with
// that notice (PublishNotice), so none is set here.
func (s *Service) SendDecision(ctx context.Context, actor audit.Actor, in SendInput) error {
	const action = "award.decision_sent"
	rec, err := s.recommendation(ctx, in.CompetitionID)
	if err != nil {
		return err
	}
	letters, err := s.letters(ctx, in.CompetitionID, rec)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.asLead(tx, actor, in.CompetitionID)
		if err != nil {
			return err
		}
		a, err := approvals(tx, rec)
		if err != nil {
			return err
		}
		sent, err := decisionSent(tx, c.ID)
		if err != nil {
			return err
		}
		var v validate.Errors
		switch {
		case c.Status == competition.StatusCancelled:
			v.Add(FieldStandstill, "The competition has been cancelled, so there is no award to send")
		case sent:
			v.Add(FieldStandstill, "The award decision has already been sent")
		case a.Rejected:
			v.Add(FieldStandstill, "A board rejected the award, so it cannot be sent")
		case !a.Approved:
			v.Add(FieldStandstill, fmt.Sprintf("%d buying trust boards have still to approve the award", len(a.Pending())))
		case in.VoluntaryStandstill && c.Regime != framework.RegimePCR2015:
			v.Add(FieldStandstill, "A voluntary standstill is for call-offs under the Public Contracts Regulations 2015; under the Procurement Act 2023 the standstill always applies")
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
		aw := Award{CompetitionID: c.ID, RecommendationVersion: rec.Version, BidID: rec.BidID, SupplierOrgID: rec.SupplierOrgID,
			Status: StatusDecided, VoluntaryStandstill: in.VoluntaryStandstill, LettersSentAt: now, DecidedBy: actor.UserID, Version: 1}
		if c.Regime == framework.RegimePCR2015 {
			ends := now
			if in.VoluntaryStandstill {
				ends = standstill.End(standstill.PCR2015, now)
			}
			aw.StandstillEnds = &ends
		}
		if err := tx.Create(&aw).Error; err != nil {
			return fmt.Errorf("record award: %w", err)
		}
		for _, l := range letters {
			l.Data["Procurement"] = c.Name()
			l.Data["StandstillEnds"] = aw.StandstillEnds
			l.Data["Regime"] = c.Regime
			users, err := orgs.UsersWithRole(tx, authz.SupplierUser, l.SupplierOrgID)
			if err != nil {
				return err
			}
			if err := s.notifyAll(ctx, tx, users, KindAssessmentSummary, l.Data, competition.SupplierPath(c.ID)); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{
			"recommendation_version": rec.Version, "winner": rec.SupplierOrgID, "letters": len(letters),
			"voluntary_standstill": in.VoluntaryStandstill, "standstill_ends": aw.StandstillEnds,
		})
	})
	return s.refused(ctx, actor, action, in.CompetitionID, err)
}

// PublishNotice records the contract award notice of a competition under
// the Procurement Act 2023, after the letters have gone, and starts its
// standstill: 8 working days beginning with the day of publication. The
// buying trusts' leads and the bidders are told when it ends.
func (s *Service) PublishNotice(ctx context.Context, actor audit.Actor, competitionID string) error {
	const action = "award.notice_published"
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.asLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var aw Award
		if err := tx.Where("competition_id = ?", c.ID).Limit(1).Find(&aw).Error; err != nil {
			return fmt.Errorf("read award: %w", err)
		}
		var v validate.Errors
		switch {
		case c.Regime != framework.RegimePA2023:
			v.Add(FieldStandstill, "A contract award notice starts the standstill only under the Procurement Act 2023; under the 2015 regulations the award letters did")
		case aw.CompetitionID == "":
			v.Add(FieldStandstill, "Send the award letters with their assessment summaries before publishing the contract award notice")
		case aw.NoticePublishedAt != nil:
			v.Add(FieldStandstill, "The contract award notice has already been published")
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
		ends := standstill.End(standstill.PA2023, now)
		res := tx.Model(&Award{}).Where("competition_id = ? AND version = ?", c.ID, aw.Version).
			Updates(map[string]any{"notice_published_at": now, "standstill_ends": ends, "version": aw.Version + 1})
		if res.Error != nil {
			return fmt.Errorf("record notice: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return errors.New("record notice: the award changed meanwhile")
		}
		users, err := s.partiesOf(tx, c)
		if err != nil {
			return err
		}
		var winner string
		if err := tx.Table("organisations").Where("id = ?", aw.SupplierOrgID).Pluck("name", &winner).Error; err != nil {
			return fmt.Errorf("read winner: %w", err)
		}
		data := map[string]any{"Procurement": c.Name(), "AwardedTo": winner, "StandstillEnds": ends}
		if err := s.notifyAll(ctx, tx, users, KindStandstill, data, Path(c.ID)); err != nil {
			return err
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"published_at": now, "standstill_ends": ends})
	})
	return s.refused(ctx, actor, action, competitionID, err)
}

// partiesOf lists who is told of the standstill: the buying trusts'
// trust leads and the supplier users of every bidder whose bid was opened.
func (s *Service) partiesOf(tx *gorm.DB, c *competition.Competition) ([]string, error) {
	var buyerIDs, bidderIDs []string
	if err := tx.Model(&competition.Buyer{}).Where("competition_id = ?", c.ID).Pluck("organisation_id", &buyerIDs).Error; err != nil {
		return nil, fmt.Errorf("read buyers: %w", err)
	}
	if err := tx.Model(&competition.Bid{}).Where("competition_id = ? AND status <> ?", c.ID, competition.BidExcluded).
		Pluck("supplier_org_id", &bidderIDs).Error; err != nil {
		return nil, fmt.Errorf("read bidders: %w", err)
	}
	leads, err := orgs.UsersWithRole(tx, authz.TrustLead, buyerIDs...)
	if err != nil {
		return nil, err
	}
	suppliers, err := orgs.UsersWithRole(tx, authz.SupplierUser, bidderIDs...)
	if err != nil {
		return nil, err
	}
	return append(leads, suppliers...), nil
}
