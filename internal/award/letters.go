package award

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/evaluation"
)

// letter is one bidder's award letter, before the competition's name and
// the standstill are filled in.
type letter struct {
	SupplierOrgID string
	Data          map[string]any
}

// letters makes the award letter of every bidder whose bid was opened from
// its assessment summary: its own consensus marks and points against the
// winning bid's, per requirement, and the recommendation's reasons. They
// are worked out before the sending transaction opens (the evaluation
// reads on its own connection).
func (s *Service) letters(ctx context.Context, competitionID string, rec *evaluation.Recommendation) ([]letter, error) {
	var bidders []string
	if err := s.DB.WithContext(ctx).Model(&competition.Bid{}).Where("competition_id = ? AND status = ?", competitionID, competition.BidOpened).
		Order("supplier_org_id").Pluck("supplier_org_id", &bidders).Error; err != nil {
		return nil, fmt.Errorf("read bidders: %w", err)
	}
	out := make([]letter, 0, len(bidders))
	for _, id := range bidders {
		sum, err := s.Evaluation.AssessmentSummary(ctx, competitionID, id)
		if err != nil {
			return nil, fmt.Errorf("assessment summary of %s: %w", id, err)
		}
		out = append(out, letter{SupplierOrgID: id, Data: letterData(sum, rec)})
	}
	return out, nil
}

// letterData is the template data of an award letter (notify kind
// assessment_summary); marks and points are written out, since the
// notification stores its data as JSON.
func letterData(sum *evaluation.AssessmentSummary, rec *evaluation.Recommendation) map[string]any {
	criteria := make([]map[string]any, 0, len(sum.Lines))
	for _, l := range sum.Lines {
		name := l.Reference + " " + l.Text
		if !l.PassFail {
			name += " (weight " + strconv.Itoa(l.Weight) + ")"
		}
		criteria = append(criteria, map[string]any{"Name": name, "Own": markText(l.Own), "Winner": markText(l.Winner)})
	}
	return map[string]any{
		"Organisation": sum.SupplierName, "Successful": sum.Successful, "Winner": sum.WinnerName,
		"Criteria": criteria, "Own": pointsText(sum.Own), "Winning": pointsText(sum.Winner), "Reasons": rec.Rationale,
	}
}

// markText is a consensus mark in words.
func markText(m evaluation.SummaryMark) string {
	switch {
	case m.Pass != nil && *m.Pass:
		return "pass"
	case m.Pass != nil:
		return "fail"
	case m.Score != nil:
		return strconv.Itoa(*m.Score) + " of 4"
	}
	return "not marked"
}

// pointsText is a bid's points in words.
func pointsText(p evaluation.SummaryPoints) string {
	if !p.Passed {
		return "did not pass every pass/fail requirement, so it was not ranked"
	}
	return fmt.Sprintf("%.2f out of 100 (quality %.2f, price %.2f)", p.Total, p.Quality, p.Price)
}
