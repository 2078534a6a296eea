package competition

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of the requirements' errors: FieldRequirements for the
// requirements as a whole (which to copy, none at all),
// FieldRequirementWeights for their weights' total, the others for the
// fields of one requirement's form.
const (
	FieldRequirements            = "requirements"
	FieldRequirementWeights      = "requirement_weights"
	FieldRequirementReference    = "reference"
	FieldRequirementText         = "text"
	FieldRequirementPriority     = "priority"
	FieldRequirementWeight       = "weight"
	FieldRequirementResponseType = "response_type"
	FieldRequirementGuidance     = "guidance"
	FieldRequirementSection      = "section"
)

// FieldDescriptor is the field name of the descriptor of a mark (0 to 4)
// of a scored requirement.
func FieldDescriptor(mark int) string { return "descriptor" + strconv.Itoa(mark) }

// FieldForRequirement names a field of one requirement among several on a
// page, such as FieldForRequirement(id, FieldRequirementWeight) when a
// change moves weight between requirements.
func FieldForRequirement(requirementID, field string) string { return field + "-" + requirementID }

// Limits on what one requirement may hold, in characters; the catalogue's.
const (
	MaxRequirementText = 5000
	MaxGuidance        = 5000
	MaxDescriptor      = 1000
	MaxSection         = 200
)

