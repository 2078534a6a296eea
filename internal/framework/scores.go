package framework

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// The marking scale of scored, numeric and price schedule requirements:
// 0 (no response) to 4, as the catalogue's descriptors describe.
const (
	MinMark = 0
	MaxMark = catalogue.Marks - 1
)

// MaxJustification is the longest justification, in characters.
const MaxJustification = 5000

// FieldScores names field errors about an evaluator's scores as a whole;
// errors about one requirement are keyed by its LotRequirement ID.
const FieldScores = "scores"

// ScoreInput is an evaluator's mark for one requirement: Pass for a
// pass/fail requirement, Score (0 to 4) for the others, and a
// justification either way. An input with neither mark nor justification
// clears a saved draft mark.
type ScoreInput struct {
	LotRequirementID string
	Pass             *bool
	Score            *int
	Justification    string
}

func (in ScoreInput) blank() bool { return BlankMark(in.Pass, in.Score, in.Justification) }

// BlankMark reports whether nothing at all was entered for a mark: no pass
// or fail, no score and no justification. A blank mark clears a draft
// rather than being checked, in framework and competition evaluations
// alike.
func BlankMark(pass *bool, score *int, justification string) bool {
	return pass == nil && score == nil && strings.TrimSpace(justification) == ""
}

// Score is one evaluator's stored mark for one requirement of one
// application.
type Score struct {
	ApplicationID    string `gorm:"primaryKey"`
	LotRequirementID string `gorm:"primaryKey"`
	EvaluatorUserID  string `gorm:"primaryKey"`
	Pass             *bool
	Score            *int
	Justification    string
	SavedAt          time.Time
}

// TableName tells GORM where scores live.
func (Score) TableName() string { return "framework_scores" }

// evaluationRow records that an evaluator submitted their scores for an
// application; they are final from then on.
type evaluationRow struct {
	ApplicationID   string `gorm:"primaryKey"`
	EvaluatorUserID string `gorm:"primaryKey"`
	SubmittedAt     time.Time
}

func (evaluationRow) TableName() string { return "framework_evaluations" }

// Evaluation is one evaluator's scores for one application.
type Evaluation struct {
	ApplicationID string
	Evaluator     Evaluator
	Scores        []Score
	// SubmittedAt is when the scores were submitted, nil for a draft.
	SubmittedAt *time.Time
}

// Submitted reports whether the scores are submitted and final.
func (e Evaluation) Submitted() bool { return e.SubmittedAt != nil }

// For returns the score for a requirement, if there is one.
func (e Evaluation) For(lotRequirementID string) (Score, bool) {
	for _, s := range e.Scores {
		if s.LotRequirementID == lotRequirementID {
			return s, true
		}
	}
	return Score{}, false
}

// FieldMark is the form field of the mark for a requirement: pass-<id>
// for a pass/fail requirement, score-<id> for one marked 0 to 4.
func FieldMark(r LotRequirement) string {
	if r.ResponseType == catalogue.PassFail {
		return "pass-" + r.ID
	}
	return "score-" + r.ID
}

// FieldJustification is the form field of the justification for a mark.
func FieldJustification(r LotRequirement) string { return "justification-" + r.ID }

// MarkProblem checks one mark against its requirement and says which
// field is wrong (FieldMark or FieldJustification) and what is wrong in
// plain English, or "" when it is complete: pass or fail for a pass/fail
// requirement, MinMark to MaxMark for the others, and a justification of
// at most MaxJustification characters either way. It is the one rule for
// marks: framework evaluators, competition evaluators and moderators
// (through competition.Requirement.AsLotRequirement) are all checked by it.
func MarkProblem(r LotRequirement, pass *bool, score *int, justification string) (field, msg string) {
	if r.ResponseType == catalogue.PassFail {
		switch {
		case score != nil:
			return FieldMark(r), fmt.Sprintf("%s is marked pass or fail, not on the 0 to 4 scale", r.Reference)
		case pass == nil:
			return FieldMark(r), fmt.Sprintf("Choose pass or fail for %s", r.Reference)
		}
	} else {
		switch {
		case pass != nil:
			return FieldMark(r), fmt.Sprintf("%s is marked on the scale of 0 to 4, not pass or fail", r.Reference)
		case score == nil:
			return FieldMark(r), fmt.Sprintf("Give %s a mark from 0 to 4", r.Reference)
		case *score < MinMark || *score > MaxMark:
			return FieldMark(r), fmt.Sprintf("The mark for %s must be on the scale of 0 (no response) to 4; %d is not on it", r.Reference, *score)
		}
	}
	switch {
	case strings.TrimSpace(justification) == "":
		return FieldJustification(r), fmt.Sprintf("Explain why you gave %s this mark", r.Reference)
	case utf8.RuneCountInString(justification) > MaxJustification:
		return FieldJustification(r), fmt.Sprintf("The justification for %s must be %s characters or fewer", r.Reference, "5,000")
	}
	return "", ""
}

