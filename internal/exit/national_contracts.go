package exit

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of the national contract form.
const (
	FieldReference = "reference"
	FieldSupplier  = "supplier_name"
	FieldArea      = "area"
	FieldExpiresOn = "expires_on"
)

// referencePattern is what a national contract reference may look like:
// letters, digits and - _ / . , 2 to 40 of them, as the import and the
// contract form type it.
var referencePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9\-_/.]{1,39}$`)

// NationalContractInput is a national contract as an administrator gives
// it; Version is the version seen (ignored on create).
type NationalContractInput struct {
	Reference             string
	SupplierName          string
	Area                  string
	ExpiresOn             time.Time
	ProcurementCompleteBy *time.Time
	Version               int
}

func (in *NationalContractInput) normalise() {
	in.Reference = strings.ToUpper(strings.TrimSpace(in.Reference))
	in.SupplierName = strings.TrimSpace(in.SupplierName)
	in.Area = strings.TrimSpace(in.Area)
	if !in.ExpiresOn.IsZero() {
		in.ExpiresOn = Day(in.ExpiresOn)
	}
	if in.ProcurementCompleteBy != nil {
		d := Day(*in.ProcurementCompleteBy)
		in.ProcurementCompleteBy = &d
	}
}

// check is what can be said of the input alone.
func (in NationalContractInput) check(add func(field, message string)) {
	if !referencePattern.MatchString(in.Reference) {
		add(FieldReference, "Enter the national contract's reference: 2 to 40 letters, digits, hyphens, underscores, slashes or full stops, such as LSP-LONDON")
	}
	if in.SupplierName == "" {
		add(FieldSupplier, "Enter the name of the national contract's supplier")
	} else if utf8.RuneCountInString(in.SupplierName) > 200 {
		add(FieldSupplier, "The supplier's name must be 200 characters or fewer")
	}
	if orgs.RegionName(in.Area) == in.Area {
		add(FieldArea, "Select the area the national contract covers")
	}
	if in.ExpiresOn.IsZero() {
		add(FieldExpiresOn, "Enter the national contract's last day")
	}
	if in.ProcurementCompleteBy != nil && !in.ExpiresOn.IsZero() && in.ProcurementCompleteBy.After(in.ExpiresOn) {
		add(FieldCompleteBy, fmt.Sprintf("The date procurement should be complete by must be on or before the contract's last day, %s", uktime.Date(in.ExpiresOn)))
	}
}

// NationalContracts lists the national contracts by expiry, then reference.
func (s *Service) NationalContracts(ctx context.Context) ([]NationalContract, error) {
	var out []NationalContract
	if err := s.DB.WithContext(ctx).Order("expires_on, reference").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list national contracts: %w", err)
	}
	for i := range out {
		out[i].utc()
	}
	return out, nil
}

// NationalContract reads one national contract.
func (s *Service) NationalContract(ctx context.Context, id string) (*NationalContract, error) {
	var n NationalContract
	if err := s.DB.WithContext(ctx).Where("id = ?", id).First(&n).Error; err != nil {
		return nil, notFound(err, "national contract")
	}
	n.utc()
	return &n, nil
}

// SaveNationalContract creates (id "") or changes a national contract.
// The reference must be unique; the 'procurement complete by' date must
// fall on or before the last day and leave every system type deployed
// under the contract its migration lead time. A stale version is
// store.ErrConflict; nothing is saved in part.
func (s *Service) SaveNationalContract(ctx context.Context, actor audit.Actor, id string, in NationalContractInput) (*NationalContract, error) {
	action := "national_contract.update"
	if id == "" {
		action = "national_contract.create"
	}
	in.normalise()
	var v validate.Errors
	in.check(v.Add)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out NationalContract
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := requireAdmin(tx, actor); err != nil {
			return err
		}
		var taken int64
		if err := tx.Model(&NationalContract{}).Where("reference = ? AND id <> ?", in.Reference, id).Count(&taken).Error; err != nil {
			return fmt.Errorf("check reference: %w", err)
		}
		if taken > 0 {
			v.Add(FieldReference, fmt.Sprintf("A national contract with the reference %s is already recorded; enter another reference", in.Reference))
			return v.Err()
		}
		now := s.now()
		if id == "" {
			out = NationalContract{ID: newID(), Version: 1, CreatedAt: now}
		} else {
			if err := tx.Where("id = ?", id).First(&out).Error; err != nil {
				return notFound(err, "national contract")
			}
			out.utc()
			if out.Version != in.Version {
				return store.ErrConflict
			}
			r, err := loadRules(tx)
			if err != nil {
				return err
			}
			if err := checkCompleteBy(tx, r, id, in.ProcurementCompleteBy, in.ExpiresOn, v.Add); err != nil {
				return err
			}
			if err := v.Err(); err != nil {
				return err
			}
		}
		old := out
		out.Reference, out.SupplierName, out.Area = in.Reference, in.SupplierName, in.Area
		out.ExpiresOn, out.ProcurementCompleteBy, out.UpdatedAt = in.ExpiresOn, in.ProcurementCompleteBy, now
		detail := map[string]any{"reference": out.Reference, "supplier": out.SupplierName, "area": out.Area,
			"expires_on": dateValue(&out.ExpiresOn), "procurement_complete_by": dateValue(out.ProcurementCompleteBy)}
		if id == "" {
			if err := tx.Create(&out).Error; err != nil {
				return fmt.Errorf("create national contract: %w", err)
			}
		} else {
			detail["old"] = map[string]any{"reference": old.Reference, "supplier": old.SupplierName, "area": old.Area,
				"expires_on": dateValue(&old.ExpiresOn), "procurement_complete_by": dateValue(old.ProcurementCompleteBy)}
			res := tx.Model(&NationalContract{}).Where("id = ? AND version = ?", id, in.Version).Updates(map[string]any{
				"reference": out.Reference, "supplier_name": out.SupplierName, "area": out.Area, "expires_on": out.ExpiresOn,
				"procurement_complete_by": out.ProcurementCompleteBy, "version": in.Version + 1, "updated_at": now,
			})
			if res.Error != nil {
				return fmt.Errorf("update national contract: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return store.ErrConflict
			}
			out.Version = in.Version + 1
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "national_contract", ObjectID: out.ID, Detail: detail})
	})
	if err != nil {
		return nil, s.refused(ctx, actor, action, "national_contract", id, err)
	}
	return &out, nil
}

// dateValue writes an optional date as the audit log and the import keep
// it ("2016-07-31"; "" for none).
func dateValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(uktime.Location).Format("2006-01-02")
}
