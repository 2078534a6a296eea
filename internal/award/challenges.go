package award

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/validate"
)

// Outcomes of a challenge.
const (
	ChallengeDismissed = "dismissed"
	ChallengeWithdrawn = "withdrawn"
	// ChallengeUpheld sets the award aside: it cannot be confirmed.
	ChallengeUpheld = "upheld"
)

// Field names of challenge errors.
const (
	FieldChallengeDetails  = "details"
	FieldChallengeReceived = "received"
	FieldChallengeSupplier = "supplier"
	FieldChallengeOutcome  = "outcome"
	FieldChallengeReason   = "resolution"
)

// Challenge is a challenge to the award decision, recorded by the lead
// trust: while one is open the award is paused (it cannot be confirmed).
type Challenge struct {
	ID            string
	CompetitionID string
	// SupplierOrgID is the challenger when it is a bidder, or nil.
	SupplierOrgID *string
	Details       string
	ReceivedAt    time.Time
	RecordedBy    string
	RecordedAt    time.Time
	// Outcome is "" while the challenge is open.
	Outcome    string
	Resolution string
	ResolvedAt *time.Time
	ResolvedBy *string
}

// TableName tells GORM where challenges live.
func (Challenge) TableName() string { return "award_challenges" }

// Open reports whether the challenge is still unresolved.
func (c Challenge) Open() bool { return c.Outcome == "" }

// ChallengeInput is a challenge as received.
type ChallengeInput struct {
	CompetitionID string
	SupplierOrgID string // a bidder, or "" for someone else
	Details       string
	ReceivedAt    time.Time
}

// RecordChallenge records a challenge to the award decision, which pauses
// the award until it is resolved. Only the lead trust's trust leads record
// one, once the decision has been sent and before the award is confirmed;
// the challenger, when a bidder, must be one whose bid was opened, and the
// date received cannot be in the future.
func (s *Service) RecordChallenge(ctx context.Context, actor audit.Actor, in ChallengeInput) (*Challenge, error) {
	const action = "award.challenge_recorded"
	var out *Challenge
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.asLead(tx, actor, in.CompetitionID)
		if err != nil {
			return err
		}
		aw, err := awardIn(tx, c.ID)
		if err != nil {
			return err
		}
		var v validate.Errors
		switch {
		case aw == nil:
			v.Add(FieldChallengeDetails, "A challenge can be recorded once the award decision has been sent")
		case aw.Status != StatusDecided:
			v.Add(FieldChallengeDetails, "The award is "+StateLabel(State(nil, aw, false, s.now()))+", so a challenge can no longer pause it")
		}
		in.Details = strings.TrimSpace(in.Details)
		if in.Details == "" {
			v.Add(FieldChallengeDetails, "Enter what the challenge says, and who made it if not a bidder")
		} else if utf8.RuneCountInString(in.Details) > MaxComments {
			v.Add(FieldChallengeDetails, fmt.Sprintf("Details must be %d characters or fewer", MaxComments))
		}
		switch {
		case in.ReceivedAt.IsZero():
			v.Add(FieldChallengeReceived, "Enter the date the challenge was received")
		case in.ReceivedAt.After(s.now()):
			v.Add(FieldChallengeReceived, "The date received must be today or in the past")
		}
		var supplier *string
		if in.SupplierOrgID != "" {
			var n int64
			if err := tx.Table("competition_bids").Where("competition_id = ? AND supplier_org_id = ?", c.ID, in.SupplierOrgID).Count(&n).Error; err != nil {
				return fmt.Errorf("check challenger: %w", err)
			}
			if n == 0 {
				v.Add(FieldChallengeSupplier, "Select a bidder from the list, or none if someone else challenged")
			}
			supplier = &in.SupplierOrgID
		}
		if err := v.Err(); err != nil {
			return err
		}
		ch := Challenge{ID: uuid.NewString(), CompetitionID: c.ID, SupplierOrgID: supplier, Details: in.Details,
			ReceivedAt: in.ReceivedAt.UTC(), RecordedBy: actor.UserID, RecordedAt: s.now()}
		if err := tx.Create(&ch).Error; err != nil {
			return fmt.Errorf("record challenge: %w", err)
		}
		out = &ch
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"challenge_id": ch.ID, "supplier": in.SupplierOrgID, "received_at": ch.ReceivedAt})
	})
	return out, s.refused(ctx, actor, action, in.CompetitionID, err)
}

