package competition

import (
	"fmt"
	"time"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of the timeline's errors.
const (
	FieldEOIDeadline        = "eoi_deadline"
	FieldQuestionDeadline   = "question_deadline"
	FieldSubmissionDeadline = "submission_deadline"
	FieldEvaluationEnd      = "evaluation_end"
	FieldPlannedAward       = "planned_award"
)

// Timeline is a competition's dates, as a form submits them. Zero times
// mean the field was left empty.
type Timeline struct {
	// EOIDeadline is when expressions of interest close; only with an
	// expression-of-interest step.
	EOIDeadline        time.Time
	QuestionDeadline   time.Time
	SubmissionDeadline time.Time
	EvaluationEnd      time.Time
	PlannedAward       time.Time
}

func moment(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (t *Timeline) normalise() {
	t.EOIDeadline = moment(t.EOIDeadline)
	t.QuestionDeadline = moment(t.QuestionDeadline)
	t.SubmissionDeadline = moment(t.SubmissionDeadline)
	t.EvaluationEnd = moment(t.EvaluationEnd)
	t.PlannedAward = moment(t.PlannedAward)
}

// timelineOf is the competition's stored timeline.
func timelineOf(c *Competition) Timeline {
	t := Timeline{QuestionDeadline: c.QuestionDeadline, SubmissionDeadline: c.SubmissionDeadline, EvaluationEnd: c.EvaluationEnd, PlannedAward: c.PlannedAward}
	if c.EOIDeadline != nil {
		t.EOIDeadline = *c.EOIDeadline
	}
	return t
}

// checkOrder reports every date left empty and every pair in the wrong
// order: expressions of interest and questions close before the submission
// deadline, evaluation ends after it and the award is planned no earlier
// than the end of evaluation.
func checkOrder(v *validate.Errors, t Timeline, eoi bool) {
	if eoi && t.EOIDeadline.IsZero() {
		v.Add(FieldEOIDeadline, "Enter the deadline for expressions of interest")
	}
	if t.QuestionDeadline.IsZero() {
		v.Add(FieldQuestionDeadline, "Enter the deadline for clarification questions")
	}
	if t.SubmissionDeadline.IsZero() {
		v.Add(FieldSubmissionDeadline, "Enter the submission deadline")
	}
	if t.EvaluationEnd.IsZero() {
		v.Add(FieldEvaluationEnd, "Enter when evaluation ends")
	}
	if t.PlannedAward.IsZero() {
		v.Add(FieldPlannedAward, "Enter the planned award date")
	}
	sub := t.SubmissionDeadline
	if !sub.IsZero() {
		if eoi && !t.EOIDeadline.IsZero() && !t.EOIDeadline.Before(sub) {
			v.Add(FieldEOIDeadline, "The deadline for expressions of interest must be before the submission deadline")
		}
		if !t.QuestionDeadline.IsZero() && !t.QuestionDeadline.Before(sub) {
			v.Add(FieldQuestionDeadline, "The question deadline must be before the submission deadline")
		}
		if !t.EvaluationEnd.IsZero() && !t.EvaluationEnd.After(sub) {
			v.Add(FieldEvaluationEnd, "Evaluation must end after the submission deadline")
		}
	}
	if !t.EvaluationEnd.IsZero() && !t.PlannedAward.IsZero() && t.PlannedAward.Before(t.EvaluationEnd) {
		v.Add(FieldPlannedAward, "The planned award date must be on or after the end of evaluation")
	}
}

// checkFuture reports a supplier-facing deadline that is not after now.
func checkFuture(v *validate.Errors, field, what string, t, now time.Time) {
	if !t.IsZero() && !t.After(now) {
		v.Add(field, fmt.Sprintf("The %s must be in the future", what))
	}
}

// checkSupplierDeadlines applies checkFuture to every deadline suppliers
// work to.
func checkSupplierDeadlines(v *validate.Errors, t Timeline, eoi bool, now time.Time) {
	if eoi {
		checkFuture(v, FieldEOIDeadline, "deadline for expressions of interest", t.EOIDeadline, now)
	}
	checkFuture(v, FieldQuestionDeadline, "question deadline", t.QuestionDeadline, now)
	checkFuture(v, FieldSubmissionDeadline, "submission deadline", t.SubmissionDeadline, now)
}

// EarliestSubmissionDeadline is the earliest submission deadline allowed
// for a competition under regime published at publishedAt: the configured
// minimum period later.
func (s *Service) EarliestSubmissionDeadline(regime string, publishedAt time.Time) time.Time {
	return publishedAt.Add(s.minimumPeriod(regime))
}

// checkMinimum reports a submission deadline less than the regime's minimum
// period after publication, naming the earliest moment allowed in UK time.
func (s *Service) checkMinimum(v *validate.Errors, regime string, deadline, publishedAt time.Time) {
	if deadline.IsZero() {
		return
	}
	earliest := s.EarliestSubmissionDeadline(regime, publishedAt)
	if deadline.Before(earliest) {
		v.Add(FieldSubmissionDeadline, fmt.Sprintf("The submission deadline must be at least %s after publication under the %s; the earliest allowed is %s (UK time)",
			period(s.minimumPeriod(regime)), framework.RegimeLabel(regime), uktime.Moment(earliest)))
	}
}

// period writes a duration the way people read it: "10 days", "36 hours".
func period(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "1 day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}
