package evaluation

import (
	"context"
	"fmt"
	"sort"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
)

// BidResult is where one opened bid stands once moderation is complete.
type BidResult struct {
	Bid competition.Bid
	// Passed is false when the consensus failed the bid on a pass/fail
	// requirement (Failed lists them); such a bid gets no price points and
	// no rank.
	Passed bool
	Failed []competition.Requirement
	// Consensus is the moderation, in requirement order.
	Consensus []Consensus
	// Quality is the sum over the weighted requirements of consensus mark
	// / 4 x requirement weight, times QualityWeight / 100; Price the price
	// points (PricePoints); Total their sum. All rounded to two decimal
	// places (see round2).
	Quality float64
	Price   float64
	Total   float64
	// TotalPrice is the bid's total price in pence over every buying
	// trust; Prices is it per buying trust (organisation ID).
	TotalPrice int64
	Prices     map[string]int64
	// Rank is 1 for the best; bids still equal after the tie-break share a
	// rank (Tied) and the next rank skips (1, 1, 3). 0: not ranked.
	Rank int
	Tied bool
}

// Results are the outcome of a competition's evaluation.
type Results struct {
	CompetitionID string
	QualityWeight int
	PriceWeight   int
	PriceFormula  string
	TieBreak      string
	// Lowest is the lowest total price among the bids that passed every
	// gate, in pence (0 when none did).
	Lowest int64
	// Bids are the ranked bids by rank and then supplier name, then the
	// bids that failed a gate by supplier name.
	Bids []BidResult
}

// For returns the result of a bid.
func (r *Results) For(bidID string) (BidResult, bool) {
	for _, b := range r.Bids {
		if b.Bid.ID == bidID {
			return b, true
		}
	}
	return BidResult{}, false
}

// Top lists the bids ranked first: one, or several tied; none when no bid
// passed every gate.
func (r *Results) Top() []BidResult {
	var out []BidResult
	for _, b := range r.Bids {
		if b.Rank == 1 {
			out = append(out, b)
		}
	}
	return out
}

// Rank sets the ranks and puts the results in their order (see
// BidResult.Rank and Results.Bids): the bids that passed every gate by
// total points, highest first; equal totals are broken by the rule
// (TieBreakQuality: more quality points first; TieBreakPrice: lower total
// price first); bids equal after that share a rank. Failed bids come last,
// unranked.
func Rank(bids []BidResult, tieBreak string) {
	// cmp is -1 when a ranks above b, 1 below, 0 tied.
	cmp := func(a, b BidResult) int {
		switch {
		case a.Total != b.Total:
			return order(a.Total > b.Total)
		case tieBreak == TieBreakQuality && a.Quality != b.Quality:
			return order(a.Quality > b.Quality)
		case tieBreak == TieBreakPrice && a.TotalPrice != b.TotalPrice:
			return order(a.TotalPrice < b.TotalPrice)
		}
		return 0
	}
	sort.SliceStable(bids, func(i, j int) bool {
		a, b := bids[i], bids[j]
		switch {
		case a.Passed != b.Passed:
			return a.Passed
		case a.Passed:
			if c := cmp(a, b); c != 0 {
				return c < 0
			}
		}
		return a.Bid.Supplier.Name < b.Bid.Supplier.Name
	})
	for i := range bids {
		bids[i].Rank, bids[i].Tied = 0, false
		switch {
		case !bids[i].Passed:
		case i > 0 && bids[i-1].Passed && cmp(bids[i-1], bids[i]) == 0:
			bids[i].Rank = bids[i-1].Rank
			bids[i].Tied, bids[i-1].Tied = true, true
		default:
			bids[i].Rank = i + 1
		}
	}
}

func order(first bool) int {
	if first {
		return -1
	}
	return 1
}

// results works out the results from the moderation; ErrNotModerated
// until every opened bid is moderated.
func (b *book) results(db *gorm.DB) (*Results, error) {
	mods, err := moderationsOf(db, b.c.ID)
	if err != nil {
		return nil, err
	}
	if len(mods) < len(b.bids) {
		return nil, fmt.Errorf("%w: %d of %d bids moderated", ErrNotModerated, len(mods), len(b.bids))
	}
	ids := b.bidIDs()
	cons, err := consensusOf(db, ids)
	if err != nil {
		return nil, err
	}
	totals, err := totalsOf(db, ids)
	if err != nil {
		return nil, err
	}
	out := &Results{CompetitionID: b.c.ID, QualityWeight: b.c.QualityWeight, PriceWeight: b.c.PriceWeight,
		PriceFormula: b.rules.PriceFormula, TieBreak: b.rules.TieBreak}
	for _, bid := range b.bids {
		r := BidResult{Bid: bid, Passed: true, Prices: totals[bid.ID]}
		for _, p := range r.Prices {
			r.TotalPrice += p
		}
		quality := 0.0
		for _, req := range b.reqs {
			c, ok := cons[bid.ID][req.ID]
			if ok {
				r.Consensus = append(r.Consensus, c)
			}
			switch {
			case !req.Weighted():
				if !ok || c.Pass == nil || !*c.Pass {
					r.Passed = false
					r.Failed = append(r.Failed, req)
				}
			case ok && c.Score != nil:
				quality += float64(*c.Score) / framework.MaxMark * float64(req.Weight)
			}
		}
		r.Quality = round2(quality * float64(b.c.QualityWeight) / 100)
		out.Bids = append(out.Bids, r)
	}
	first := true
	for _, r := range out.Bids {
		if r.Passed && (first || r.TotalPrice < out.Lowest) {
			out.Lowest, first = r.TotalPrice, false
		}
	}
	for i := range out.Bids {
		r := &out.Bids[i]
		if r.Passed {
			if r.Price, err = PricePoints(out.PriceFormula, b.c.PriceWeight, out.Lowest, r.TotalPrice); err != nil {
				return nil, err
			}
		}
		r.Total = round2(r.Quality + r.Price)
	}
	Rank(out.Bids, out.TieBreak)
	return out, nil
}

// mayView refuses unless the actor may see the results and the report: a
// trust lead of the lead trust who declared no conflict with any bidder
// (ErrConflictedLead), or, once the award is recommended, a board member
// of one of the buying trusts, who approve it from them.
func (b *book) mayView(db *gorm.DB, actor audit.Actor) error {
	r, err := b.reader(db, actor)
	if err != nil {
		return err
	}
	if r.Lead {
		if r.Conflicted() {
			return ErrConflictedLead
		}
		return nil
	}
	if b.rules.RecommendedAt != nil {
		buyers, err := competition.BuyersOf(db, b.c.ID)
		if err != nil {
			return err
		}
		for _, by := range buyers {
			ok, err := competition.HasRole(db, actor.UserID, by.OrganisationID, authz.BoardMember)
			if err != nil || ok {
				return err
			}
		}
	}
	return competition.ErrForbidden
}

// Results returns the competition's results once every opened bid is
// moderated (ErrNotModerated before), to those mayView lets see them;
// refusals are audited.
func (s *Service) Results(ctx context.Context, actor audit.Actor, competitionID string) (*Results, error) {
	db, b, err := s.readAs(ctx, actor, "evaluation.results.read", competitionID, func(db *gorm.DB, b *book) error { return b.mayView(db, actor) })
	if err != nil {
		return nil, err
	}
	return b.results(db)
}