// ResolveChallenge records how a challenge ended, with the reasons:
// dismissed or withdrawn lets the award go ahead (once no other challenge
// is open); upheld sets the award aside.
func (s *Service) ResolveChallenge(ctx context.Context, actor audit.Actor, competitionID, challengeID, outcome, resolution string) error {
	const action = "award.challenge_resolved"
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.asLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var ch Challenge
		if err := tx.Where("id = ? AND competition_id = ?", challengeID, c.ID).Limit(1).Find(&ch).Error; err != nil {
			return fmt.Errorf("read challenge: %w", err)
		}
		var v validate.Errors
		resolution = strings.TrimSpace(resolution)
		switch {
		case ch.ID == "":
			return ErrForbidden
		case !ch.Open():
			v.Add(FieldChallengeOutcome, "This challenge has already been resolved")
		case outcome != ChallengeDismissed && outcome != ChallengeWithdrawn && outcome != ChallengeUpheld:
			v.Add(FieldChallengeOutcome, "Select how the challenge ended")
		}
		if resolution == "" {
			v.Add(FieldChallengeReason, "Say how the challenge was resolved")
		} else if utf8.RuneCountInString(resolution) > MaxComments {
			v.Add(FieldChallengeReason, fmt.Sprintf("The resolution must be %d characters or fewer", MaxComments))
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
		if err := tx.Model(&Challenge{}).Where("id = ?", ch.ID).
			Updates(map[string]any{"outcome": outcome, "resolution": resolution, "resolved_at": now, "resolved_by": actor.UserID}).Error; err != nil {
			return fmt.Errorf("resolve challenge: %w", err)
		}
		if outcome == ChallengeUpheld {
			if err := tx.Model(&Award{}).Where("competition_id = ?", c.ID).
				Updates(map[string]any{"status": StatusSetAside, "version": gorm.Expr("version + 1")}).Error; err != nil {
				return fmt.Errorf("set award aside: %w", err)
			}
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"challenge_id": ch.ID, "outcome": outcome})
	})
	return s.refused(ctx, actor, action, competitionID, err)
}

// Challenges lists a competition's challenges, oldest first.
func (s *Service) Challenges(ctx context.Context, competitionID string) ([]Challenge, error) {
	return challenges(s.DB.WithContext(ctx), competitionID)
}

func challenges(tx *gorm.DB, competitionID string) ([]Challenge, error) {
	var out []Challenge
	if err := tx.Where("competition_id = ?", competitionID).Order("received_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list challenges: %w", err)
	}
	for i := range out {
		out[i].ReceivedAt = out[i].ReceivedAt.UTC()
		out[i].RecordedAt = out[i].RecordedAt.UTC()
	}
	return out, nil
}

// openChallenge reports whether any challenge to the competition's award is
// unresolved.
func openChallenge(tx *gorm.DB, competitionID string) (bool, error) {
	var n int64
	if err := tx.Model(&Challenge{}).Where("competition_id = ? AND outcome = ''", competitionID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("read challenges: %w", err)
	}
	return n > 0, nil
}

// awardIn reads the award inside a transaction, or nil before the decision.
func awardIn(tx *gorm.DB, competitionID string) (*Award, error) {
	var aw Award
	if err := tx.Where("competition_id = ?", competitionID).Limit(1).Find(&aw).Error; err != nil {
		return nil, fmt.Errorf("read award: %w", err)
	}
	if aw.CompetitionID == "" {
		return nil, nil
	}
	aw.utc()
	return &aw, nil
}
