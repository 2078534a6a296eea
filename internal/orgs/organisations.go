package orgs

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

var (
	odsPattern            = regexp.MustCompile(`^[A-Z0-9]{3,6}$`)
	companiesHousePattern = regexp.MustCompile(`^([0-9]{8}|[A-Z]{2}[0-9]{6})$`)
)

// OrganisationInput is what a form submits to create or edit an organisation.
// Only these fields can be set this way (no mass assignment).
type OrganisationInput struct {
	Kind                 string
	Name                 string
	ODSCode              string
	Region               string
	CompaniesHouseNumber string
	LeadOrganisationID   string
	Version              int // the version the editor saw; 0 when creating
}

func (in *OrganisationInput) normalise() {
	in.Kind = strings.TrimSpace(in.Kind)
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.ODSCode = strings.ToUpper(strings.TrimSpace(in.ODSCode))
	in.Region = strings.TrimSpace(in.Region)
	in.CompaniesHouseNumber = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.CompaniesHouseNumber), " ", ""))
	in.LeadOrganisationID = strings.TrimSpace(in.LeadOrganisationID)
}

// check validates in against the rules for its kind and against existing
// records (unique codes, a lead that is a trust), inside tx.
func (in *OrganisationInput) check(tx *gorm.DB, selfID string) error {
	var v validate.Errors
	if !slices.Contains(Kinds, in.Kind) {
		v.Add("kind", "Select the kind of organisation")
	}
	v.Required("name", in.Name, "Enter the organisation's name")
	if len(in.Name) > 200 {
		v.Add("name", "Name must be 200 characters or fewer")
	}
	if in.Region != "" && !validRegion(in.Region) {
		v.Add("region", "Select a region from the list")
	}
	switch in.Kind {
	case KindTrust:
		if !odsPattern.MatchString(in.ODSCode) {
			v.Add("odsCode", "Enter the trust's ODS code, 3 to 6 letters or numbers, like RJ7")
		} else if taken(tx, "ods_code", in.ODSCode, selfID) {
			v.Add("odsCode", "Another organisation already has ODS code "+in.ODSCode)
		}
		if in.Region == "" {
			v.Add("region", "Select the trust's region")
		}
	case KindSupplier:
		if !companiesHousePattern.MatchString(in.CompaniesHouseNumber) {
			v.Add("companiesHouseNumber", "Enter the Companies House number: 8 digits, or 2 letters and 6 digits, like 01234567 or SC123456")
		} else if taken(tx, "companies_house_number", in.CompaniesHouseNumber, selfID) {
			v.Add("companiesHouseNumber", "Another supplier already has Companies House number "+in.CompaniesHouseNumber)
		}
	case KindConsortium:
		if in.LeadOrganisationID == "" {
			v.Add("leadOrganisationId", "Select the trust that leads the consortium")
		} else {
			var lead Organisation
			if err := tx.Where("id = ? AND kind = ?", in.LeadOrganisationID, KindTrust).First(&lead).Error; err != nil {
				v.Add("leadOrganisationId", "Select the trust that leads the consortium from the list")
			}
		}
	}
	return v.Err()
}

func validRegion(code string) bool {
	for _, r := range Regions {
		if r.Code == code {
			return true
		}
	}
	return false
}

func taken(tx *gorm.DB, column, value, selfID string) bool {
	var n int64
	q := tx.Model(&Organisation{}).Where(column+" = ?", value)
	if selfID != "" {
		q = q.Where("id <> ?", selfID)
	}
	q.Count(&n)
	return n > 0
}

// apply copies the fields that belong to in.Kind onto o.
func (in *OrganisationInput) apply(o *Organisation) {
	o.Kind, o.Name, o.Region = in.Kind, in.Name, in.Region
	o.ODSCode, o.CompaniesHouseNumber, o.LeadOrganisationID = nil, nil, nil
	switch in.Kind {
	case KindTrust:
		o.ODSCode = ptr(in.ODSCode)
	case KindSupplier:
		o.CompaniesHouseNumber = ptr(in.CompaniesHouseNumber)
	case KindConsortium:
		o.LeadOrganisationID = ptr(in.LeadOrganisationID)
	}
}

