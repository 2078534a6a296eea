package contracts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// AwardInput is a confirmed award, as the award package hands it over: the
// competition, its winner and the term every buying trust's contract
// starts from (each trust may then change its own with Update).
type AwardInput struct {
	CompetitionID string
	SupplierOrgID string
	// Reference and Title are the competition's; each contract's reference
	// is Reference, a hyphen and its buyer's Label.
	Reference  string
	Title      string
	Buyers     []BuyerValue
	Start, End time.Time
}

// BuyerValue is one buying trust of the award and the value of its
// contract: the winning bid's price for that trust.
type BuyerValue struct {
	OrganisationID string
	// Label ends the contract's reference: the trust's ODS code, or a name
	// for an organisation without one. Blank, the ODS code (or name) is
	// read from the organisation.
	Label      string
	ValuePence int64
}

// CreateFromAward makes one pending contract for each buying trust of a
// confirmed award, each with its audit entry, in the caller's transaction
// tx: the award package calls it in the transaction that confirms the
// award, so the award is never confirmed without its contracts nor the
// contracts made for an award that was not. It checks nobody's permission:
// the caller has (the lead trust's trust lead confirms the award). A value
// below zero, a missing date or an end before the start is refused with
// field errors and nothing is written.
func (s *Service) CreateFromAward(ctx context.Context, tx *gorm.DB, actor audit.Actor, in AwardInput) ([]Contract, error) {
	tx = tx.WithContext(ctx)
	var v validate.Errors
	checkTerm(&v, 0, in.Start, in.End)
	for _, b := range in.Buyers {
		if b.ValuePence < 0 {
			v.Add(FieldValue, "The value of every buying trust's contract must be £0 or more; check the winning bid's price schedule")
			break
		}
	}
	now := s.now()
	checkNotEnded(&v, in.End, 0, now)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.CompetitionID == "" || in.SupplierOrgID == "" || strings.TrimSpace(in.Reference) == "" || len(in.Buyers) == 0 {
		return nil, fmt.Errorf("make contracts: the award names no competition, supplier, reference or buying trust")
	}
	start, end := ukDate(in.Start), ukDate(in.End)
	seen := map[string]bool{}
	out := make([]Contract, 0, len(in.Buyers))
	for _, b := range in.Buyers {
		if seen[b.OrganisationID] {
			return nil, fmt.Errorf("make contracts: buying trust %s is named twice", b.OrganisationID)
		}
		seen[b.OrganisationID] = true
		label := strings.TrimSpace(b.Label)
		if label == "" {
			var o orgs.Organisation
			if err := tx.Where("id = ?", b.OrganisationID).First(&o).Error; err != nil {
				return nil, notFound(err, "buying trust")
			}
			if label = o.ODS(); label == "" {
				label = o.Name
			}
		}
		c := Contract{
			ID: uuid.NewString(), CompetitionID: in.CompetitionID, OrganisationID: b.OrganisationID, SupplierOrgID: in.SupplierOrgID,
			Reference: strings.TrimSpace(in.Reference) + "-" + label, Title: strings.TrimSpace(in.Title), ValuePence: b.ValuePence,
			StartDate: start, EndDate: end, Status: StatusPending, CreatedBy: actor.UserID, Version: 1, CreatedAt: now, UpdatedAt: now,
		}
		var n int64
		if err := tx.Model(&Contract{}).Where("reference = ? OR (competition_id = ? AND organisation_id = ?)", c.Reference, c.CompetitionID, c.OrganisationID).
			Count(&n).Error; err != nil {
			return nil, fmt.Errorf("check contract: %w", err)
		}
		if n > 0 {
			return nil, fmt.Errorf("make contracts: %s already has a contract", c.Reference)
		}
		if err := tx.Omit("Organisation", "Supplier").Create(&c).Error; err != nil {
			return nil, fmt.Errorf("make contract %s: %w", c.Reference, err)
		}
		if err := s.appendAudit(tx, actor, "contract.create", c.ID, map[string]any{
			"competition_id": c.CompetitionID, "organisation_id": c.OrganisationID, "supplier_org_id": c.SupplierOrgID,
			"reference": c.Reference, "value_pence": c.ValuePence, "start": dateValue(c.StartDate), "end": dateValue(c.EndDate),
		}); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// dateValue is how a date is written in audit details: its UK date.
func dateValue(t time.Time) string { return t.In(uktime.Location).Format("2006-01-02") }
