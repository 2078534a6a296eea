package evaluation_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/orgs"
)

// TestPricePoints: both formulas, on equal prices, a single or free bid,
// very different prices and prices that need rounding to hundredths of a
// point.
func TestPricePoints(t *testing.T) {
	const lob, lin = evaluation.FormulaLowestOverBid, evaluation.FormulaLinear
	for _, tc := range []struct {
		name          string
		formula       string
		weight        int
		lowest, total int64
		want          float64
	}{
		{"lowest bid, lowest over bid", lob, 40, 100_000, 100_000, 40},
		{"lowest bid, linear", lin, 40, 100_000, 100_000, 40},
		{"equal prices get equal points", lob, 40, 2_051_100, 2_051_100, 40},
		{"single bid is its own lowest", lin, 30, 987_654_321, 987_654_321, 30},
		{"free bid, lowest over bid", lob, 40, 0, 0, 40},
		{"free bid, linear", lin, 40, 0, 0, 40},
		{"priced bid against a free one, lowest over bid", lob, 40, 0, 500, 0},
		{"priced bid against a free one, linear", lin, 40, 0, 500, 0},
		{"twice the lowest, lowest over bid", lob, 40, 100, 200, 20},
		{"twice the lowest, linear", lin, 40, 100, 200, 0},
		{"half again, lowest over bid", lob, 40, 100, 150, 26.67},
		{"half again, linear", lin, 40, 100, 150, 20},
		{"a third over, rounding, lowest over bid", lob, 40, 300, 400, 30},
		{"rounding down, lowest over bid", lob, 40, 100, 300, 13.33},
		{"rounding up, linear", lin, 40, 300, 301, 39.87},
		{"very different prices, lowest over bid", lob, 40, 1, 1_000_000_000_000, 0},
		{"very different prices, linear", lin, 40, 1, 1_000_000_000_000, 0},
		{"far above the lowest, linear, never negative", lin, 40, 100, 1_000, 0},
		{"large totals keep their ratio", lob, 50, 4_000_000_000_000_000, 8_000_000_000_000_000, 25},
		{"no price weight", lob, 0, 100, 150, 0},
		{"the whole weight on price", lin, 100, 1_000, 1_250, 75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evaluation.PricePoints(tc.formula, tc.weight, tc.lowest, tc.total)
			if err != nil || got != tc.want {
				t.Fatalf("PricePoints(%s, %d, %d, %d) = %v (err %v), want %v", tc.formula, tc.weight, tc.lowest, tc.total, got, err, tc.want)
			}
		})
	}
	if _, err := evaluation.PricePoints("cheapest_wins", 40, 1, 2); err == nil {
		t.Fatal("an unknown formula gave points")
	}
}

// TestRank: total points first; equal totals broken by the recorded rule
// (higher quality points, or lower total price); bids still equal share a
// rank and the next rank skips; bids that failed a gate come last,
// unranked, however many points they have.
func TestRank(t *testing.T) {
	bid := func(name string, passed bool, quality, price float64, pence int64) evaluation.BidResult {
		return evaluation.BidResult{Bid: competition.Bid{ID: name, Supplier: orgs.Organisation{Name: name}}, Passed: passed,
			Quality: quality, Price: price, Total: quality + price, TotalPrice: pence}
	}
	for _, tc := range []struct {
		name     string
		tieBreak string
		bids     []evaluation.BidResult
		want     string // name:rank in order, * for a tie
	}{
		{"by total", evaluation.TieBreakQuality,
			[]evaluation.BidResult{bid("A", true, 30, 20, 200), bid("B", true, 50, 40, 100), bid("C", true, 40, 30, 150)},
			"B:1 C:2 A:3"},
		{"tie broken by quality", evaluation.TieBreakQuality,
			[]evaluation.BidResult{bid("A", true, 48, 40, 70), bid("B", true, 60, 28, 100)},
			"B:1 A:2"},
		{"tie broken by price", evaluation.TieBreakPrice,
			[]evaluation.BidResult{bid("B", true, 60, 28, 100), bid("A", true, 48, 40, 70)},
			"A:1 B:2"},
		{"still tied after quality", evaluation.TieBreakQuality,
			[]evaluation.BidResult{bid("B", true, 50, 30, 100), bid("A", true, 50, 30, 120), bid("C", true, 40, 30, 90)},
			"A:1* B:1* C:3"},
		{"still tied after price", evaluation.TieBreakPrice,
			[]evaluation.BidResult{bid("C", true, 20, 20, 500), bid("B", true, 50, 30, 100), bid("A", true, 40, 40, 100)},
			"A:1* B:1* C:3"},
		{"no rule recorded: equal totals tie", "",
			[]evaluation.BidResult{bid("B", true, 60, 28, 100), bid("A", true, 48, 40, 70)},
			"A:1* B:1*"},
		{"a failed gate is not ranked", evaluation.TieBreakQuality,
			[]evaluation.BidResult{bid("Z", false, 60, 40, 1), bid("B", true, 30, 30, 100), bid("A", false, 10, 0, 5)},
			"B:1 A:0 Z:0"},
		{"nobody passed", evaluation.TieBreakPrice,
			[]evaluation.BidResult{bid("B", false, 60, 40, 1), bid("A", false, 30, 30, 100)},
			"A:0 B:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evaluation.Rank(tc.bids, tc.tieBreak)
			var got []string
			for _, b := range tc.bids {
				s := fmt.Sprintf("%s:%d", b.Bid.Supplier.Name, b.Rank)
				if b.Tied {
					s += "*"
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("ranked %s, want %s", g, tc.want)
			}
		})
	}
}
