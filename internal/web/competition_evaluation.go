package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// The evaluation of a mini-competition's opened bids (internal/evaluation):
// the overview with the lead trust's settings and the recommendation (this
// file), the declaration of interests, marking and moderation
// (competition_marks.go) and the award report (competition_report.go). The
// evaluation service decides every read and change again and audits its
// refusals; these handlers parse, ask it, and show the answer or redirect.

// evalAccess is how the viewer stands towards a competition's evaluation,
// for deciding what the pages offer.
type evalAccess struct {
	C *competition.Competition
	// Lead: a trust lead of the lead trust, who sets the rules, moderates
	// and recommends.
	Lead bool
	// Panel: a member of the evaluation panel, who declares and scores.
	Panel bool
}

// Keyholder reports whether the viewer takes part in the evaluation.
func (a *evalAccess) Keyholder() bool { return a.Lead || a.Panel }

// evaluationPath is the competition's evaluation overview.
func evaluationPath(id string) string { return competition.CompetitionPath(id) + "/evaluation" }

// evaluationAccess loads the competition in the URL for its evaluation
// pages: a panel member, or a user of one of its buying trusts
// (bidsCompetition: 404 and audited for anyone else).
func (s *Server) evaluationAccess(c echo.Context) (*evalAccess, error) {
	comp, lead, keyholder, err := s.bidsCompetition(c)
	if err != nil {
		return nil, err
	}
	a := &evalAccess{C: comp, Lead: lead, Panel: keyholder && !lead}
	if lead {
		if a.Panel, err = s.Competition.OnPanel(c.Request().Context(), comp.ID, viewer(c).User.ID); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// evaluationMember is evaluationAccess for the pages of those taking part:
// anyone else gets 404, audited as action.
func (s *Server) evaluationMember(c echo.Context, action string) (*evalAccess, error) {
	a, err := s.evaluationAccess(c)
	if err != nil {
		return nil, err
	}
	if !a.Keyholder() {
		s.auditDenied(c, action, "competition", a.C.ID)
		return nil, errNotFound
	}
	return a, nil
}

// evaluationLead is evaluationAccess for the lead trust's pages.
func (s *Server) evaluationLead(c echo.Context, action string) (*evalAccess, error) {
	a, err := s.evaluationAccess(c)
	if err != nil {
		return nil, err
	}
	if !a.Lead {
		s.auditDenied(c, action, "competition", a.C.ID)
		return nil, errNotFound
	}
	return a, nil
}

// option is one choice of a radio group.
type option struct{ Key, Label string }

// sectionLabel names a requirement section; requirements without one are
// the general requirements, as framework.Sections calls them.
func sectionLabel(title string) string {
	if strings.TrimSpace(title) == "" {
		return "General requirements"
	}
	return title
}

// evaluationView is what the overview shows.
type evaluationView struct {
	*evalAccess
	Rules    *evaluation.Rules
	Progress []evaluation.Progress
	// Declared are the viewer's own declarations by supplier.
	Declared map[string]competition.Declaration
	// Mine are the panel member's own evaluations, by bid, of the bids
	// they may score.
	Mine map[string]*evaluation.Evaluation
	// For the lead: the panel with its sections, the sections, the
	// results once moderated (nil for a lead who declared a conflict:
	// Conflicted) and the recommendation.
	Members        []evaluation.PanelMember
	Sections       []string
	Results        *evaluation.Results
	Conflicted     bool
	Recommendation *evaluation.Recommendation
	// Board: a board member of a buying trust, who may read the report
	// once the award is recommended.
	Board bool
	// typed are the sections ticked on a form shown again, by member.
	typed map[string][]string
}

// Stage is where the evaluation has got to, in words.
func (v *evaluationView) Stage() string {
	switch {
	case v.C.Status == competition.StatusCancelled:
		return "Cancelled"
	case v.C.OpenedAt == nil:
		return "Bids not opened yet"
	case v.Rules.RecommendedAt != nil:
		return "Award recommended"
	case v.Rules.ModeratedAt != nil:
		return "Moderated"
	}
	return "Being evaluated"
}

// Open reports whether the evaluation can still change.
func (v *evaluationView) Open() bool {
	return v.C.Status != competition.StatusCancelled && v.Rules.RecommendedAt == nil
}

// FormulaOpen reports whether the price formula can still change: until
// the first bid is moderated.
func (v *evaluationView) FormulaOpen() bool {
	return v.Open() && !slices.ContainsFunc(v.Progress, func(p evaluation.Progress) bool { return p.Moderated != nil })
}

// TieBreakOpen reports whether the tie-break rule can still change: until
// moderation is complete.
func (v *evaluationView) TieBreakOpen() bool { return v.Open() && v.Rules.ModeratedAt == nil }

// SectionsOpen reports whether the members' sections can still change:
// until the first marks are submitted.
func (v *evaluationView) SectionsOpen() bool {
	return v.Open() && !slices.ContainsFunc(v.Progress, func(p evaluation.Progress) bool { return p.Submitted > 0 })
}

// Formulas are the price formulas to choose from.
func (v *evaluationView) Formulas() []option {
	out := make([]option, len(evaluation.Formulas))
	for i, f := range evaluation.Formulas {
		out[i] = option{f, evaluation.FormulaLabel(f)}
	}
	return out
}

// TieBreaks are the tie-break rules to choose from.
func (v *evaluationView) TieBreaks() []option {
	out := make([]option, len(evaluation.TieBreaks))
	for i, r := range evaluation.TieBreaks {
		out[i] = option{r, evaluation.TieBreakLabel(r)}
	}
	return out
}

// FormulaLabel and TieBreakLabel are the rules recorded, in words.
func (v *evaluationView) FormulaLabel() string { return evaluation.FormulaLabel(v.Rules.PriceFormula) }

// TieBreakLabel: see FormulaLabel.
func (v *evaluationView) TieBreakLabel() string { return evaluation.TieBreakLabel(v.Rules.TieBreak) }

// Checked reports whether a section's box is ticked for a member: as
// typed on a form shown again, otherwise as stored.
func (v *evaluationView) Checked(m evaluation.PanelMember, section string) bool {
	if typed, ok := v.typed[m.UserID]; ok {
		return slices.Contains(typed, section)
	}
	return slices.Contains(m.Sections, section)
}

// Undeclared reports whether the viewer has still to declare their
// interests.
func (v *evaluationView) Undeclared() bool { return len(v.Declared) == 0 }

// MyStatus is where the panel member's own marks for a bid stand.
func (v *evaluationView) MyStatus(p evaluation.Progress) string {
	status, _ := v.myStatus(p)
	return status
}

// MayScore reports whether the panel member may open the bid to score it
// (or read their marks).
func (v *evaluationView) MayScore(p evaluation.Progress) bool {
	_, open := v.myStatus(p)
	return open
}

func (v *evaluationView) myStatus(p evaluation.Progress) (status string, open bool) {
	d, declared := v.Declared[p.Bid.SupplierOrgID]
	e := v.Mine[p.Bid.ID]
	switch {
	case !declared:
		return "Declare your interests first", false
	case d.Conflict:
		return "You declared a conflict of interest: you do not see or score this bid", false
	case e == nil || len(e.Requirements) == 0:
		return "Nothing for you to score", false
	case e.Submitted():
		return "Submitted", true
	case len(e.Marks) > 0:
		return "Draft saved: " + strconv.Itoa(len(e.Marks)) + " of " + strconv.Itoa(len(e.Requirements)) + " marked", true
	}
	return "Not started", true
}

// Moderated counts the moderated bids.
func (v *evaluationView) Moderated() int {
	n := 0
	for _, p := range v.Progress {
		if p.Moderated != nil {
			n++
		}
	}
	return n
}

// SupplierOf names the supplier of a bid.
func (v *evaluationView) SupplierOf(bidID string) string {
	for _, p := range v.Progress {
		if p.Bid.ID == bidID {
			return p.Bid.Supplier.Name
		}
	}
	return ""
}

// competitionEvaluation is the evaluation overview.
func (s *Server) competitionEvaluation(c echo.Context) error {
	a, err := s.evaluationAccess(c)
	if err != nil {
		return err
	}
	return s.renderEvaluationOverview(c, http.StatusOK, a, nil, nil)
}

// loadEvaluationView reads what the overview shows the viewer.
func (s *Server) loadEvaluationView(c echo.Context, a *evalAccess) (*evaluationView, error) {
	ctx := c.Request().Context()
	v := &evaluationView{evalAccess: a, Declared: map[string]competition.Declaration{}, Mine: map[string]*evaluation.Evaluation{}}
	var err error
	if v.Rules, err = s.Evaluation.Rules(ctx, a.C.ID); err != nil {
		return nil, err
	}
	if !a.Keyholder() {
		// Another user of a buying trust: the report, for its board.
		buyers, err := s.Competition.Buyers(ctx, a.C.ID)
		if err != nil {
			return nil, err
		}
		for i := range buyers {
			v.Board = v.Board || s.may(c, &buyers[i].Organisation, "award", "decide")
		}
		return v, nil
	}
	if v.Progress, err = s.Evaluation.Progress(ctx, actor(c), a.C.ID); err != nil {
		return nil, err
	}
	mine, err := s.Competition.MyDeclarations(ctx, a.C.ID, viewer(c).User.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range mine {
		v.Declared[d.SupplierOrgID] = d
		v.Conflicted = v.Conflicted || d.Conflict
	}
	if a.Panel {
		for _, p := range v.Progress {
			if d, ok := v.Declared[p.Bid.SupplierOrgID]; !ok || d.Conflict {
				continue // asking would be refused, and the refusal audited
			}
			if v.Mine[p.Bid.ID], err = s.Evaluation.MyScores(ctx, actor(c), p.Bid.ID); err != nil {
				return nil, err
			}
		}
	}
	if !a.Lead {
		return v, nil
	}
	if v.Members, err = s.Evaluation.Panel(ctx, a.C.ID); err != nil {
		return nil, err
	}
	if v.Sections, err = s.Evaluation.Sections(ctx, a.C.ID); err != nil {
		return nil, err
	}
	if v.Rules.ModeratedAt != nil && !v.Conflicted {
		v.Results, err = s.Evaluation.Results(ctx, actor(c), a.C.ID)
		if errors.Is(err, evaluation.ErrNotModerated) {
			v.Results, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	v.Recommendation, err = s.Evaluation.Recommendation(ctx, a.C.ID)
	if errors.Is(err, evaluation.ErrNoRecommendation) {
		v.Recommendation, err = nil, nil
	}
	return v, err
}

// renderEvaluationOverview shows the overview; after a refused change,
// with its errors and what was typed (typed: the sections ticked).
func (s *Server) renderEvaluationOverview(c echo.Context, status int, a *evalAccess, formErr error, typed map[string][]string) error {
	v, err := s.loadEvaluationView(c, a)
	if err != nil {
		return err
	}
	v.typed = typed
	p := s.formPage(c, "Evaluation: "+a.C.Title, formErr)
	stored := map[string][]string{
		"price_formula": {v.Rules.PriceFormula}, "tie_break": {v.Rules.TieBreak},
		"quorum": {strconv.Itoa(evaluation.DefaultQuorum)},
	}
	if v.Results != nil {
		if top := v.Results.Top(); len(top) == 1 {
			stored["bid"] = []string{top[0].Bid.ID}
		}
	}
	p.Form = stored
	if formErr != nil {
		p.Form = keepTyped(c, stored)
	}
	p.BackURL = competition.CompetitionPath(a.C.ID)
	p.Data = v
	return s.render(c, status, "competition_evaluation", p)
}

// competitionEvaluationChange runs one of the lead's changes on the
// overview and redirects to it with a confirmation, or shows it again with
// the problem and what was typed.
func (s *Server) competitionEvaluationChange(c echo.Context, action, flash string, typed map[string][]string, change func(a *evalAccess) error) error {
	a, err := s.evaluationLead(c, action)
	if err != nil {
		return err
	}
	err = change(a)
	if _, ok := validate.As(err); ok {
		return s.renderEvaluationOverview(c, http.StatusBadRequest, a, err, typed)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		return s.renderEvaluationOverview(c, http.StatusConflict, a,
			newErrors(evaluation.FieldState, "Someone else changed the evaluation at the same time. Check the page and make your change again"), typed)
	case errors.Is(err, competition.ErrForbidden), errors.Is(err, store.ErrNotFound):
		return errNotFound
	case err != nil:
		return err
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, evaluationPath(a.C.ID))
}

// evaluationPriceFormula records how price is scored.
func (s *Server) evaluationPriceFormula(c echo.Context) error {
	return s.competitionEvaluationChange(c, "evaluation.price_formula.set", "evaluation-formula-saved", nil, func(a *evalAccess) error {
		return s.Evaluation.SetPriceFormula(c.Request().Context(), actor(c), a.C.ID, c.FormValue("price_formula"))
	})
}

// evaluationTieBreak records the tie-break rule.
func (s *Server) evaluationTieBreak(c echo.Context) error {
	return s.competitionEvaluationChange(c, "evaluation.tie_break.set", "evaluation-tie-break-saved", nil, func(a *evalAccess) error {
		return s.Evaluation.SetTieBreak(c.Request().Context(), actor(c), a.C.ID, c.FormValue("tie_break"))
	})
}

// evaluationSections restricts a panel member to the sections ticked
// (none: every section). The member's form on the page has its own
// error field, sections-<user ID>.
func (s *Server) evaluationSections(c echo.Context) error {
	user := c.Param("user")
	form, _ := c.FormParams()
	typed := map[string][]string{user: form["section"]}
	return s.competitionEvaluationChange(c, "evaluation.sections.set", "evaluation-sections-saved", typed, func(a *evalAccess) error {
		err := s.Evaluation.SetSections(c.Request().Context(), actor(c), a.C.ID, user, form["section"])
		if ve, ok := validate.As(err); ok {
			out := &validate.Errors{}
			for _, e := range ve.List {
				out.Add("sections-"+user, e.Message)
			}
			return out
		}
		return err
	})
}

// evaluationRecommend records the lead's award recommendation.
func (s *Server) evaluationRecommend(c echo.Context) error {
	return s.competitionEvaluationChange(c, "evaluation.recommend", "award-recommended", nil, func(a *evalAccess) error {
		form, _ := c.FormParams()
		var v validate.Errors
		quorum := 0
		if typed := strings.TrimSpace(form.Get(evaluation.FieldQuorum)); typed != "" {
			n, err := strconv.Atoi(typed)
			if err != nil {
				v.Add(evaluation.FieldQuorum, "Enter how many approvals each buying trust's board must give as a whole number from 1 to 5, such as 2")
			}
			quorum = n
		}
		// A date alone: the boards have until 5pm (UK time) that day.
		due, ok := dateTimeInput(form, evaluation.FieldApprovalDue)
		if !ok {
			v.Add(evaluation.FieldApprovalDue, "The approval date must be a real date, for example 30 4 2027")
		}
		if err := v.Err(); err != nil {
			return err
		}
		_, err := s.Evaluation.Recommend(c.Request().Context(), actor(c), evaluation.RecommendationInput{
			CompetitionID: a.C.ID, BidID: form.Get(evaluation.FieldBid), Rationale: form.Get(evaluation.FieldRationale),
			Quorum: quorum, ApprovalDue: due,
		})
		return err
	})
}
