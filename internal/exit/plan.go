package exit

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of the exit plan form. A milestone's dates are named
// PlanField(kind) and ActualField(kind).
const (
	FieldPath        = "path"
	FieldCompetition = "competition"
	FieldNotes       = "notes"
)

// PlanField and ActualField name a milestone's date fields.
func PlanField(kind string) string   { return kind + "_plan" }
func ActualField(kind string) string { return kind + "_actual" }

// MaxNotes is the longest an exit plan's notes may be.
const MaxNotes = 5000

// PlanInput is an exit plan as a trust lead gives it. Every field is
// written as given; Version is the version seen.
type PlanInput struct {
	Path string
	// CompetitionID links the portal's mini-competition ("" for none); the
	// deployment's trust must be one of its buyers.
	CompetitionID string
	Milestones
	Notes   string
	Version int
}

func (in *PlanInput) normalise() {
	in.Path = strings.TrimSpace(in.Path)
	in.CompetitionID = strings.TrimSpace(in.CompetitionID)
	in.Notes = strings.TrimSpace(in.Notes)
	for _, k := range MilestoneKinds {
		plan, actual, _ := in.Dates(k)
		for _, t := range []**time.Time{plan, actual} {
			if *t != nil {
				d := Day(**t)
				*t = &d
			}
		}
	}
}

// checkMilestones finds milestones out of order (a cut-over before the
// award), planned or actual, and actual dates still to come.
func checkMilestones(m Milestones, today time.Time, add func(field, message string)) {
	for _, actual := range []bool{false, true} {
		var prevKind string
		var prev *time.Time
		for _, k := range MilestoneKinds {
			plan, act, _ := m.Dates(k)
			t, field, word := *plan, PlanField(k), "planned"
			if actual {
				t, field, word = *act, ActualField(k), "actual"
			}
			if t == nil {
				continue
			}
			if actual && t.After(today) {
				add(field, fmt.Sprintf("The actual date of the %s cannot be in the future: enter today (%s) or earlier, or give it as planned", strings.ToLower(MilestoneLabel(k)), uktime.Date(today)))
				continue
			}
			if prev != nil && t.Before(*prev) {
				add(field, fmt.Sprintf("The %s %s date (%s) cannot be before the %s %s date (%s)",
					word, strings.ToLower(MilestoneLabel(k)), uktime.Date(*t), word, strings.ToLower(MilestoneLabel(prevKind)), uktime.Date(*prev)))
				continue
			}
			prev, prevKind = t, k
		}
	}
}

// check is what can be said of the input alone.
func (in PlanInput) check(today time.Time, add func(field, message string)) {
	if in.Path != PathNone && PathLabel(in.Path) == in.Path {
		add(FieldPath, "Select the exit path the trust has chosen")
	}
	if in.Path == PathCallOff && in.CompetitionID == "" && in.AwardActual != nil {
		add(FieldCompetition, "Select the mini-competition the contract was called off by")
	}
	if utf8.RuneCountInString(in.Notes) > MaxNotes {
		add(FieldNotes, "The notes must be 5,000 characters or fewer")
	}
	checkMilestones(in.Milestones, today, add)
}

// CheckPlan finds what is wrong with a plan on its own, without saving
// anything: for a form that has found problems of its own (a date that is
// not a date) to show every problem at once.
func (s *Service) CheckPlan(in PlanInput) *validate.Errors {
	in.normalise()
	var v validate.Errors
	in.check(Day(s.Clock.Now()), v.Add)
	return &v
}

// UpdatePlan records a deployment's exit plan: the path, the linked
// competition, the milestones' planned and actual dates and notes. Only a
// trust lead of the deployment's trust may. Milestones must be in order
// and actual dates must have happened; a linked competition must have the
// trust among its buyers. A stale version is store.ErrConflict; nothing is
// saved in part. The audit entry records what changed.
func (s *Service) UpdatePlan(ctx context.Context, actor audit.Actor, id string, in PlanInput) error {
	const action = "deployment.plan.update"
	in.normalise()
	today := Day(s.Clock.Now())
	var v validate.Errors
	in.check(today, v.Add)
	if err := v.Err(); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		d, err := s.lockAsLead(tx, actor, id)
		if err != nil {
			return err
		}
		if d.Version != in.Version {
			return store.ErrConflict
		}
		if in.CompetitionID != "" {
			var n int64
			if err := tx.Table("competition_buyers").Where("competition_id = ? AND organisation_id = ?", in.CompetitionID, d.OrganisationID).Count(&n).Error; err != nil {
				return fmt.Errorf("check competition: %w", err)
			}
			if n == 0 {
				v.Add(FieldCompetition, "Select a mini-competition in which the trust is a buyer")
				return v.Err()
			}
		}
		changes := map[string]any{"path": in.Path, "competition_id": optional(in.CompetitionID), "notes": in.Notes}
		detail := map[string]any{}
		note := func(field string, old, new any) {
			if fmt.Sprint(old) != fmt.Sprint(new) {
				detail[field] = map[string]any{"old": old, "new": new}
			}
		}
		note("path", d.Path, in.Path)
		note("competition", deref(d.CompetitionID), in.CompetitionID)
		note("notes", d.Notes != "", in.Notes != "")
		for _, k := range MilestoneKinds {
			oldPlan, oldActual, _ := d.Dates(k)
			plan, actual, _ := in.Dates(k)
			changes[PlanField(k)], changes[ActualField(k)] = *plan, *actual
			note(PlanField(k), dateValue(*oldPlan), dateValue(*plan))
			note(ActualField(k), dateValue(*oldActual), dateValue(*actual))
		}
		return s.saveDeployment(tx, actor, d, in.Version, action, changes, detail)
	})
	return s.refused(ctx, actor, action, "deployment", id, err)
}

// lockAsLead marks the deployment changed (so concurrent changes queue),
// reads it, and checks the actor is a trust lead of its trust, taken from
// the stored deployment.
func (s *Service) lockAsLead(tx *gorm.DB, actor audit.Actor, id string) (*Deployment, error) {
	res := tx.Model(&Deployment{}).Where("id = ?", id).Update("updated_at", s.now())
	if res.Error != nil {
		return nil, fmt.Errorf("lock deployment: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("deployment: %w", store.ErrNotFound)
	}
	d, err := deploymentOf(tx, id)
	if err != nil {
		return nil, err
	}
	ok, err := competition.HasRole(tx, actor.UserID, d.OrganisationID, authz.TrustLead)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotTrustLead
	}
	return d, nil
}

// saveDeployment writes changes at version, moving it on, with the audit
// entry; a stale version is store.ErrConflict.
func (s *Service) saveDeployment(tx *gorm.DB, actor audit.Actor, d *Deployment, version int, action string, changes, detail map[string]any) error {
	changes["version"] = version + 1
	changes["updated_at"] = s.now()
	res := tx.Model(&Deployment{}).Where("id = ? AND version = ?", d.ID, version).Updates(changes)
	if res.Error != nil {
		return fmt.Errorf("update deployment: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return store.ErrConflict
	}
	detail["trust"] = d.OrganisationID
	detail["deployment"] = d.Name()
	return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "deployment", ObjectID: d.ID, Detail: detail})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
