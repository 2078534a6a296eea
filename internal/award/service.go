// Package award takes a mini-competition from the evaluation's
// recommendation to the confirmed award the contracts are made from:
//
//   - board approval (approvals.go): every buying trust's board approves the
//     recommended award, with a quorum of approvals per trust; any rejection
//     stops it; a board member may recuse; the person who recommended it
//     cannot decide; reminders go out before the approval date
//     (reminders.go);
//   - the award decision (decision.go): letters to every bidder with an
//     assessment summary (its own scores against the winner's), then the
//     standstill the regime asks for: 10 calendar days from the letters
//     under the Public Contracts Regulations 2015 (a call-off is exempt but
//     may choose a voluntary standstill), 8 working days from the contract
//     award notice under the Procurement Act 2023;
//   - challenges (challenges.go), which pause the award until resolved;
//   - confirmation (confirm.go) once the standstill has run out, which marks
//     the bids successful or unsuccessful and makes one contract per buying
//     trust (internal/contracts).
//
// Like the rest of the portal, what the clock decides (the standstill
// running out) is derived from the stored times, never flipped by a job.
package award

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/store"
)

// Notifier records notifications in the caller's transaction
// (*notify.Notifier).
type Notifier interface {
	Notify(ctx context.Context, tx *gorm.DB, userID, kind string, data map[string]any, link string) error
}

// Service runs board approval, the award decision, standstill, challenges
// and confirmation. Every change is one transaction with its audit entry
// and notifications.
type Service struct {
	DB           *store.DB
	Audit        *audit.Log
	Clock        clock.Clock
	Competitions *competition.Service
	Evaluation   *evaluation.Service
	Contracts    *contracts.Service
	Notify       Notifier
}

// Errors callers can test for with errors.Is.
var (
	// ErrForbidden: the actor may not do this (not a board member of that
	// trust, not a trust lead of the lead trust).
	ErrForbidden = errors.New("you cannot do this for that award")
	// ErrNoRecommendation: nothing has been recommended yet.
	ErrNoRecommendation = errors.New("no award has been recommended for this competition yet")
)

// now is the clock's time as the databases store it.
func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

// lockCompetition serialises award changes to one competition for the
// transaction and reads it.
func (s *Service) lockCompetition(tx *gorm.DB, id string) (*competition.Competition, error) {
	res := tx.Model(&competition.Competition{}).Where("id = ?", id).Update("updated_at", s.now())
	if res.Error != nil {
		return nil, fmt.Errorf("lock competition: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("competition: %w", store.ErrNotFound)
	}
	var c competition.Competition
	if err := tx.Where("id = ?", id).First(&c).Error; err != nil {
		return nil, fmt.Errorf("read competition: %w", err)
	}
	return &c, nil
}

// asLead locks the competition and checks the actor is a trust lead of
// its lead trust, who answers for the award.
func (s *Service) asLead(tx *gorm.DB, actor audit.Actor, competitionID string) (*competition.Competition, error) {
	c, err := s.lockCompetition(tx, competitionID)
	if err != nil {
		return nil, err
	}
	ok, err := competition.HasRole(tx, actor.UserID, c.LeadOrgID, authz.TrustLead)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrForbidden
	}
	return c, nil
}

// refused records a refusal for want of permission in the audit log (in
// its own transaction, after the refused one rolled back) and returns err;
// other errors pass through unrecorded.
func (s *Service) refused(ctx context.Context, actor audit.Actor, action, competitionID string, err error) error {
	return s.Audit.Refused(ctx, s.DB, actor, action, "competition", competitionID, err, ErrForbidden)
}

func (s *Service) appendAudit(tx *gorm.DB, actor audit.Actor, action, competitionID string, detail map[string]any) error {
	return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition", ObjectID: competitionID, Detail: detail})
}

// notifyAll sends one notification to each user.
func (s *Service) notifyAll(ctx context.Context, tx *gorm.DB, users []string, kind string, data map[string]any, link string) error {
	for _, u := range users {
		if err := s.Notify.Notify(ctx, tx, u, kind, data, link); err != nil {
			return fmt.Errorf("notify %s: %w", kind, err)
		}
	}
	return nil
}

// Path is the award page of a competition.
func Path(competitionID string) string { return "/competitions/" + competitionID + "/award" }
