package competition

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of CompetitionInput's errors and of problems with the
// competition as a whole.
const (
	FieldReference     = "reference"
	FieldTitle         = "title"
	FieldDescription   = "description"
	FieldLot           = "lot"
	FieldFramework     = "framework"
	FieldLead          = "lead"
	FieldQualityWeight = "quality_weight"
	FieldPriceWeight   = "price_weight"
	FieldWeights       = "weights"
	FieldState         = "state"
	FieldReason        = "reason"
)

// Limits on what people type, in characters.
const (
	MaxTitle       = 200
	MaxDescription = 10000
	MaxReason      = 5000
)

// CompetitionInput is what a form submits to create or edit a draft
// competition. The lot and the lead trust are chosen when it is created and
// cannot change: the requirements come from the lot and the buyers answer
// to the lead.
type CompetitionInput struct {
	Reference            string
	Title                string
	Description          string
	QualityWeight        int
	PriceWeight          int
	ShowBidCount         bool
	ExpressionOfInterest bool
	Timeline             Timeline
	Version              int // the version the editor saw; 0 when creating
}

// referencePattern is the framework references' rule: capital letters and
// digits in parts joined by hyphens or slashes (SWL-EPR-2027/01).
var referencePattern = regexp.MustCompile(`^[A-Z0-9]+(?:[-/][A-Z0-9]+)*$`)

func (in *CompetitionInput) normalise() {
	in.Reference = strings.ToUpper(strings.TrimSpace(in.Reference))
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Description = strings.TrimSpace(in.Description)
	in.Timeline.normalise()
	if !in.ExpressionOfInterest {
		// A form keeps the hidden field when the step is switched off.
		in.Timeline.EOIDeadline = time.Time{}
	}
}

// check applies every rule that needs no database, reporting all problems.
// The minimum period is checked against now, the earliest the competition
// could be published; Publish checks it again.
func (s *Service) check(in *CompetitionInput, regime string) *validate.Errors {
	now := s.now()
	var v validate.Errors
	if v.Required(FieldReference, in.Reference, "Enter a reference, such as SWL-EPR-2027-01") {
		if len(in.Reference) < 3 || len(in.Reference) > 40 || !referencePattern.MatchString(in.Reference) {
			v.Add(FieldReference, "Reference must be 3 to 40 letters, digits and hyphens, such as SWL-EPR-2027-01")
		}
	}
	if v.Required(FieldTitle, in.Title, "Enter a title") && utf8.RuneCountInString(in.Title) > MaxTitle {
		v.Add(FieldTitle, "Title must be 200 characters or fewer")
	}
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		v.Add(FieldDescription, "Description must be 10,000 characters or fewer")
	}
	checkWeights(&v, in.QualityWeight, in.PriceWeight)
	checkOrder(&v, in.Timeline, in.ExpressionOfInterest)
	checkSupplierDeadlines(&v, in.Timeline, in.ExpressionOfInterest, now)
	if !v.Has(FieldSubmissionDeadline) {
		s.checkMinimum(&v, regime, in.Timeline.SubmissionDeadline, now)
	}
	return &v
}

// checkWeights reports a quality or price weight outside 0 to 100, or a
// pair that does not add up to 100.
func checkWeights(v *validate.Errors, quality, price int) {
	ok := true
	if quality < 0 || quality > 100 {
		v.Add(FieldQualityWeight, fmt.Sprintf("The quality weight must be from 0 to 100, not %d", quality))
		ok = false
	}
	if price < 0 || price > 100 {
		v.Add(FieldPriceWeight, fmt.Sprintf("The price weight must be from 0 to 100, not %d", price))
		ok = false
	}
	if ok && quality+price != 100 {
		v.Add(FieldWeights, fmt.Sprintf("The quality and price weights add up to %d; they must add up to 100", quality+price))
	}
}

func (in *CompetitionInput) apply(c *Competition) {
	c.Reference, c.Title, c.Description = in.Reference, in.Title, in.Description
	c.QualityWeight, c.PriceWeight = in.QualityWeight, in.PriceWeight
	c.ShowBidCount, c.ExpressionOfInterest = in.ShowBidCount, in.ExpressionOfInterest
	t := in.Timeline
	c.EOIDeadline = nil
	if in.ExpressionOfInterest {
		eoi := t.EOIDeadline
		c.EOIDeadline = &eoi
	}
	c.QuestionDeadline, c.SubmissionDeadline, c.EvaluationEnd, c.PlannedAward = t.QuestionDeadline, t.SubmissionDeadline, t.EvaluationEnd, t.PlannedAward
}

func referenceTaken(tx *gorm.DB, reference, selfID string) (bool, error) {
	var n int64
	q := tx.Model(&Competition{}).Where("reference = ?", reference)
	if selfID != "" {
		q = q.Where("id <> ?", selfID)
	}
	if err := q.Count(&n).Error; err != nil {
		return false, fmt.Errorf("check reference: %w", err)
	}
	return n > 0, nil
}

func referenceError(reference string) error {
	var v validate.Errors
	v.Add(FieldReference, fmt.Sprintf("Reference %s is already used by another competition", reference))
	return v.Err()
}

