package seed

import (
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/contracts"
)

// contracts records the contracts made from the opened competitions: one
// per buying trust, with the competition's first bidder as the supplier,
// until Scale.Contracts are made. Four in five are signed; their terms
// begin two months after the bids were opened and run five years.
func (g *generator) contracts(tx *gorm.DB) error {
	ods := map[string]string{}
	for _, t := range g.trusts {
		ods[t.ID] = t.ODS()
	}
	var rows []contracts.Contract
	for _, c := range g.comps {
		for _, t := range c.buyers {
			if len(rows) == g.sc.Contracts {
				break
			}
			start := day(c.closed.AddDate(0, 2, 0))
			k := contracts.Contract{ID: g.id(), CompetitionID: c.id, OrganisationID: t, SupplierOrgID: c.winner,
				Reference: c.reference + "-" + ods[t], Title: c.title, ValuePence: int64(250_000+g.rnd.IntN(15_000_000)) * 100,
				StartDate: start, EndDate: start.AddDate(5, 0, -1), ExtensionOptions: "Two optional extensions of 12 months each",
				MaxExtensionMonths: 24, Status: contracts.StatusPending, CreatedBy: g.leadOf[t], Version: 1,
				CreatedAt: c.closed.AddDate(0, 1, 0), UpdatedAt: c.closed.AddDate(0, 1, 0)}
			if k.CreatedAt.After(g.now) {
				k.CreatedAt, k.UpdatedAt = g.now, g.now
			}
			if g.rnd.IntN(5) > 0 {
				k.SignedAt = ptr(start.AddDate(0, 0, -7))
			}
			rows = append(rows, k)
			g.made("contract", k.ID)
		}
	}
	if len(rows) < g.sc.Contracts {
		return fmt.Errorf("the scale asks for %d contracts but its opened competitions have only %d buying trusts: ask for more competitions or fewer contracts",
			g.sc.Contracts, len(rows))
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(rows, batch).Error; err != nil {
		return fmt.Errorf("create contracts: %w", err)
	}
	g.counts.Contracts = len(rows)
	return nil
}
