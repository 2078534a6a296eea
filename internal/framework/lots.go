package framework

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of LotInput's, CopyRequirements' and SetCriteria's errors.
const (
	FieldLotTitle     = "title"
	FieldMinSuppliers = "min_suppliers"
	FieldMaxSuppliers = "max_suppliers"
	FieldCallOff      = "call_off"
	FieldReferences   = "references"
	FieldCriteria     = "criteria"
)

// LotInput is what a form submits to add a lot.
type LotInput struct {
	Title   string
	Scope   string
	Min     int
	Max     int
	CallOff string // direct, competition or both
}

func (in *LotInput) check() *validate.Errors {
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Scope = strings.TrimSpace(in.Scope)
	var v validate.Errors
	v.Required(FieldLotTitle, in.Title, "Enter the lot's title")
	if in.Min < 1 {
		v.Add(FieldMinSuppliers, "A lot needs at least 1 supplier")
	}
	if in.Max < in.Min {
		v.Add(FieldMaxSuppliers, fmt.Sprintf("The maximum number of suppliers must be at least the minimum (%d)", in.Min))
	}
	switch in.CallOff {
	case CallOffDirect, CallOffCompetition, CallOffBoth:
	default:
		v.Add(FieldCallOff, "Choose whether call-offs are direct awards, further competitions or both")
	}
	return &v
}

// AddLot adds a lot, numbered after the existing ones, to a draft framework.
func (s *Service) AddLot(ctx context.Context, actor audit.Actor, frameworkID string, in LotInput) (*Lot, error) {
	if err := in.check().Err(); err != nil {
		return nil, err
	}
	var lot *Lot
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockDraft(tx, frameworkID); err != nil {
			return err
		}
		var last int
		if err := tx.Model(&Lot{}).Where("framework_id = ?", frameworkID).Select("COALESCE(MAX(number), 0)").Scan(&last).Error; err != nil {
			return fmt.Errorf("number lot: %w", err)
		}
		lot = &Lot{ID: newID(), FrameworkID: frameworkID, Number: last + 1, Title: in.Title, Scope: in.Scope,
			MinSuppliers: in.Min, MaxSuppliers: in.Max, CallOff: in.CallOff}
		if err := tx.Create(lot).Error; err != nil {
			return fmt.Errorf("create lot: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.lot.add", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"lot_id": lot.ID, "number": lot.Number, "title": lot.Title}})
	})
	if err != nil {
		return nil, err
	}
	return lot, nil
}

// Lots lists a framework's lots by number.
func (s *Service) Lots(ctx context.Context, frameworkID string) ([]Lot, error) {
	var out []Lot
	if err := s.DB.WithContext(ctx).Where("framework_id = ?", frameworkID).Order("number").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list lots: %w", err)
	}
	return out, nil
}