// lotLabel names a lot in messages: "lot 1 (Acute EPR)".
func lotLabel(l framework.Lot) string { return fmt.Sprintf("lot %d (%s)", l.Number, l.Title) }

// checkCallOff reports why the lot cannot be called off by further
// competition at now: the framework is not live, or the lot allows direct
// awards only.
func checkCallOff(v *validate.Errors, f *framework.Framework, lot *framework.Lot, now time.Time) {
	if st := f.State(now); st != framework.StateLive {
		v.Add(FieldFramework, fmt.Sprintf("Framework %s is %s; suppliers can be called off only while it is live", f.Reference, strings.ToLower(framework.StateLabel(st))))
	}
	if lot.CallOff == framework.CallOffDirect {
		v.Add(FieldLot, fmt.Sprintf("Lot %d (%s) allows direct awards only, not further competitions", lot.Number, lot.Title))
	}
}

// CreateCompetition creates a draft competition under a framework lot, run
// by leadOrgID, a trust that may buy under the framework. The actor must be
// a trust lead of that trust. The framework must be live and the lot must
// allow further competition. The lead trust becomes the first buying trust.
func (s *Service) CreateCompetition(ctx context.Context, actor audit.Actor, lotID, leadOrgID string, in CompetitionInput) (*Competition, error) {
	db := s.DB.WithContext(ctx)
	var lot framework.Lot
	if err := db.Where("id = ?", lotID).First(&lot).Error; err != nil {
		return nil, notFound(err, "lot")
	}
	var f framework.Framework
	if err := db.Where("id = ?", lot.FrameworkID).First(&f).Error; err != nil {
		return nil, notFound(err, "framework")
	}
	if err := requireLead(db, actor, leadOrgID); err != nil {
		return nil, s.refusedOn(ctx, actor, "competition.create", "framework_lot", lotID, err)
	}
	in.normalise()
	v := s.check(&in, f.Regime)
	now := s.now()
	checkCallOff(v, &f, &lot, now)
	ok, err := s.eligible(ctx, f.ID, leadOrgID)
	if err != nil {
		return nil, err
	}
	if !ok[leadOrgID] {
		name, err := orgName(db, leadOrgID)
		if err != nil {
			return nil, err
		}
		v.Add(FieldLead, fmt.Sprintf("%s is not an eligible buyer under framework %s, so it cannot run a competition under it", name, f.Reference))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c := &Competition{
		ID: newID(), FrameworkID: f.ID, LotID: lot.ID, LeadOrgID: leadOrgID, Regime: f.Regime, Status: StatusDraft,
		CreatedBy: actor.UserID, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	in.apply(c)
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if taken, err := referenceTaken(tx, c.Reference, ""); err != nil {
			return err
		} else if taken {
			return referenceError(c.Reference)
		}
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("create competition: %w", err)
		}
		b := Buyer{ID: newID(), CompetitionID: c.ID, OrganisationID: leadOrgID, Version: 1, AddedAt: now}
		if err := tx.Omit("Organisation").Create(&b).Error; err != nil {
			return fmt.Errorf("add lead buyer: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.create", c.ID, map[string]any{
			"reference": c.Reference, "title": c.Title, "framework_id": f.ID, "lot_id": lot.ID, "lead_org_id": leadOrgID,
			"regime": c.Regime, "quality_weight": c.QualityWeight, "price_weight": c.PriceWeight,
		})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateCompetition changes a draft competition's details, weights and
// timeline. in.Version must be the version the editor saw, or
// store.ErrConflict is returned.
func (s *Service) UpdateCompetition(ctx context.Context, actor audit.Actor, id string, in CompetitionInput) error {
	c, err := s.Competition(ctx, id)
	if err != nil {
		return err
	}
	in.normalise()
	if err := s.check(&in, c.Regime).Err(); err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockDraft(tx, actor, id)
		if err != nil {
			return err
		}
		if c.Version != in.Version {
			return store.ErrConflict
		}
		if taken, err := referenceTaken(tx, in.Reference, id); err != nil {
			return err
		} else if taken {
			return referenceError(in.Reference)
		}
		in.apply(c)
		res := tx.Model(&Competition{}).Where("id = ? AND version = ?", id, in.Version).Updates(map[string]any{
			"reference": c.Reference, "title": c.Title, "description": c.Description,
			"quality_weight": c.QualityWeight, "price_weight": c.PriceWeight,
			"show_bid_count": c.ShowBidCount, "expression_of_interest": c.ExpressionOfInterest, "eoi_deadline": c.EOIDeadline,
			"question_deadline": c.QuestionDeadline, "submission_deadline": c.SubmissionDeadline,
			"evaluation_end": c.EvaluationEnd, "planned_award": c.PlannedAward,
			"version": in.Version + 1, "updated_at": s.now(),
		})
		if res.Error != nil {
			return fmt.Errorf("update competition: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		return s.appendAudit(tx, actor, "competition.update", id, map[string]any{"reference": c.Reference, "title": c.Title})
	})
	return s.refused(ctx, actor, "competition.update", id, err)
}
