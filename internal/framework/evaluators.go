package framework

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/validate"
)

// FieldEvaluators names the evaluators' field errors.
const FieldEvaluators = "evaluators"

// Evaluator is a person who may score, or is assigned to score, a
// framework's applications, with the organisation they evaluate for.
type Evaluator struct {
	UserID           string
	Name             string
	Email            string
	OrganisationID   string
	OrganisationName string
	// AssignedAt is when they were assigned; zero for a candidate.
	AssignedAt time.Time
}

// evaluatorRow is an assignment as stored.
type evaluatorRow struct {
	FrameworkID string `gorm:"primaryKey"`
	UserID      string `gorm:"primaryKey"`
	AssignedAt  time.Time
	AssignedBy  string
}

func (evaluatorRow) TableName() string { return "framework_evaluators" }

// EvaluatorCandidates lists the people who may be assigned to evaluate the
// framework: enabled users holding the evaluator role in the consortium
// that owns it or in one of its current member trusts, by name. Evaluators
// come from the buying organisations; nobody else sees sealed content.
func (s *Service) EvaluatorCandidates(ctx context.Context, frameworkID string) ([]Evaluator, error) {
	db := s.DB.WithContext(ctx)
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return nil, err
	}
	return candidates(db, f, s.now())
}

func candidates(tx *gorm.DB, f *Framework, now time.Time) ([]Evaluator, error) {
	var members []orgs.ConsortiumMember
	if err := tx.Where("consortium_id = ?", f.ConsortiumID).Find(&members).Error; err != nil {
		return nil, fmt.Errorf("read consortium members: %w", err)
	}
	orgIDs := []string{f.ConsortiumID}
	today := day(now)
	for _, m := range members {
		if m.Current(today) {
			orgIDs = append(orgIDs, m.TrustID)
		}
	}
	return EvaluatorsAt(tx, orgIDs)
}

// EvaluatorsAt lists the enabled people holding the evaluator role in any
// of orgIDs by name, each once, with the organisation they evaluate for
// (the first by name when several): who may be assigned to evaluate a
// framework's applications or sit on a competition's panel.
func EvaluatorsAt(db *gorm.DB, orgIDs []string) ([]Evaluator, error) {
	var rows []Evaluator
	err := db.Table("memberships m").
		Select("u.id AS user_id, u.name, u.email, o.id AS organisation_id, o.name AS organisation_name").
		Joins("JOIN users u ON u.id = m.user_id").Joins("JOIN organisations o ON o.id = m.organisation_id").
		Where("m.role = ? AND m.organisation_id IN ? AND u.disabled_at IS NULL", string(authz.Evaluator), orgIDs).
		Order("u.name, u.id, o.name").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list evaluator candidates: %w", err)
	}
	return slices.CompactFunc(rows, func(a, b Evaluator) bool { return a.UserID == b.UserID }), nil
}

// AssignedEvaluators lists the people assigned in an assignment table
// (user_id, assigned_at and keyColumn = keyID, such as framework_evaluators
// by framework_id) by name, with the organisation each evaluates for taken
// from the current candidates; one who is no longer a candidate has none.
func AssignedEvaluators(db *gorm.DB, table, keyColumn, keyID string, candidates []Evaluator) ([]Evaluator, error) {
	var rows []Evaluator
	err := db.Table(table+" e").
		Select("u.id AS user_id, u.name, u.email, e.assigned_at").
		Joins("JOIN users u ON u.id = e.user_id").
		Where("e."+keyColumn+" = ?", keyID).Order("u.name, u.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list assigned evaluators: %w", err)
	}
	for i := range rows {
		rows[i].AssignedAt = rows[i].AssignedAt.UTC()
		for _, c := range candidates {
			if c.UserID == rows[i].UserID {
				rows[i].OrganisationID, rows[i].OrganisationName = c.OrganisationID, c.OrganisationName
			}
		}
	}
	return rows, nil
}