// requirementReference is the catalogue's rule for requirement references:
// capital letters and digits in hyphen-joined parts, starting with a letter
// (EPR-MED-012), so references read the same in the lot and here.
var requirementReference = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$`)

// RequirementInput is what a form submits to add a requirement of the
// competition's own. Priority and ResponseType are as typed ("Must",
// "Scored (0-4)") or the stored names; descriptors count only for a scored
// requirement.
type RequirementInput struct {
	Reference    string
	Text         string
	Priority     string
	Weight       int
	ResponseType string
	Descriptors  [catalogue.Marks]string
	Guidance     string
	SectionTitle string
}

func (in *RequirementInput) parse(v *validate.Errors) Requirement {
	r := Requirement{
		Reference: strings.ToUpper(strings.TrimSpace(in.Reference)), Text: strings.TrimSpace(in.Text), Weight: in.Weight,
		Guidance: strings.TrimSpace(in.Guidance), SectionTitle: strings.Join(strings.Fields(in.SectionTitle), " "),
	}
	switch {
	case r.Reference == "":
		v.Add(FieldRequirementReference, "Enter the reference, like EPR-MED-012")
	case len(r.Reference) > 40:
		v.Add(FieldRequirementReference, "Reference must be 40 characters or fewer")
	case !requirementReference.MatchString(r.Reference):
		v.Add(FieldRequirementReference, fmt.Sprintf("Reference %q must be capital letters and numbers in parts joined by hyphens, like EPR-MED-012", r.Reference))
	}
	checkText(v, FieldRequirementText, r.Text)
	if strings.TrimSpace(in.Priority) == "" {
		v.Add(FieldRequirementPriority, "Enter the priority: Must, Should, Could or Won't")
	} else if p, ok := catalogue.ParsePriority(in.Priority); ok {
		r.Priority = p
	} else {
		v.Add(FieldRequirementPriority, fmt.Sprintf("Priority %q is not one of Must, Should, Could or Won't", strings.TrimSpace(in.Priority)))
	}
	checkWeight(v, FieldRequirementWeight, in.Weight)
	if strings.TrimSpace(in.ResponseType) == "" {
		v.Add(FieldRequirementResponseType, "Enter the response type: Pass/fail, Scored (0-4), Numeric or Price schedule")
	} else if t, ok := catalogue.ParseResponseType(in.ResponseType); ok {
		r.ResponseType = t
	} else {
		v.Add(FieldRequirementResponseType, fmt.Sprintf("Response type %q is not one of Pass/fail, Scored (0-4), Numeric or Price schedule", strings.TrimSpace(in.ResponseType)))
	}
	if r.ResponseType == catalogue.Scored {
		r.Descriptors = make(catalogue.Descriptors, catalogue.Marks)
		for mark, d := range in.Descriptors {
			d = strings.TrimSpace(d)
			r.Descriptors[mark] = d
			switch {
			case d == "":
				v.Add(FieldDescriptor(mark), fmt.Sprintf("Enter what an answer must show to be given mark %d", mark))
			case utf8.RuneCountInString(d) > MaxDescriptor:
				v.Add(FieldDescriptor(mark), fmt.Sprintf("The descriptor of mark %d must be 1,000 characters or fewer", mark))
			}
		}
	}
	if utf8.RuneCountInString(r.Guidance) > MaxGuidance {
		v.Add(FieldRequirementGuidance, "Guidance must be 5,000 characters or fewer")
	}
	if utf8.RuneCountInString(r.SectionTitle) > MaxSection {
		v.Add(FieldRequirementSection, "The section's title must be 200 characters or fewer")
	}
	return r
}

func checkText(v *validate.Errors, field, text string) {
	if v.Required(field, text, "Enter the requirement") && utf8.RuneCountInString(text) > MaxRequirementText {
		v.Add(field, "Requirement must be 5,000 characters or fewer")
	}
}

func checkWeight(v *validate.Errors, field string, w int) {
	if w < 0 || w > 100 {
		v.Add(field, fmt.Sprintf("The weight must be a whole number from 0 to 100, not %d", w))
	}
}

// RequirementEdit refines one requirement: its wording and its weight. The
// reference and response type stay as they are, so a copied requirement
// can still be traced to the lot's; to change them, remove it and add
// another.
type RequirementEdit struct {
	RequirementID string
	Text          string
	Weight        int
	Version       int // the requirement's version the editor saw
}

// nextPosition is the position after the competition's last requirement.
func nextPosition(tx *gorm.DB, competitionID string) (int, error) {
	var last int
	if err := tx.Model(&Requirement{}).Where("competition_id = ?", competitionID).Select("COALESCE(MAX(position), 0)").Scan(&last).Error; err != nil {
		return 0, fmt.Errorf("position requirements: %w", err)
	}
	return last + 1, nil
}

// referencesOf lists the references the competition's requirements use.
func referencesOf(tx *gorm.DB, competitionID string) ([]string, error) {
	var refs []string
	if err := tx.Model(&Requirement{}).Where("competition_id = ?", competitionID).Pluck("reference", &refs).Error; err != nil {
		return nil, fmt.Errorf("read references: %w", err)
	}
	return refs, nil
}

// CopyLotRequirements copies requirements of the competition's lot into the
// draft competition, keeping a link to each lot requirement; an empty
// references list copies them all. References the lot does not hold, and
// requirements the competition already has (by reference), are refused.
// The copies are the competition's to refine from then on.
func (s *Service) CopyLotRequirements(ctx context.Context, actor audit.Actor, competitionID string, references []string) ([]Requirement, error) {
	var out []Requirement
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockDraft(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var lotReqs []framework.LotRequirement
		if err := tx.Where("lot_id = ?", c.LotID).Order("position").Find(&lotReqs).Error; err != nil {
			return fmt.Errorf("read lot requirements: %w", err)
		}
		var v validate.Errors
		if len(references) > 0 {
			want := map[string]bool{}
			for _, r := range references {
				if r = strings.ToUpper(strings.TrimSpace(r)); r != "" {
					want[r] = true
				}
			}
			picked := lotReqs[:0:0]
			for _, r := range lotReqs {
				if want[r.Reference] {
					picked = append(picked, r)
					delete(want, r.Reference)
				}
			}
			if len(want) > 0 {
				missing := make([]string, 0, len(want))
				for r := range want {
					missing = append(missing, r)
				}
				slices.Sort(missing)
				v.Add(FieldRequirements, fmt.Sprintf("The lot has no requirement %s", strings.Join(missing, ", ")))
				return v.Err()
			}
			lotReqs = picked
		}
		if len(lotReqs) == 0 {
			v.Add(FieldRequirements, "Choose at least one of the lot's requirements to copy")
			return v.Err()
		}
		have, err := referencesOf(tx, c.ID)
		if err != nil {
			return err
		}
		var dup []string
		for _, r := range lotReqs {
			if slices.Contains(have, r.Reference) {
				dup = append(dup, r.Reference)
			}
		}
		if len(dup) > 0 {
			v.Add(FieldRequirements, fmt.Sprintf("The competition already has %s", strings.Join(dup, ", ")))
			return v.Err()
		}
		pos, err := nextPosition(tx, c.ID)
		if err != nil {
			return err
		}
		refs := make([]string, 0, len(lotReqs))
		for i, r := range lotReqs {
			from := r.ID
			out = append(out, Requirement{
				ID: newID(), CompetitionID: c.ID, LotRequirementID: &from, Reference: r.Reference, Text: r.Text, Priority: r.Priority,
				Weight: r.Weight, ResponseType: r.ResponseType, Descriptors: slices.Clone(r.Descriptors), Guidance: r.Guidance,
				SectionTitle: r.SectionTitle, Position: pos + i, Version: 1,
			})
			refs = append(refs, r.Reference)
		}
		if err := tx.Create(&out).Error; err != nil {
			return fmt.Errorf("copy requirements: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.requirements.copy", c.ID, map[string]any{"lot_id": c.LotID, "references": refs})
	})
	if err != nil {
		return nil, s.refused(ctx, actor, "competition.requirements.copy", competitionID, err)
	}
	return out, nil
}

// AddRequirement adds a requirement of the competition's own to a draft
// competition, after the others. Its reference must not be used by another
// of the competition's requirements.
func (s *Service) AddRequirement(ctx context.Context, actor audit.Actor, competitionID string, in RequirementInput) (*Requirement, error) {
	var v validate.Errors
	r := in.parse(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockDraft(tx, actor, competitionID)
		if err != nil {
			return err
		}
		have, err := referencesOf(tx, c.ID)
		if err != nil {
			return err
		}
		if slices.Contains(have, r.Reference) {
			v.Add(FieldRequirementReference, fmt.Sprintf("The competition already has a requirement %s", r.Reference))
			return v.Err()
		}
		pos, err := nextPosition(tx, c.ID)
		if err != nil {
			return err
		}
		r.ID, r.CompetitionID, r.Position, r.Version = newID(), c.ID, pos, 1
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("add requirement: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.requirement.add", c.ID, map[string]any{"requirement_id": r.ID, "reference": r.Reference,
			"response_type": r.ResponseType, "weight": r.Weight})
	})
	if err != nil {
		return nil, s.refused(ctx, actor, "competition.requirement.add", competitionID, err)
	}
	return &r, nil
}

// requirementOf loads a requirement, which names its competition.
func requirementOf(tx *gorm.DB, requirementID string) (*Requirement, error) {
	var r Requirement
	if err := tx.Where("id = ?", requirementID).First(&r).Error; err != nil {
		return nil, notFound(err, "requirement")
	}
	return &r, nil
}

// saveEdit stores one refined requirement, checking its version.
func saveEdit(tx *gorm.DB, e RequirementEdit) error {
	res := tx.Model(&Requirement{}).Where("id = ? AND version = ?", e.RequirementID, e.Version).
		Updates(map[string]any{"text": e.Text, "weight": e.Weight, "version": e.Version + 1})
	if res.Error != nil {
		return fmt.Errorf("update requirement: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return store.ErrConflict
	}
	return nil
}

// UpdateRequirement refines a requirement of a draft competition: its
// wording and weight. e.Version must be the requirement's version the
// editor saw, or store.ErrConflict is returned. After publication a change
// goes through ChangeRequirement instead, with a reason.
func (s *Service) UpdateRequirement(ctx context.Context, actor audit.Actor, e RequirementEdit) error {
	e.Text = strings.TrimSpace(e.Text)
	var v validate.Errors
	checkText(&v, FieldRequirementText, e.Text)
	checkWeight(&v, FieldRequirementWeight, e.Weight)
	if err := v.Err(); err != nil {
		return err
	}
	competitionID := ""
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		r, err := requirementOf(tx, e.RequirementID)
		if err != nil {
			return err
		}
		competitionID = r.CompetitionID
		if _, err := s.lockDraft(tx, actor, r.CompetitionID); err != nil {
			return err
		}
		if err := saveEdit(tx, e); err != nil {
			return err
		}
		return s.appendAudit(tx, actor, "competition.requirement.update", r.CompetitionID, map[string]any{
			"requirement_id": r.ID, "reference": r.Reference,
			"old": map[string]any{"text": r.Text, "weight": r.Weight}, "new": map[string]any{"text": e.Text, "weight": e.Weight}})
	})
	return s.refused(ctx, actor, "competition.requirement.update", competitionID, err)
}

// RemoveRequirement removes a requirement from a draft competition.
func (s *Service) RemoveRequirement(ctx context.Context, actor audit.Actor, requirementID string) error {
	competitionID := ""
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		r, err := requirementOf(tx, requirementID)
		if err != nil {
			return err
		}
		competitionID = r.CompetitionID
		if _, err := s.lockDraft(tx, actor, r.CompetitionID); err != nil {
			return err
		}
		if err := tx.Where("id = ?", r.ID).Delete(&Requirement{}).Error; err != nil {
			return fmt.Errorf("remove requirement: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.requirement.remove", r.CompetitionID, map[string]any{"requirement_id": r.ID, "reference": r.Reference})
	})
	if errors.Is(err, store.ErrNotFound) {
		return err
	}
	return s.refused(ctx, actor, "competition.requirement.remove", competitionID, err)
}

// Requirements lists the competition's requirements in order.
func (s *Service) Requirements(ctx context.Context, competitionID string) ([]Requirement, error) {
	return requirements(s.DB.WithContext(ctx), competitionID)
}

func requirements(db *gorm.DB, competitionID string) ([]Requirement, error) {
	var out []Requirement
	if err := db.Where("competition_id = ?", competitionID).Order("position").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list requirements: %w", err)
	}
	return out, nil
}

// weightTotal is the total weight of the requirements that count towards
// the quality score.
func weightTotal(reqs []Requirement) int {
	total := 0
	for _, r := range reqs {
		if r.Weighted() {
			total += r.Weight
		}
	}
	return total
}

// checkWeightTotal reports requirement weights that do not add up to 100
// when quality counts at all: the weights say how the quality score is
// made up, so together they must be all of it.
func checkWeightTotal(v *validate.Errors, qualityWeight int, reqs []Requirement) {
	if qualityWeight == 0 || len(reqs) == 0 {
		return
	}
	if total := weightTotal(reqs); total != 100 {
		v.Add(FieldRequirementWeights, fmt.Sprintf("The weights of the scored requirements add up to %d; they must add up to 100 (pass/fail requirements are gates and carry no weight)", total))
	}
}
