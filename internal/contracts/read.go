package contracts

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// withParties reads contracts with their buying trust and supplier (two
// queries for any number of contracts, never one per contract).
func withParties(db *gorm.DB) *gorm.DB { return db.Preload("Organisation").Preload("Supplier") }

// Contract returns one contract with its buying trust, supplier and
// documents; store.ErrNotFound when there is none. Who may see it is the
// caller's to check (the buying trust and the supplier may).
func (s *Service) Contract(ctx context.Context, id string) (*Contract, error) {
	db := s.DB.WithContext(ctx)
	c, err := load(withParties(db), id)
	if err != nil {
		return nil, err
	}
	if c.Documents, err = documents(db, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// ContractsOf lists the contracts an organisation is a party to, as the
// buying trust or as the supplier, soonest ending first.
func (s *Service) ContractsOf(ctx context.Context, orgID string) ([]Contract, error) {
	return s.list(ctx, "organisation_id = ? OR supplier_org_id = ?", orgID, orgID)
}

// ForCompetition lists the contracts made from a competition's award, one
// per buying trust, soonest ending first, then by reference.
func (s *Service) ForCompetition(ctx context.Context, competitionID string) ([]Contract, error) {
	return s.list(ctx, "competition_id = ?", competitionID)
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Contract, error) {
	var out []Contract
	if err := withParties(s.DB.WithContext(ctx)).Where(where, args...).Order("end_date, reference").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list contracts: %w", err)
	}
	for i := range out {
		out[i].utc()
	}
	return out, nil
}
