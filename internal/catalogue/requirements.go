package catalogue

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// referencePattern is capital letters and digits in hyphen-joined parts,
// starting with a letter: EPR-MED-012.
var referencePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$`)

// Limits on what one requirement may hold.
const (
	maxReference  = 40
	maxText       = 5000
	maxGuidance   = 5000
	maxDescriptor = 1000
)

// Field names used in validation errors, matching the form's fields.
const (
	FieldSection      = "sectionId"
	FieldReference    = "reference"
	FieldText         = "text"
	FieldPriority     = "priority"
	FieldWeight       = "weight"
	FieldResponseType = "responseType"
	FieldGuidance     = "guidance"
)

// FieldDescriptor is the field name of the descriptor of a mark (0 to 4).
func FieldDescriptor(mark int) string { return "descriptor" + strconv.Itoa(mark) }

// RequirementInput is what a form submits to add or edit a requirement.
// Everything is text as typed, so the rules (and their messages) are the
// same for the form and for spreadsheet imports.
type RequirementInput struct {
	ID           string // empty to add a requirement
	SectionID    string
	Reference    string
	Text         string
	Priority     string // "Must", "must have", "M", "Won't"…
	Weight       string // a whole number from 0 to 100
	ResponseType string // "Pass/fail", "Scored (0-4)", "Numeric", "Price schedule" or the stored names
	Descriptors  [Marks]string
	Guidance     string
	Version      int // the version the editor saw; 0 when adding
}

// parse checks everything about in that does not need the database and
// returns the requirement it describes (without section or identity).
// Descriptors are kept only for scored requirements: a form keeps hidden
// descriptor fields when the response type changes, and they mean nothing
// for the other types.
func (in *RequirementInput) parse(v *validate.Errors) Requirement {
	var r Requirement
	r.Reference = strings.ToUpper(strings.TrimSpace(in.Reference))
	switch {
	case r.Reference == "":
		v.Add(FieldReference, "Enter the reference, like EPR-MED-012")
	case len(r.Reference) > maxReference:
		v.Add(FieldReference, "Reference must be 40 characters or fewer")
	case !referencePattern.MatchString(r.Reference):
		v.Add(FieldReference, fmt.Sprintf("Reference %q must be capital letters and numbers in parts joined by hyphens, like EPR-MED-012", r.Reference))
	}

	r.Text = strings.TrimSpace(in.Text)
	if v.Required(FieldText, r.Text, "Enter the requirement") && len(r.Text) > maxText {
		v.Add(FieldText, "Requirement must be 5,000 characters or fewer")
	}

	if strings.TrimSpace(in.Priority) == "" {
		v.Add(FieldPriority, "Enter the priority: Must, Should, Could or Won't")
	} else if p, ok := ParsePriority(in.Priority); ok {
		r.Priority = p
	} else {
		v.Add(FieldPriority, fmt.Sprintf("Priority %q is not one of Must, Should, Could or Won't", strings.TrimSpace(in.Priority)))
	}

	if w, msg := parseWeight(in.Weight); msg != "" {
		v.Add(FieldWeight, msg)
	} else {
		r.Weight = w
	}

	if strings.TrimSpace(in.ResponseType) == "" {
		v.Add(FieldResponseType, "Enter the response type: Pass/fail, Scored (0-4), Numeric or Price schedule")
	} else if t, ok := ParseResponseType(in.ResponseType); ok {
		r.ResponseType = t
	} else {
		v.Add(FieldResponseType, fmt.Sprintf("Response type %q is not one of Pass/fail, Scored (0-4), Numeric or Price schedule", strings.TrimSpace(in.ResponseType)))
	}

	if r.ResponseType == Scored {
		r.Descriptors = make(Descriptors, Marks)
		for mark, d := range in.Descriptors {
			d = strings.TrimSpace(d)
			r.Descriptors[mark] = d
			switch {
			case d == "":
				v.Add(FieldDescriptor(mark), fmt.Sprintf("Enter what an answer must show to be given mark %d", mark))
			case len(d) > maxDescriptor:
				v.Add(FieldDescriptor(mark), fmt.Sprintf("The descriptor of mark %d must be 1,000 characters or fewer", mark))
			}
		}
	}

	r.Guidance = strings.TrimSpace(in.Guidance)
	if len(r.Guidance) > maxGuidance {
		v.Add(FieldGuidance, "Guidance must be 5,000 characters or fewer")
	}
	return r
}

// parseWeight reads a weight typed as "15", "15%" (Excel's percentage
// format) or "15.0"; msg explains what is wrong otherwise.
func parseWeight(s string) (weight int, msg string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "Enter the weight, a whole number from 0 to 100"
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Sprintf("Weight %q must be a whole number from 0 to 100", s)
	}
	if f != math.Trunc(f) {
		return 0, fmt.Sprintf("Weight must be a whole number from 0 to 100, not %s", s)
	}
	if f < 0 || f > 100 {
		return 0, fmt.Sprintf("Weight must be from 0 to 100, not %s", s)
	}
	return int(f), ""
}

// referenceTaken reports whether another requirement of the catalogue has
// the reference.
func referenceTaken(tx *gorm.DB, catalogueID, reference, selfID string) (bool, error) {
	var n int64
	q := tx.Model(&Requirement{}).Where("catalogue_id = ? AND reference = ?", catalogueID, reference)
	if selfID != "" {
		q = q.Where("id <> ?", selfID)
	}
	if err := q.Count(&n).Error; err != nil {
		return false, fmt.Errorf("check reference: %w", err)
	}
	return n > 0, nil
}

// nextRequirementPosition is one after the last position in the section.
func nextRequirementPosition(tx *gorm.DB, sectionID string) (int, error) {
	var max *int
	if err := tx.Model(&Requirement{}).Where("section_id = ?", sectionID).Select("MAX(position)").Scan(&max).Error; err != nil {
		return 0, fmt.Errorf("find last requirement: %w", err)
	}
	if max == nil {
		return 1, nil
	}
	return *max + 1, nil
}

// SaveRequirement adds a requirement (in.ID empty) or edits one. The
// reference must be unique within the catalogue; an edit must carry the
// version the editor saw. A requirement moved to another section goes to
// the end of it.
func (s *Service) SaveRequirement(ctx context.Context, actor audit.Actor, catalogueID string, in RequirementInput) (*Requirement, error) {
	var v validate.Errors
	parsed := in.parse(&v)
	var saved Requirement
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.touch(tx, catalogueID); err != nil {
			return err
		}
		var old Requirement
		if in.ID != "" {
			if err := tx.Where("id = ? AND catalogue_id = ?", in.ID, catalogueID).First(&old).Error; err != nil {
				return notFound(err, "requirement")
			}
		}
		var sec Section
		if strings.TrimSpace(in.SectionID) == "" {
			v.Add(FieldSection, "Select the section the requirement belongs to")
		} else if err := tx.Where("id = ? AND catalogue_id = ?", in.SectionID, catalogueID).First(&sec).Error; err != nil {
			v.Add(FieldSection, "Select the section the requirement belongs to from the list")
		}
		if parsed.Reference != "" && !v.Has(FieldReference) {
			taken, err := referenceTaken(tx, catalogueID, parsed.Reference, in.ID)
			if err != nil {
				return err
			}
			if taken {
				v.Add(FieldReference, "Another requirement in this catalogue already has reference "+parsed.Reference)
			}
		}
		if err := sortErrors(&v).Err(); err != nil {
			return err
		}
		now := s.Clock.Now()
		defer func() { saved.SectionTitle = sec.Title }()
		if in.ID == "" {
			pos, err := nextRequirementPosition(tx, sec.ID)
			if err != nil {
				return err
			}
			saved = parsed
			saved.ID, saved.CatalogueID, saved.SectionID, saved.Position = newID(), catalogueID, sec.ID, pos
			saved.Version, saved.CreatedAt, saved.UpdatedAt = 1, now, now
			if err := tx.Create(&saved).Error; err != nil {
				return fmt.Errorf("create requirement: %w", err)
			}
			return s.Audit.Append(tx, actor, audit.Event{
				Action: "catalogue.requirement.create", ObjectType: "catalogue", ObjectID: catalogueID,
				Detail: map[string]any{"requirement_id": saved.ID, "reference": saved.Reference},
			})
		}
		saved = old
		if err := updateRequirement(tx, &saved, parsed, sec.ID, in.Version, now); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.requirement.update", ObjectType: "catalogue", ObjectID: catalogueID,
			Detail: map[string]any{"requirement_id": saved.ID, "reference": saved.Reference, "changed": changedFields(old, saved)},
		})
	})
	if err != nil {
		return nil, err
	}
	return &saved, nil
}

// updateRequirement writes parsed onto r (stored at version) in tx.
func updateRequirement(tx *gorm.DB, r *Requirement, parsed Requirement, sectionID string, version int, now time.Time) error {
	if sectionID != r.SectionID {
		pos, err := nextRequirementPosition(tx, sectionID)
		if err != nil {
			return err
		}
		r.SectionID, r.Position = sectionID, pos
	}
	r.Reference, r.Text, r.Priority, r.Weight = parsed.Reference, parsed.Text, parsed.Priority, parsed.Weight
	r.ResponseType, r.Descriptors, r.Guidance = parsed.ResponseType, parsed.Descriptors, parsed.Guidance
	res := tx.Model(&Requirement{}).Where("id = ? AND version = ?", r.ID, version).Updates(map[string]any{
		"section_id": r.SectionID, "position": r.Position, "reference": r.Reference, "text": r.Text,
		"priority": r.Priority, "weight": r.Weight, "response_type": r.ResponseType, "descriptors": r.Descriptors,
		"guidance": r.Guidance, "version": version + 1, "updated_at": now,
	})
	if res.Error != nil {
		return fmt.Errorf("update requirement: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return store.ErrConflict
	}
	r.Version = version + 1
	return nil
}

// changedFields names what an edit changed, for the audit entry (values
// are left out: requirement text can be long).
func changedFields(a, b Requirement) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("section", a.SectionID != b.SectionID)
	add("reference", a.Reference != b.Reference)
	add("text", a.Text != b.Text)
	add("priority", a.Priority != b.Priority)
	add("weight", a.Weight != b.Weight)
	add("response_type", a.ResponseType != b.ResponseType)
	add("descriptors", !slices.Equal(a.Descriptors, b.Descriptors))
	add("guidance", a.Guidance != b.Guidance)
	return out
}

// sortErrors puts field errors in the order the form shows the fields.
func sortErrors(v *validate.Errors) *validate.Errors {
	order := []string{FieldSection, FieldReference, FieldText, FieldPriority, FieldWeight, FieldResponseType}
	for m := range Marks {
		order = append(order, FieldDescriptor(m))
	}
	order = append(order, FieldGuidance)
	slices.SortStableFunc(v.List, func(a, b validate.FieldError) int {
		return slices.Index(order, a.Field) - slices.Index(order, b.Field)
	})
	return v
}

// DeleteRequirement removes a requirement from the draft. Published
// versions keep it.
func (s *Service) DeleteRequirement(ctx context.Context, actor audit.Actor, catalogueID, requirementID string) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.touch(tx, catalogueID); err != nil {
			return err
		}
		var r Requirement
		if err := tx.Where("id = ? AND catalogue_id = ?", requirementID, catalogueID).First(&r).Error; err != nil {
			return notFound(err, "requirement")
		}
		if err := tx.Where("id = ?", r.ID).Delete(&Requirement{}).Error; err != nil {
			return fmt.Errorf("delete requirement: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.requirement.delete", ObjectType: "catalogue", ObjectID: catalogueID,
			Detail: map[string]any{"requirement_id": r.ID, "reference": r.Reference},
		})
	})
}

// Requirement returns one requirement of the draft with its section title.
func (s *Service) Requirement(ctx context.Context, catalogueID, requirementID string) (*Requirement, error) {
	db := s.DB.WithContext(ctx)
	var r Requirement
	if err := db.Where("id = ? AND catalogue_id = ?", requirementID, catalogueID).First(&r).Error; err != nil {
		return nil, notFound(err, "requirement")
	}
	var sec Section
	if err := db.Where("id = ?", r.SectionID).First(&sec).Error; err != nil {
		return nil, notFound(err, "section")
	}
	r.SectionTitle = sec.Title
	return &r, nil
}

// Requirements lists the draft's requirements in reading order: by section
// position, then position within the section, then reference. Each carries
// its section title.
func (s *Service) Requirements(ctx context.Context, catalogueID string) ([]Requirement, error) {
	_, reqs, err := draft(s.DB.WithContext(ctx), catalogueID)
	return reqs, err
}

// draft reads the sections and requirements of a catalogue in order.
func draft(db *gorm.DB, catalogueID string) ([]Section, []Requirement, error) {
	secs, err := sections(db, catalogueID)
	if err != nil {
		return nil, nil, err
	}
	var reqs []Requirement
	if err := db.Where("catalogue_id = ?", catalogueID).Find(&reqs).Error; err != nil {
		return nil, nil, fmt.Errorf("list requirements: %w", err)
	}
	order(secs, reqs)
	return secs, reqs, nil
}

// order sorts requirements into reading order and fills in section titles.
func order(secs []Section, reqs []Requirement) {
	index := make(map[string]int, len(secs))
	for i, sec := range secs {
		index[sec.ID] = i
	}
	for i := range reqs {
		if j, ok := index[reqs[i].SectionID]; ok {
			reqs[i].SectionTitle = secs[j].Title
		}
	}
	slices.SortStableFunc(reqs, func(a, b Requirement) int {
		if d := index[a.SectionID] - index[b.SectionID]; d != 0 {
			return d
		}
		if d := a.Position - b.Position; d != 0 {
			return d
		}
		return strings.Compare(a.Reference, b.Reference)
	})
}
