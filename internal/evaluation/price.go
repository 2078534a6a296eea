package evaluation

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/validate"
)

// Price formulas: how a bid's total price (summed over the buying trusts'
// price schedules, in pence) becomes price points out of the
// competition's price weight. Only bids that pass every pass/fail gate
// take part; "lowest" is the lowest total among them.
const (
	// FormulaLowestOverBid: lowest total / bid total x price weight. The
	// lowest bid gets the full weight; one twice the price gets half.
	FormulaLowestOverBid = "lowest_over_bid"
	// FormulaLinear: price weight x max(0, 1 - (bid - lowest) / lowest).
	// Points fall in proportion to how far the bid is above the lowest,
	// reaching 0 at twice the lowest price.
	FormulaLinear = "linear"
)

// Formulas are the price formulas, in the order a form offers them.
var Formulas = []string{FormulaLowestOverBid, FormulaLinear}

// FormulaLabel is the formula as people read it.
func FormulaLabel(f string) string {
	switch f {
	case FormulaLowestOverBid:
		return "Lowest price divided by the bid's price, times the price weight"
	case FormulaLinear:
		return "The price weight, less the same share of it as the bid's price is above the lowest (no points at twice the lowest)"
	}
	return f
}

// Tie-break rules: which of two bids with equal total points ranks higher.
const (
	// TieBreakQuality: the one with more quality points.
	TieBreakQuality = "quality"
	// TieBreakPrice: the one with the lower total price.
	TieBreakPrice = "price"
)

// TieBreaks are the tie-break rules, in the order a form offers them.
var TieBreaks = []string{TieBreakQuality, TieBreakPrice}

// TieBreakLabel is the rule as people read it.
func TieBreakLabel(r string) string {
	switch r {
	case TieBreakQuality:
		return "Higher quality points"
	case TieBreakPrice:
		return "Lower total price"
	case "":
		return "Not recorded yet"
	}
	return r
}

// Points are float64 rounded to two decimal places (hundredths of a
// point), the precision the report shows. Each part (quality, price) is
// rounded on its own and the total is the rounded sum of the rounded
// parts, so the figures printed always add up and equal figures compare
// equal exactly: ranking compares the rounded values, so two bids whose
// points differ by less than a hundredth are tied.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// PricePoints are a bid's price points out of priceWeight under the
// formula, given the lowest total price among the bids that passed every
// gate and the bid's own total (both in pence), rounded to two decimal
// places. A bid at the lowest price gets the full weight under both
// formulas; when the lowest price is zero, so does any other free bid and
// a priced one gets none. It fails only for an unknown formula.
func PricePoints(formula string, priceWeight int, lowest, total int64) (float64, error) {
	w := float64(priceWeight)
	switch {
	case !slices.Contains(Formulas, formula):
		return 0, fmt.Errorf("unknown price formula %q", formula)
	case total <= lowest:
		return round2(w), nil
	case lowest <= 0:
		return 0, nil
	}
	var p float64
	switch formula {
	case FormulaLowestOverBid:
		p = float64(lowest) / float64(total) * w
	case FormulaLinear:
		p = w * max(0, 1-float64(total-lowest)/float64(lowest))
	}
	return round2(p), nil
}

// SetPriceFormula records how price is scored. Only a trust lead of the
// lead trust may (ErrForbidden, audited), until the first bid is
// moderated: moderation works from a known formula.
func (s *Service) SetPriceFormula(ctx context.Context, actor audit.Actor, competitionID, formula string) error {
	const action = "evaluation.price_formula.set"
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		b, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var v validate.Errors
		var moderated int64
		if err := tx.Model(&moderationRow{}).Where("competition_id = ?", b.c.ID).Count(&moderated).Error; err != nil {
			return fmt.Errorf("count moderations: %w", err)
		}
		switch {
		case b.c.Status == competition.StatusCancelled:
			v.Add(FieldPriceFormula, "The competition has been cancelled, so its evaluation can no longer change")
		case moderated > 0:
			v.Add(FieldPriceFormula, "Moderation has started, so the price formula can no longer change")
		case !slices.Contains(Formulas, formula):
			v.Add(FieldPriceFormula, "Choose how price is scored: lowest price over the bid's price, or linear")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Exec("UPDATE competitions SET price_formula = ? WHERE id = ?", formula, b.c.ID).Error; err != nil {
			return fmt.Errorf("set price formula: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition", ObjectID: b.c.ID,
			Detail: map[string]any{"from": b.rules.PriceFormula, "to": formula}})
	})
	return s.refused(ctx, actor, action, "competition", competitionID, err)
}

// SetTieBreak records the tie-break rule. Only a trust lead of the lead
// trust may (ErrForbidden, audited), until moderation is complete: the
// rule must be on record before the results exist, and moderating the
// last bid needs it.
func (s *Service) SetTieBreak(ctx context.Context, actor audit.Actor, competitionID, rule string) error {
	const action = "evaluation.tie_break.set"
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		b, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var v validate.Errors
		switch {
		case b.c.Status == competition.StatusCancelled:
			v.Add(FieldTieBreak, "The competition has been cancelled, so its evaluation can no longer change")
		case b.rules.ModeratedAt != nil:
			v.Add(FieldTieBreak, "Moderation is complete, so the tie-break rule can no longer change")
		case !slices.Contains(TieBreaks, rule):
			v.Add(FieldTieBreak, "Choose how a tie is broken: higher quality points or lower total price")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Exec("UPDATE competitions SET tie_break = ? WHERE id = ?", rule, b.c.ID).Error; err != nil {
			return fmt.Errorf("set tie-break rule: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition", ObjectID: b.c.ID,
			Detail: map[string]any{"from": b.rules.TieBreak, "to": rule}})
	})
	return s.refused(ctx, actor, action, "competition", competitionID, err)
}

// lockAsLead locks the competition's evaluation for a change only a trust
// lead of the lead trust makes.
func (s *Service) lockAsLead(tx *gorm.DB, actor audit.Actor, competitionID string) (*book, error) {
	b, err := lock(tx, competitionID)
	if err != nil {
		return nil, err
	}
	r, err := b.reader(tx, actor)
	if err != nil {
		return nil, err
	}
	if err := requireLead(r); err != nil {
		return nil, err
	}
	return b, nil
}
