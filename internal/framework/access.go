package framework

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
)

// Errors the evaluation functions return, for errors.Is.
var (
	// ErrForbidden: the actor may not do this to this framework (not its
	// consortium's lead, or not one of its evaluators).
	ErrForbidden = errors.New("you cannot do this for that framework")
	// ErrScoresHidden: an evaluator asked for the other evaluators' scores
	// before every assigned evaluator had submitted theirs. Evaluators mark
	// independently; seeing another's marks first would anchor their own.
	ErrScoresHidden = errors.New("the other evaluators' scores are hidden until every evaluator has submitted theirs")
	// ErrNoAgreement: suppliers are appointed to the framework agreement
	// only when the standstill starts; there is no agreement before that.
	ErrNoAgreement = errors.New("the framework agreement has not been made yet")
)

// hasRole reports whether the user holds role in the organisation. The
// web layer checks roles through casbin too; these checks are the domain's
// own, object-level ones, made on the stored consortium.
func hasRole(tx *gorm.DB, userID, orgID string, role authz.Role) (bool, error) {
	if userID == "" || orgID == "" {
		return false, nil
	}
	var n int64
	err := tx.Table("memberships").Where("user_id = ? AND organisation_id = ? AND role = ?", userID, orgID, string(role)).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check role: %w", err)
	}
	return n > 0, nil
}

// requireLead refuses unless the actor is a consortium lead of the
// framework's consortium: only the lead opens, decides and appoints.
func requireLead(tx *gorm.DB, actor audit.Actor, f *Framework) error {
	ok, err := hasRole(tx, actor.UserID, f.ConsortiumID, authz.ConsortiumLead)
	if err != nil {
		return err
	}
	if !ok {
		return ErrForbidden
	}
	return nil
}

// assigned reports whether the user is one of the framework's evaluators
// and still may be: still holding the evaluator role in the consortium or
// a current member trust and not disabled. An evaluator whose role was
// taken away, or whose trust left the consortium, loses access at once,
// though the assignment (and any scores) stay on record.
func assigned(tx *gorm.DB, f *Framework, userID string, now time.Time) (bool, error) {
	var n int64
	if err := tx.Table("framework_evaluators").Where("framework_id = ? AND user_id = ?", f.ID, userID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check evaluator: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	cands, err := candidates(tx, f, now)
	if err != nil {
		return false, err
	}
	for _, c := range cands {
		if c.UserID == userID {
			return true, nil
		}
	}
	return false, nil
}

// refused records a refusal for want of permission in the audit log (in a
// transaction of its own, after the refused one has rolled back) and
// returns err; other errors pass through unrecorded.
func (s *Service) refused(ctx context.Context, actor audit.Actor, action, objectType, objectID string, err error) error {
	return s.Audit.Refused(ctx, s.DB, actor, action, objectType, objectID, err, ErrForbidden)
}

// lockAsLead is the start of every change only the consortium lead may
// make: the framework locked for the transaction, and the actor checked.
func (s *Service) lockAsLead(tx *gorm.DB, actor audit.Actor, frameworkID string) (*Framework, error) {
	f, err := s.lock(tx, frameworkID)
	if err != nil {
		return nil, err
	}
	if err := requireLead(tx, actor, f); err != nil {
		return nil, err
	}
	return f, nil
}