// scoring starts every change to an evaluator's scores: it queues behind
// any other change to the application's scores (a no-op update takes the
// row lock on PostgreSQL and the write lock on SQLite, so a save cannot
// slip in after a concurrent submission), then checks that the actor is an
// assigned evaluator and that the scores are still theirs to change.
func (s *Service) scoring(tx *gorm.DB, actor audit.Actor, applicationID string) (*Application, *Framework, error) {
	res := tx.Model(&Application{}).Where("id = ?", applicationID).Update("status", gorm.Expr("status"))
	if res.Error != nil {
		return nil, nil, fmt.Errorf("lock application: %w", res.Error)
	}
	a, err := loadApplication(tx, applicationID)
	if err != nil {
		return nil, nil, err
	}
	var f Framework
	if err := tx.Where("id = ?", a.FrameworkID).First(&f).Error; err != nil {
		return nil, nil, notFound(err, "framework")
	}
	ok, err := assigned(tx, &f, actor.UserID, s.now())
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, ErrForbidden
	}
	var v validate.Errors
	var done evaluationRow
	if err := tx.Where("application_id = ? AND evaluator_user_id = ?", applicationID, actor.UserID).Limit(1).Find(&done).Error; err != nil {
		return nil, nil, fmt.Errorf("read evaluation: %w", err)
	}
	switch st := f.State(s.now()); {
	case done.ApplicationID != "":
		v.Add(FieldScores, "You submitted your scores for this application at "+uktime.Moment(done.SubmittedAt)+"; they can no longer be changed")
	case a.Decided():
		v.Add(FieldScores, "The lead has decided this application; its scores can no longer be changed")
	case st != StateEvaluation:
		v.Add(FieldScores, fmt.Sprintf("Applications cannot be scored while the framework is %s", strings.ToLower(StateLabel(st))))
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	return a, &f, nil
}

// SaveScores saves the evaluator's draft marks for an application: any
// number of the lot's requirements at a time. Every mark given must be
// complete (pass or fail, or 0 to 4, with a justification); otherwise
// nothing is saved and each problem is reported against its requirement's
// ID. Only an assigned evaluator may score, and only until they submit.
func (s *Service) SaveScores(ctx context.Context, actor audit.Actor, applicationID string, scores []ScoreInput) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		a, _, err := s.scoring(tx, actor, applicationID)
		if err != nil {
			return err
		}
		reqs, err := lotRequirements(tx, a.LotID)
		if err != nil {
			return err
		}
		byID := make(map[string]LotRequirement, len(reqs))
		for _, r := range reqs {
			byID[r.ID] = r
		}
		var v validate.Errors
		seen := map[string]bool{}
		for _, in := range scores {
			r, ok := byID[in.LotRequirementID]
			switch {
			case !ok:
				v.Add(in.LotRequirementID, fmt.Sprintf("This requirement is not part of lot %d", a.Lot.Number))
			case seen[r.ID]:
				v.Add(FieldMark(r), fmt.Sprintf("%s is marked twice; give one mark", r.Reference))
			case !in.blank():
				if field, msg := MarkProblem(r, in.Pass, in.Score, in.Justification); msg != "" {
					v.Add(field, msg)
				}
			}
			seen[in.LotRequirementID] = true
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
		saved, cleared := 0, 0
		for _, in := range scores {
			if in.blank() {
				res := tx.Where("application_id = ? AND lot_requirement_id = ? AND evaluator_user_id = ?", applicationID, in.LotRequirementID, actor.UserID).
					Delete(&Score{})
				if res.Error != nil {
					return fmt.Errorf("clear score: %w", res.Error)
				}
				cleared += int(res.RowsAffected)
				continue
			}
			sc := Score{ApplicationID: applicationID, LotRequirementID: in.LotRequirementID, EvaluatorUserID: actor.UserID,
				Pass: in.Pass, Score: in.Score, Justification: strings.TrimSpace(in.Justification), SavedAt: now}
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "application_id"}, {Name: "lot_requirement_id"}, {Name: "evaluator_user_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"pass", "score", "justification", "saved_at"}),
			}).Create(&sc).Error; err != nil {
				return fmt.Errorf("save score: %w", err)
			}
			saved++
		}
		// Counts only: marks and justifications stay out of the audit log.
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.scores.save", ObjectType: "framework_application", ObjectID: applicationID,
			Detail: map[string]any{"framework_id": a.FrameworkID, "lot_id": a.LotID, "saved": saved, "cleared": cleared}})
	})
	return s.refused(ctx, actor, "framework.scores.save", "framework_application", applicationID, err)
}

