package contracts

import (
	"context"
	"fmt"
	"time"

	"github.com/nhsprocure/portal/internal/paging"
	"gorm.io/gorm"
)

// AwardsPageSize is how many awards a page of the public list shows.
const AwardsPageSize = 20

// PublicAward is a confirmed award of a mini-competition as anyone may
// read it without signing in, like a Contracts Finder award notice: the
// competition, the framework it called off from, the winning supplier and
// each buying trust's contract with its value and term. Nothing about the
// other bids.
type PublicAward struct {
	CompetitionID string
	Reference     string
	Title         string
	Regime        string
	// FrameworkID names the framework agreement the call-off was made
	// under, with its reference and title.
	FrameworkID        string
	FrameworkReference string
	FrameworkTitle     string
	SupplierName       string
	ConfirmedAt        time.Time
	// Contracts are one per buying trust, by reference, with the trust
	// (Organisation) read.
	Contracts []Contract
}

// TotalPence is the value of all the award's contracts.
func (a PublicAward) TotalPence() int64 {
	var total int64
	for _, c := range a.Contracts {
		total += c.ValuePence
	}
	return total
}

// AwardsFilter narrows the public list of awards.
type AwardsFilter struct {
	// TrustID keeps the awards with a contract for that buying trust;
	// SupplierID those won by that supplier ("" for any).
	TrustID    string
	SupplierID string
	// Page is the page wanted, from 1; it is brought within the pages
	// there are.
	Page int
}

// PublicAwards is one page of confirmed awards, most recent first.
type PublicAwards struct {
	Awards []PublicAward
	// Pager says which page of the awards passing the filter this is.
	paging.Pager
	// Trusts and Suppliers are the buying trusts and winning suppliers of
	// every confirmed award, by name, for the filters.
	Trusts    []Choice
	Suppliers []Choice
}

// PublicAwards lists the confirmed awards, most recently confirmed first,
// a page at a time, in the same few queries however many there are. An
// award is public once it is confirmed (its confirmation time is
// recorded in the transaction that makes its contracts); nothing from
// before (recommendations, board decisions, standstill) is shown.
func (s *Service) PublicAwards(ctx context.Context, f AwardsFilter) (*PublicAwards, error) {
	db := s.DB.WithContext(ctx)
	confirmed := func() *gorm.DB {
		q := db.Table("competition_awards a").
			Joins("JOIN competitions c ON c.id = a.competition_id").
			Joins("JOIN frameworks f ON f.id = c.framework_id").
			Joins("JOIN organisations o ON o.id = a.supplier_org_id").
			Where("a.confirmed_at IS NOT NULL")
		if f.TrustID != "" {
			q = q.Where("EXISTS (SELECT 1 FROM contracts k WHERE k.competition_id = a.competition_id AND k.organisation_id = ?)", f.TrustID)
		}
		if f.SupplierID != "" {
			q = q.Where("a.supplier_org_id = ?", f.SupplierID)
		}
		return q
	}
	var n int64
	if err := confirmed().Count(&n).Error; err != nil {
		return nil, fmt.Errorf("count public awards: %w", err)
	}
	out := &PublicAwards{Pager: paging.Of(int(n), AwardsPageSize, f.Page)}
	var rows []awardRow
	if err := confirmed().Select("a.competition_id, c.reference, c.title, c.regime, c.framework_id, f.reference AS framework_reference, " +
		"f.title AS framework_title, o.name AS supplier_name, a.confirmed_at").
		Order("a.confirmed_at DESC, c.reference").Limit(AwardsPageSize).Offset(out.Offset()).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list public awards: %w", err)
	}
	if len(rows) > 0 {
		ids := make([]string, len(rows))
		out.Awards = make([]PublicAward, len(rows))
		for i, r := range rows {
			out.Awards[i] = PublicAward{CompetitionID: r.CompetitionID, Reference: r.Reference, Title: r.Title, Regime: r.Regime,
				FrameworkID: r.FrameworkID, FrameworkReference: r.FrameworkReference, FrameworkTitle: r.FrameworkTitle,
				SupplierName: r.SupplierName, ConfirmedAt: r.ConfirmedAt.UTC()}
			ids[i] = r.CompetitionID
		}
		var made []Contract
		if err := db.Preload("Organisation").Where("competition_id IN ?", ids).Order("reference").Find(&made).Error; err != nil {
			return nil, fmt.Errorf("read awarded contracts: %w", err)
		}
		for _, c := range made {
			c.utc()
			for i := range out.Awards {
				if out.Awards[i].CompetitionID == c.CompetitionID {
					out.Awards[i].Contracts = append(out.Awards[i].Contracts, c)
				}
			}
		}
	}
	var err error
	if out.Trusts, err = awardChoices(db, "k.organisation_id"); err != nil {
		return nil, err
	}
	if out.Suppliers, err = awardChoices(db, "k.supplier_org_id"); err != nil {
		return nil, err
	}
	return out, nil
}

// awardRow is a confirmed award as the list query reads it.
type awardRow struct {
	CompetitionID, Reference, Title, Regime         string
	FrameworkID, FrameworkReference, FrameworkTitle string
	SupplierName                                    string
	ConfirmedAt                                     time.Time
}

// awardChoices lists, by name, the organisations named in column of the
// confirmed awards' contracts (k).
func awardChoices(db *gorm.DB, column string) ([]Choice, error) {
	var out []Choice
	err := db.Table("organisations").Select("id, name").
		Where("id IN (SELECT " + column + " FROM contracts k JOIN competition_awards a ON a.competition_id = k.competition_id WHERE a.confirmed_at IS NOT NULL)").
		Order("name, id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list award choices: %w", err)
	}
	return out, nil
}