// CreateOrganisation adds an organisation.
func (s *Service) CreateOrganisation(ctx context.Context, actor audit.Actor, in OrganisationInput) (*Organisation, error) {
	var o *Organisation
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		o, err = s.CreateOrganisationTx(tx, actor, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// CreateOrganisationTx adds an organisation inside the caller's transaction,
// for changes that create one along the way (a supplier registering from an
// invitation), with the same rules and audit entry.
func (s *Service) CreateOrganisationTx(tx *gorm.DB, actor audit.Actor, in OrganisationInput) (*Organisation, error) {
	in.normalise()
	now := s.Clock.Now()
	o := &Organisation{ID: newID(), Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := in.check(tx, ""); err != nil {
		return nil, err
	}
	in.apply(o)
	if err := tx.Omit("Lead").Create(o).Error; err != nil {
		return nil, fmt.Errorf("create organisation: %w", err)
	}
	err := s.Audit.Append(tx, actor, audit.Event{
		Action: "organisation.create", ObjectType: "organisation", ObjectID: o.ID,
		Detail: map[string]any{"kind": o.Kind, "name": o.Name},
	})
	return o, err
}

// UpdateOrganisation edits an organisation. in.Version must match the stored
// version, so two people editing at once cannot silently overwrite each other.
func (s *Service) UpdateOrganisation(ctx context.Context, actor audit.Actor, id string, in OrganisationInput) error {
	in.normalise()
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var o Organisation
		if err := tx.Where("id = ?", id).First(&o).Error; err != nil {
			return notFound(err, "organisation")
		}
		if in.Kind != o.Kind {
			return &validate.Errors{List: []validate.FieldError{{Field: "kind", Message: "The kind of an organisation cannot be changed"}}}
		}
		if err := in.check(tx, o.ID); err != nil {
			return err
		}
		before := o.Name
		in.apply(&o)
		res := tx.Model(&Organisation{}).Where("id = ? AND version = ?", o.ID, in.Version).Updates(map[string]any{
			"name": o.Name, "region": o.Region, "ods_code": o.ODSCode,
			"companies_house_number": o.CompaniesHouseNumber, "lead_organisation_id": o.LeadOrganisationID,
			"version": in.Version + 1, "updated_at": s.Clock.Now(),
		})
		if res.Error != nil {
			return fmt.Errorf("update organisation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		// Every signed-in person's page names the organisations they act
		// for; which people hold roles here is not worth looking up.
		if err := s.DB.Publish(tx, store.AllChanged); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "organisation.update", ObjectType: "organisation", ObjectID: o.ID,
			Detail: map[string]any{"old_name": before, "new_name": o.Name},
		})
	})
}

// Organisation returns one organisation with its lead.
func (s *Service) Organisation(ctx context.Context, id string) (*Organisation, error) {
	var o Organisation
	if err := s.DB.WithContext(ctx).Preload("Lead").Where("id = ?", id).First(&o).Error; err != nil {
		return nil, notFound(err, "organisation")
	}
	return &o, nil
}

// Organisations lists organisations of a kind (all kinds when empty) whose
// name or code contains query, by name.
func (s *Service) Organisations(ctx context.Context, kind, query string) ([]Organisation, error) {
	q := s.DB.WithContext(ctx).Preload("Lead").Order("kind, name")
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if query = strings.TrimSpace(query); query != "" {
		like := store.Contains(query)
		q = q.Where("LOWER(name) LIKE ? "+store.LikeEscape+" OR LOWER(COALESCE(ods_code, '')) LIKE ? "+store.LikeEscape, like, like)
	}
	var out []Organisation
	if err := q.Limit(500).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return out, nil
}