// CopyRequirements copies requirements from a published catalogue version
// into a lot of a draft framework, keeping where each came from. An empty
// references list copies them all. Requirements the lot already has (by
// reference) are refused, as are references the version does not hold.
func (s *Service) CopyRequirements(ctx context.Context, actor audit.Actor, lotID, catalogueID string, version int, references []string) ([]LotRequirement, error) {
	// Only the framework's own consortium's catalogues: another's
	// requirements are not the lead's to copy, or to learn about from the
	// messages below.
	if err := s.ownCatalogue(ctx, lotID, catalogueID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if aerr := s.Audit.Record(ctx, s.DB, actor, audit.Event{Action: "framework.lot.copy_requirements", ObjectType: "catalogue",
				ObjectID: catalogueID, Outcome: audit.Denied, Detail: map[string]any{"lot_id": lotID}}); aerr != nil {
				return nil, aerr
			}
		}
		return nil, err
	}
	reqs, err := s.Catalogue.Snapshot(ctx, catalogueID, version)
	if err != nil {
		return nil, err
	}
	if len(references) > 0 {
		want := map[string]bool{}
		for _, r := range references {
			want[strings.ToUpper(strings.TrimSpace(r))] = true
		}
		var picked []catalogue.Requirement
		for _, r := range reqs {
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
			var v validate.Errors
			v.Add(FieldReferences, fmt.Sprintf("Version %d of the catalogue has no requirement %s", version, strings.Join(missing, ", ")))
			return nil, v.Err()
		}
		reqs = picked
	}
	if len(reqs) == 0 {
		var v validate.Errors
		v.Add(FieldReferences, "Choose at least one requirement to copy")
		return nil, v.Err()
	}
	var out []LotRequirement
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var lot Lot
		if err := tx.Where("id = ?", lotID).First(&lot).Error; err != nil {
			return notFound(err, "lot")
		}
		f, err := s.lockDraft(tx, lot.FrameworkID)
		if err != nil {
			return err
		}
		var have []string
		if err := tx.Model(&LotRequirement{}).Where("lot_id = ?", lotID).Pluck("reference", &have).Error; err != nil {
			return fmt.Errorf("read lot requirements: %w", err)
		}
		var dup []string
		for _, r := range reqs {
			if slices.Contains(have, r.Reference) {
				dup = append(dup, r.Reference)
			}
		}
		if len(dup) > 0 {
			var v validate.Errors
			v.Add(FieldReferences, fmt.Sprintf("Lot %d already has %s", lot.Number, strings.Join(dup, ", ")))
			return v.Err()
		}
		var pos int
		if err := tx.Model(&LotRequirement{}).Where("lot_id = ?", lotID).Select("COALESCE(MAX(position), 0)").Scan(&pos).Error; err != nil {
			return fmt.Errorf("position requirements: %w", err)
		}
		refs := make([]string, 0, len(reqs))
		for _, r := range reqs {
			pos++
			o := r.Origin()
			out = append(out, LotRequirement{ID: newID(), LotID: lotID, Reference: r.Reference, Text: r.Text, Priority: r.Priority,
				Weight: r.Weight, ResponseType: r.ResponseType, Descriptors: slices.Clone(r.Descriptors), Guidance: r.Guidance,
				SectionTitle: r.SectionTitle, SourceCatalogueID: catalogueID, SourceVersion: version,
				SourceRequirementID: o.RequirementID, Position: pos})
			refs = append(refs, r.Reference)
		}
		if err := tx.Create(&out).Error; err != nil {
			return fmt.Errorf("copy requirements: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.lot.copy_requirements", ObjectType: "framework", ObjectID: f.ID,
			Detail: map[string]any{"lot_id": lotID, "catalogue_id": catalogueID, "catalogue_version": version, "references": refs}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ownCatalogue refuses, as not found, a catalogue that does not belong to
// the consortium whose framework the lot is part of.
func (s *Service) ownCatalogue(ctx context.Context, lotID, catalogueID string) error {
	var owners struct {
		Framework string `gorm:"column:framework_owner"`
		Catalogue string `gorm:"column:catalogue_owner"`
	}
	err := s.DB.WithContext(ctx).Raw(`SELECT f.consortium_id AS framework_owner, c.consortium_id AS catalogue_owner
		FROM framework_lots l JOIN frameworks f ON f.id = l.framework_id, catalogues c
		WHERE l.id = ? AND c.id = ?`, lotID, catalogueID).Scan(&owners).Error
	if err != nil {
		return fmt.Errorf("check catalogue owner: %w", err)
	}
	if owners.Framework == "" || owners.Framework != owners.Catalogue {
		return fmt.Errorf("catalogue %s for lot %s: %w", catalogueID, lotID, store.ErrNotFound)
	}
	return nil
}

// LotRequirements lists a lot's requirements in order.
func (s *Service) LotRequirements(ctx context.Context, lotID string) ([]LotRequirement, error) {
	var out []LotRequirement
	if err := s.DB.WithContext(ctx).Where("lot_id = ?", lotID).Order("position").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list lot requirements: %w", err)
	}
	return out, nil
}

// RequirementsByLot returns the requirements of every lot of a framework in
// one query, keyed by lot ID, for pages that show all lots at once.
func (s *Service) RequirementsByLot(ctx context.Context, frameworkID string) (map[string][]LotRequirement, error) {
	var all []LotRequirement
	err := s.DB.WithContext(ctx).
		Where("lot_id IN (SELECT id FROM framework_lots WHERE framework_id = ?)", frameworkID).
		Order("lot_id, position").Find(&all).Error
	if err != nil {
		return nil, fmt.Errorf("list framework requirements: %w", err)
	}
	out := make(map[string][]LotRequirement)
	for _, r := range all {
		out[r.LotID] = append(out[r.LotID], r)
	}
	return out, nil
}

// SetCriteria replaces a draft framework's evaluation criteria. Every
// criterion needs a name and a weight from 1 to 100, and the weights must
// add up to exactly 100.
func (s *Service) SetCriteria(ctx context.Context, actor audit.Actor, frameworkID string, criteria []Criterion) error {
	var v validate.Errors
	total := 0
	seen := map[string]bool{}
	clean := make([]Criterion, 0, len(criteria))
	for i, c := range criteria {
		name := strings.Join(strings.Fields(c.Name), " ")
		field := fmt.Sprintf("criterion%d", i+1)
		switch {
		case name == "":
			v.Add(field, fmt.Sprintf("Enter a name for criterion %d", i+1))
		case seen[strings.ToLower(name)]:
			v.Add(field, fmt.Sprintf("%s is listed twice", name))
		}
		seen[strings.ToLower(name)] = true
		if c.Weight < 1 || c.Weight > 100 {
			v.Add(field+"_weight", fmt.Sprintf("The weight of %s must be from 1 to 100, not %d", orDefault(name, fmt.Sprintf("criterion %d", i+1)), c.Weight))
		}
		total += c.Weight
		clean = append(clean, Criterion{ID: newID(), FrameworkID: frameworkID, Name: name, Weight: c.Weight, Position: i + 1})
	}
	switch {
	case len(criteria) == 0:
		v.Add(FieldCriteria, "Add at least one evaluation criterion")
	case total != 100:
		v.Add(FieldCriteria, totalMessage(total))
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockDraft(tx, frameworkID); err != nil {
			return err
		}
		// Requirements counting towards the first criterion by default
		// are pinned to it by name first, so reordering the criteria does
		// not move them.
		var old []Criterion
		if err := tx.Where("framework_id = ?", frameworkID).Order("position").Find(&old).Error; err != nil {
			return fmt.Errorf("read criteria: %w", err)
		}
		lots := tx.Model(&Lot{}).Select("id").Where("framework_id = ?", frameworkID)
		if len(old) > 0 {
			if err := tx.Model(&LotRequirement{}).Where("lot_id IN (?) AND criterion = '' AND response_type <> ?", lots, catalogue.PassFail).
				Update("criterion", old[0].Name).Error; err != nil {
				return fmt.Errorf("pin criteria: %w", err)
			}
		}
		if err := tx.Where("framework_id = ?", frameworkID).Delete(&Criterion{}).Error; err != nil {
			return fmt.Errorf("replace criteria: %w", err)
		}
		if err := tx.Create(&clean).Error; err != nil {
			return fmt.Errorf("save criteria: %w", err)
		}
		// Requirements linked to a criterion that is gone count towards
		// the first again.
		names := make([]string, len(clean))
		for i, c := range clean {
			names[i] = c.Name
		}
		unlinked := tx.Model(&LotRequirement{}).Where("lot_id IN (?) AND criterion <> '' AND criterion NOT IN ?", lots, names).
			Update("criterion", "")
		if unlinked.Error != nil {
			return fmt.Errorf("unlink removed criteria: %w", unlinked.Error)
		}
		detail := make([]map[string]any, len(clean))
		for i, c := range clean {
			detail[i] = map[string]any{"name": c.Name, "weight": c.Weight}
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.criteria.set", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"criteria": detail, "requirements_moved_to_first": unlinked.RowsAffected}})
	})
}

func totalMessage(total int) string {
	return fmt.Sprintf("The weights add up to %d; they must add up to 100", total)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Criteria lists a framework's evaluation criteria in order.
func (s *Service) Criteria(ctx context.Context, frameworkID string) ([]Criterion, error) {
	var out []Criterion
	if err := s.DB.WithContext(ctx).Where("framework_id = ?", frameworkID).Order("position").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list criteria: %w", err)
	}
	return out, nil
}

// FieldRequirementCriterion is the form field of the criterion a lot
// requirement counts towards.
func FieldRequirementCriterion(lotRequirementID string) string {
	return "criterion-" + lotRequirementID
}

// LinkCriteria says which evaluation criterion each of a draft lot's scored
// requirements counts towards (links maps lot requirement IDs to criterion
// names; "" is the first criterion). Pass/fail requirements are gates and
// count towards none. Every problem is reported and nothing is saved in
// part.
func (s *Service) LinkCriteria(ctx context.Context, actor audit.Actor, lotID string, links map[string]string) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var lot Lot
		if err := tx.Where("id = ?", lotID).First(&lot).Error; err != nil {
			return notFound(err, "lot")
		}
		if _, err := s.lockDraft(tx, lot.FrameworkID); err != nil {
			return err
		}
		var criteria []Criterion
		if err := tx.Where("framework_id = ?", lot.FrameworkID).Find(&criteria).Error; err != nil {
			return fmt.Errorf("read criteria: %w", err)
		}
		names := map[string]bool{"": true}
		for _, c := range criteria {
			names[c.Name] = true
		}
		var reqs []LotRequirement
		if err := tx.Where("lot_id = ?", lotID).Find(&reqs).Error; err != nil {
			return fmt.Errorf("read requirements: %w", err)
		}
		byID := make(map[string]LotRequirement, len(reqs))
		for _, r := range reqs {
			byID[r.ID] = r
		}
		var v validate.Errors
		changed := 0
		for _, id := range slices.Sorted(maps.Keys(links)) {
			name := strings.TrimSpace(links[id])
			r, ok := byID[id]
			switch {
			case !ok:
				v.Add(FieldRequirementCriterion(id), "One of the requirements is not part of this lot")
			case !names[name]:
				v.Add(FieldRequirementCriterion(id), fmt.Sprintf("Choose one of the framework's criteria for %s", r.Reference))
			case r.ResponseType == catalogue.PassFail && name != "":
				v.Add(FieldRequirementCriterion(id), fmt.Sprintf("%s is pass/fail, a gate that counts towards no criterion", r.Reference))
			case r.Criterion != name:
				if err := tx.Model(&LotRequirement{}).Where("id = ?", id).Update("criterion", name).Error; err != nil {
					return fmt.Errorf("link criterion: %w", err)
				}
				changed++
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.lot.criteria", ObjectType: "framework", ObjectID: lot.FrameworkID,
			Detail: map[string]any{"lot": lot.Number, "changed": changed}})
	})
}