// AssignEvaluators makes userIDs the framework's evaluators, replacing the
// previous set. Only the consortium lead may, from the draft until the
// first decision is recorded: decisions rest on the evaluations of the
// evaluators assigned when they were made. Everyone must be a candidate
// (EvaluatorCandidates). Removing an evaluator keeps their scores but stops
// them counting.
func (s *Service) AssignEvaluators(ctx context.Context, actor audit.Actor, frameworkID string, userIDs []string) error {
	ids := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lockAsLead(tx, actor, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		var v validate.Errors
		switch st := f.State(now); st {
		case StateDraft, StateScheduled, StateOpen:
		case StateEvaluation:
			var decided int64
			if err := tx.Model(&Application{}).Where("framework_id = ? AND status <> ?", frameworkID, ApplicationOpened).Count(&decided).Error; err != nil {
				return fmt.Errorf("count decisions: %w", err)
			}
			if decided > 0 {
				v.Add(FieldEvaluators, "Decisions have been recorded, so the evaluators can no longer be changed")
			}
		default:
			v.Add(FieldEvaluators, fmt.Sprintf("Evaluators cannot be changed while the framework is %s", strings.ToLower(StateLabel(st))))
		}
		if err := v.Err(); err != nil {
			return err
		}
		cands, err := candidates(tx, f, now)
		if err != nil {
			return err
		}
		byID := map[string]bool{}
		for _, c := range cands {
			byID[c.UserID] = true
		}
		for _, id := range ids {
			if byID[id] {
				continue
			}
			var u orgs.User
			if err := tx.Where("id = ?", id).Limit(1).Find(&u).Error; err != nil {
				return fmt.Errorf("read user: %w", err)
			}
			if u.ID == "" {
				v.Add(FieldEvaluators, "One of the people chosen is not a portal user")
			} else {
				v.Add(FieldEvaluators, fmt.Sprintf("%s is not an evaluator at the consortium or one of its member trusts", u.DisplayName()))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		var before []string
		if err := tx.Model(&evaluatorRow{}).Where("framework_id = ?", frameworkID).Pluck("user_id", &before).Error; err != nil {
			return fmt.Errorf("read evaluators: %w", err)
		}
		removed := 0
		for _, id := range before {
			if !slices.Contains(ids, id) {
				removed++
			}
		}
		del := tx.Where("framework_id = ?", frameworkID)
		if len(ids) > 0 {
			del = del.Where("user_id NOT IN ?", ids)
		}
		if err := del.Delete(&evaluatorRow{}).Error; err != nil {
			return fmt.Errorf("remove evaluators: %w", err)
		}
		for _, id := range ids {
			row := evaluatorRow{FrameworkID: frameworkID, UserID: id, AssignedAt: now, AssignedBy: actor.UserID}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return fmt.Errorf("assign evaluator: %w", err)
			}
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.evaluators.set", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"evaluators": ids, "added": len(ids) - (len(before) - removed), "removed": removed}})
	})
	return s.refused(ctx, actor, "framework.evaluators.set", "framework", frameworkID, err)
}

// Evaluators lists the framework's assigned evaluators by name, with the
// organisation each evaluates for (the consortium or a member trust).
func (s *Service) Evaluators(ctx context.Context, frameworkID string) ([]Evaluator, error) {
	return evaluators(s.DB.WithContext(ctx), frameworkID, s.now())
}

func evaluators(tx *gorm.DB, frameworkID string, now time.Time) ([]Evaluator, error) {
	var f Framework
	if err := tx.Where("id = ?", frameworkID).First(&f).Error; err != nil {
		return nil, notFound(err, "framework")
	}
	// The organisation each evaluates for, as the candidates list gives it.
	cands, err := candidates(tx, &f, now)
	if err != nil {
		return nil, err
	}
	return AssignedEvaluators(tx, "framework_evaluators", "framework_id", frameworkID, cands)
}

// IsEvaluator reports whether the user is one of the framework's assigned
// evaluators and still holds the role (see assigned).
func (s *Service) IsEvaluator(ctx context.Context, frameworkID, userID string) (bool, error) {
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return false, err
	}
	return assigned(s.DB.WithContext(ctx), f, userID, s.now())
}
