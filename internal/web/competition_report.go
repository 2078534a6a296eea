package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/evaluation"
)

// reportView is the printable award report (evaluation.Report) with what
// its page works out for showing it.
type reportView struct {
	*evaluation.Report
	// Back is where the back link goes: the evaluation for those taking
	// part in it, the competition for a board.
	Back string
}

// FormulaLabel and TieBreakLabel are the rules, in words.
func (v *reportView) FormulaLabel() string { return evaluation.FormulaLabel(v.Rules.PriceFormula) }

// TieBreakLabel: see FormulaLabel.
func (v *reportView) TieBreakLabel() string { return evaluation.TieBreakLabel(v.Rules.TieBreak) }

// reportLine is one requirement of a bid's moderation in the report.
type reportLine struct {
	Requirement competition.Requirement
	Consensus   evaluation.Consensus
	Marked      bool
}

// Lines are the bid's consensus marks and rationales, requirement by
// requirement (a bid that failed a gate may leave weighted ones unmarked).
func (v *reportView) Lines(b evaluation.BidResult) []reportLine {
	out := make([]reportLine, len(v.Requirements))
	for i, r := range v.Requirements {
		out[i].Requirement = r
		for _, c := range b.Consensus {
			if c.RequirementID == r.ID {
				out[i].Consensus, out[i].Marked = c, true
			}
		}
	}
	return out
}

// Recommended names the recommended supplier.
func (v *reportView) Recommended() string {
	if v.Recommendation == nil {
		return ""
	}
	if b, ok := v.Results.For(v.Recommendation.BidID); ok {
		return b.Bid.Supplier.Name
	}
	return ""
}

// chartBar is one bid's bar in the chart of total points, in the SVG's
// units: the chart is 1000 wide, bars start at x 300 and 6 units are one
// point (600 for 100 points), each row 48 high.
type chartBar struct {
	Y, Width, TextY, ValueX int
	// Label is the supplier's name, shortened to fit beside the bar; the
	// chart's description and the table carry it in full.
	Label  string
	Total  float64
	Passed bool
	// Supplier is the name in full.
	Supplier string
}

// chartLabel is the longest name shown beside a bar, in characters.
const chartLabel = 30

// Chart places each bid's total points, in ranking order, on the chart.
func (v *reportView) Chart() []chartBar {
	out := make([]chartBar, len(v.Results.Bids))
	for i, b := range v.Results.Bids {
		w := int(b.Total*6 + 0.5)
		label := []rune(b.Bid.Supplier.Name)
		if len(label) > chartLabel {
			label = append(label[:chartLabel-1], '…')
		}
		out[i] = chartBar{Y: 10 + i*48, Width: w, TextY: 10 + i*48 + 25, ValueX: 300 + w + 8,
			Label: string(label), Supplier: b.Bid.Supplier.Name, Total: b.Total, Passed: b.Passed}
	}
	return out
}

// ChartHeight is the chart's height in its units.
func (v *reportView) ChartHeight() int { return 20 + 48*len(v.Results.Bids) }

// evaluationReport is the award report: for the lead trust's trust leads
// once moderation is complete, and for the buying trusts' boards once the
// award is recommended. The domain decides (Report) and audits refusals.
func (s *Server) evaluationReport(c echo.Context) error {
	a, err := s.evaluationAccess(c)
	if err != nil {
		return err
	}
	r, err := s.Evaluation.Report(c.Request().Context(), actor(c), a.C.ID)
	if errors.Is(err, evaluation.ErrNotModerated) {
		return &Error{Status: http.StatusNotFound, Message: "The award report is ready once every opened bid has been moderated."}
	}
	if err != nil {
		return refusedAsNotFound(err)
	}
	v := &reportView{Report: r, Back: competition.CompetitionPath(a.C.ID)}
	if a.Keyholder() {
		v.Back = evaluationPath(a.C.ID)
	}
	p := s.page(c, "Award report: "+a.C.Title)
	p.BackURL = v.Back
	p.Data = v
	return s.renderOK(c, "competition_report", p)
}