// SubmitScores makes the evaluator's scores for an application final. It
// refuses, naming each requirement, unless every requirement of the lot
// has a complete mark. After this the evaluator cannot change them, and
// once every assigned evaluator has submitted, each may see the others'.
func (s *Service) SubmitScores(ctx context.Context, actor audit.Actor, applicationID string) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		a, _, err := s.scoring(tx, actor, applicationID)
		if err != nil {
			return err
		}
		reqs, err := lotRequirements(tx, a.LotID)
		if err != nil {
			return err
		}
		mine, err := scoresOf(tx, applicationID, actor.UserID)
		if err != nil {
			return err
		}
		var v validate.Errors
		for _, r := range reqs {
			sc, ok := mine[r.ID]
			if !ok {
				v.Add(FieldMark(r), fmt.Sprintf("Score %s before submitting", r.Reference))
			} else if field, msg := MarkProblem(r, sc.Pass, sc.Score, sc.Justification); msg != "" {
				v.Add(field, msg)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Create(&evaluationRow{ApplicationID: applicationID, EvaluatorUserID: actor.UserID, SubmittedAt: s.now()}).Error; err != nil {
			return fmt.Errorf("submit scores: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.scores.submit", ObjectType: "framework_application", ObjectID: applicationID,
			Detail: map[string]any{"framework_id": a.FrameworkID, "lot_id": a.LotID, "requirements": len(reqs)}})
	})
	return s.refused(ctx, actor, "framework.scores.submit", "framework_application", applicationID, err)
}

// MyScores returns an evaluator's own scores for an application, draft or
// submitted; the caller checks that the person asking is that evaluator.
func (s *Service) MyScores(ctx context.Context, applicationID, userID string) (*Evaluation, error) {
	db := s.DB.WithContext(ctx)
	if _, err := loadApplication(db, applicationID); err != nil {
		return nil, err
	}
	list, err := evaluationsOf(db, applicationID, []Evaluator{{UserID: userID}})
	if err != nil {
		return nil, err
	}
	return &list[0], nil
}

// Scores returns every assigned evaluator's scores for an application, by
// evaluator name: to the consortium lead at any time (the lead moderates),
// and to an assigned evaluator only once every assigned evaluator has
// submitted (ErrScoresHidden before, so that nobody marks with another's
// marks in view). Anyone else gets ErrForbidden.
func (s *Service) Scores(ctx context.Context, actor audit.Actor, applicationID string) ([]Evaluation, error) {
	db := s.DB.WithContext(ctx)
	a, err := loadApplication(db, applicationID)
	if err != nil {
		return nil, err
	}
	f, err := s.Framework(ctx, a.FrameworkID)
	if err != nil {
		return nil, err
	}
	if err := s.mayEvaluate(db, actor, f); err != nil {
		return nil, s.refused(ctx, actor, "framework.scores.read", "framework_application", applicationID, err)
	}
	evs, err := evaluators(db, f.ID, s.now())
	if err != nil {
		return nil, err
	}
	list, err := evaluationsOf(db, applicationID, evs)
	if err != nil {
		return nil, err
	}
	// A lead who is also an evaluator waits like every evaluator: nobody
	// who marks sees another's marks first.
	lead, err := hasRole(db, actor.UserID, f.ConsortiumID, authz.ConsortiumLead)
	if err != nil {
		return nil, err
	}
	marks := false
	for _, e := range evs {
		marks = marks || e.UserID == actor.UserID
	}
	if !lead || marks {
		for _, e := range list {
			if !e.Submitted() {
				return nil, ErrScoresHidden
			}
		}
	}
	return list, nil
}

// scoresOf is one evaluator's scores for an application by requirement.
func scoresOf(tx *gorm.DB, applicationID, userID string) (map[string]Score, error) {
	var list []Score
	if err := tx.Where("application_id = ? AND evaluator_user_id = ?", applicationID, userID).Find(&list).Error; err != nil {
		return nil, fmt.Errorf("read scores: %w", err)
	}
	out := make(map[string]Score, len(list))
	for _, sc := range list {
		out[sc.LotRequirementID] = sc
	}
	return out, nil
}

// evaluationsOf is each evaluator's scores for the application, in the
// evaluators' order and, within one, in the lot's requirement order.
func evaluationsOf(tx *gorm.DB, applicationID string, evs []Evaluator) ([]Evaluation, error) {
	a, err := loadApplication(tx, applicationID)
	if err != nil {
		return nil, err
	}
	reqs, err := lotRequirements(tx, a.LotID)
	if err != nil {
		return nil, err
	}
	var done []evaluationRow
	if err := tx.Where("application_id = ?", applicationID).Find(&done).Error; err != nil {
		return nil, fmt.Errorf("read evaluations: %w", err)
	}
	out := make([]Evaluation, 0, len(evs))
	for _, ev := range evs {
		mine, err := scoresOf(tx, applicationID, ev.UserID)
		if err != nil {
			return nil, err
		}
		e := Evaluation{ApplicationID: applicationID, Evaluator: ev}
		for _, r := range reqs {
			if sc, ok := mine[r.ID]; ok {
				sc.SavedAt = sc.SavedAt.UTC()
				e.Scores = append(e.Scores, sc)
			}
		}
		for _, d := range done {
			if d.EvaluatorUserID == ev.UserID {
				at := d.SubmittedAt.UTC()
				e.SubmittedAt = &at
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// lotRequirements is a lot's requirements in their order.
func lotRequirements(tx *gorm.DB, lotID string) ([]LotRequirement, error) {
	var out []LotRequirement
	if err := tx.Where("lot_id = ?", lotID).Order("position").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read lot requirements: %w", err)
	}
	return out, nil
}
