package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// The panel's side of a competition's evaluation: declaring interests,
// marking each bid, and the lead trust's moderation beside the marks.
// Whether the viewer may see a bid (declared, no conflict with its
// supplier) is the domain's rule: its refusals, audited there, are 404
// here.

// evaluatedBid finds the opened bid in the URL among the competition's,
// with its progress. Any other ID (unknown, another competition's, a bid
// excluded at the opening) is 404, audited.
func (s *Server) evaluatedBid(c echo.Context, a *evalAccess) (*evaluation.Progress, error) {
	list, err := s.Evaluation.Progress(c.Request().Context(), actor(c), a.C.ID)
	if errors.Is(err, competition.ErrForbidden) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Bid.ID == c.Param("bid") {
			return &list[i], nil
		}
	}
	s.auditDenied(c, "evaluation.bid.read", "competition_bid", c.Param("bid"))
	return nil, errNotFound
}

// refusedAsNotFound turns the domain's refusals (which it has audited) and
// unknown records into 404.
func refusedAsNotFound(err error) error {
	if errors.Is(err, competition.ErrForbidden) || errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	return err
}

// declarationView is the declaration page: the suppliers of the opened
// bids and what the viewer has declared about each.
type declarationView struct {
	C        *competition.Competition
	Bids     []evaluation.Progress
	Declared map[string]competition.Declaration
}

// ConflictField and DetailsField are the form fields for one supplier.
func (v *declarationView) ConflictField(supplierOrgID string) string {
	return competition.FieldConflict(supplierOrgID)
}

// DetailsField: see ConflictField.
func (v *declarationView) DetailsField(supplierOrgID string) string {
	return competition.FieldConflictDetails(supplierOrgID)
}

// Open reports whether there is anything left to declare: bids opened, and
// a supplier not yet declared a conflict with.
func (v *declarationView) Open() bool {
	if v.C.Status == competition.StatusCancelled {
		return false
	}
	for _, b := range v.Bids {
		if !v.Declared[b.Bid.SupplierOrgID].Conflict {
			return true
		}
	}
	return false
}

// evaluationDeclarationPage is the declaration of interests.
func (s *Server) evaluationDeclarationPage(c echo.Context) error {
	a, err := s.evaluationMember(c, "competition.conflicts.read")
	if err != nil {
		return err
	}
	return s.renderDeclaration(c, http.StatusOK, a, nil)
}

func (s *Server) renderDeclaration(c echo.Context, status int, a *evalAccess, formErr error) error {
	ctx := c.Request().Context()
	bids, err := s.Evaluation.Progress(ctx, actor(c), a.C.ID)
	if err != nil {
		return refusedAsNotFound(err)
	}
	mine, err := s.Competition.MyDeclarations(ctx, a.C.ID, viewer(c).User.ID)
	if err != nil {
		return err
	}
	v := &declarationView{C: a.C, Bids: bids, Declared: map[string]competition.Declaration{}}
	stored := map[string][]string{}
	for _, d := range mine {
		v.Declared[d.SupplierOrgID] = d
		if !d.Conflict {
			stored[competition.FieldConflict(d.SupplierOrgID)] = []string{"no"}
		}
	}
	p := s.formPage(c, "Declare your interests: "+a.C.Title, formErr)
	p.Form = stored
	if formErr != nil {
		p.Form = keepTyped(c, stored)
	}
	p.BackURL = evaluationPath(a.C.ID)
	p.Data = v
	return s.render(c, status, "competition_declaration", p)
}

// evaluationDeclare records the viewer's declarations: for each supplier
// answered, no conflict, or a conflict with its details. Suppliers left
// unanswered are the domain's to insist on.
func (s *Server) evaluationDeclare(c echo.Context) error {
	a, err := s.evaluationMember(c, "competition.conflicts.declare")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	bids, err := s.Evaluation.Progress(ctx, actor(c), a.C.ID)
	if err != nil {
		return refusedAsNotFound(err)
	}
	form, _ := c.FormParams()
	var in []competition.DeclarationInput
	for _, b := range bids {
		id := b.Bid.SupplierOrgID
		switch form.Get(competition.FieldConflict(id)) {
		case "yes":
			in = append(in, competition.DeclarationInput{SupplierOrgID: id, Conflict: true, Details: form.Get(competition.FieldConflictDetails(id))})
		case "no":
			in = append(in, competition.DeclarationInput{SupplierOrgID: id})
		}
	}
	err = s.Competition.DeclareConflicts(ctx, actor(c), a.C.ID, in)
	if _, ok := validate.As(err); ok {
		return s.renderDeclaration(c, http.StatusBadRequest, a, err)
	}
	if err != nil {
		return refusedAsNotFound(err)
	}
	s.flash(c, "conflicts-declared")
	return c.Redirect(http.StatusSeeOther, evaluationPath(a.C.ID)+"/declaration")
}

// evaluationScorePage shows an opened bid beside the panel member's mark
// form, or their submitted marks and, once everyone's are in, the others'.
func (s *Server) evaluationScorePage(c echo.Context) error {
	a, err := s.evaluationMember(c, "evaluation.scores.read")
	if err != nil {
		return err
	}
	p, err := s.evaluatedBid(c, a)
	if err != nil {
		return err
	}
	return s.renderCompetitionScore(c, http.StatusOK, a, p, nil)
}

func (s *Server) renderCompetitionScore(c echo.Context, status int, a *evalAccess, p *evaluation.Progress, formErr error) error {
	ctx := c.Request().Context()
	// The marks first: a conflicted or undeclared evaluator is refused
	// (and audited) before anything of the bid is read.
	mine, err := s.Evaluation.MyScores(ctx, actor(c), p.Bid.ID)
	if err != nil {
		return refusedAsNotFound(err)
	}
	content, err := s.Competition.BidContent(ctx, actor(c), p.Bid.ID)
	if err != nil {
		return refusedAsNotFound(err)
	}
	// Everyone's marks once all are in; asked only then, since asking
	// before is a refusal the domain audits.
	var all *evaluation.BidScores
	if p.Complete() {
		all, err = s.Evaluation.Scores(ctx, actor(c), p.Bid.ID)
		if errors.Is(err, evaluation.ErrScoresHidden) {
			all, err = nil, nil
		}
		if err != nil {
			return refusedAsNotFound(err)
		}
	}
	reqs := make([]framework.LotRequirement, len(mine.Requirements))
	for i, r := range mine.Requirements {
		reqs[i] = r.AsLotRequirement()
	}
	mineBy := map[string]evaluation.Mark{}
	for _, m := range mine.Marks {
		mineBy[m.RequirementID] = m
	}
	allBy := map[string][]othersMark{}
	if all != nil {
		for _, e := range all.Evaluations {
			for _, m := range e.Marks {
				allBy[m.RequirementID] = append(allBy[m.RequirementID], othersMark{Evaluator: e.Evaluator.Name, Pass: m.Pass, Score: m.Score, Justification: m.Justification})
			}
		}
	}
	page := s.formPage(c, p.Bid.Supplier.Name+": "+a.C.Title, formErr)
	if formErr == nil {
		page.Form = nil
	}
	page.BackURL = evaluationPath(a.C.ID)
	page.Data = map[string]any{"C": a.C, "Bid": p.Bid, "Progress": p, "Content": content, "Sections": framework.Sections(reqs),
		"Mine": mine, "MineBy": mineBy, "AllBy": allBy, "AllShown": all != nil, "Marks": markScale}
	return s.render(c, status, "competition_score", page)
}

// markInputs reads the marks of the requirements from a marking form; a
// mark that is not a whole number is a field error.
func markInputs(c echo.Context, reqs []competition.Requirement) ([]evaluation.MarkInput, error) {
	f, _ := c.FormParams()
	var v validate.Errors
	out := make([]evaluation.MarkInput, 0, len(reqs))
	for _, r := range reqs {
		if pass, score, text, ok := markInput(f, r.AsLotRequirement(), &v); ok {
			out = append(out, evaluation.MarkInput{RequirementID: r.ID, Pass: pass, Score: score, Justification: text})
		}
	}
	return out, v.Err()
}

// evaluationScoreSave saves the panel member's marks as a draft, or
// (action=submit) saves and submits them, after which they are final.
func (s *Server) evaluationScoreSave(c echo.Context) error {
	a, err := s.evaluationMember(c, "evaluation.scores.save")
	if err != nil {
		return err
	}
	p, err := s.evaluatedBid(c, a)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	mine, err := s.Evaluation.MyScores(ctx, actor(c), p.Bid.ID)
	if err != nil {
		return refusedAsNotFound(err)
	}
	in, err := markInputs(c, mine.Requirements)
	if err == nil {
		err = s.Evaluation.SaveScores(ctx, actor(c), p.Bid.ID, in)
	}
	submit := c.FormValue("action") == "submit"
	if err == nil && submit {
		err = s.Evaluation.SubmitScores(ctx, actor(c), p.Bid.ID)
	}
	if _, ok := validate.As(err); ok {
		return s.renderCompetitionScore(c, http.StatusBadRequest, a, p, err)
	}
	if err != nil {
		return refusedAsNotFound(err)
	}
	if submit {
		s.flash(c, "scores-submitted")
	} else {
		s.flash(c, "scores-saved")
	}
	return c.Redirect(http.StatusSeeOther, evaluationPath(a.C.ID))
}

// moderationLine is one requirement on the moderation page: the
// supplier's answer, the panel's marks and the consensus recorded so far.
type moderationLine struct {
	Req          framework.LotRequirement
	Answer       framework.Answer
	Marks        []othersMark
	Consensus    evaluation.Consensus
	HasConsensus bool
}

// evaluationModeratePage shows a bid's marks beside the consensus form.
func (s *Server) evaluationModeratePage(c echo.Context) error {
	a, err := s.evaluationLead(c, "evaluation.moderation.read")
	if err != nil {
		return err
	}
	p, err := s.evaluatedBid(c, a)
	if err != nil {
		return err
	}
	return s.renderModeration(c, http.StatusOK, a, p, nil, false)
}

// renderModeration shows the moderation page: until every mark is in, only
// why it cannot start. With keep, the form keeps what was typed.
func (s *Server) renderModeration(c echo.Context, status int, a *evalAccess, p *evaluation.Progress, formErr error, keep bool) error {
	ctx := c.Request().Context()
	rules, err := s.Evaluation.Rules(ctx, a.C.ID)
	if err != nil {
		return err
	}
	data := map[string]any{"C": a.C, "Bid": p.Bid, "Progress": p, "Marks": markScale,
		"Open": a.C.Status != competition.StatusCancelled && rules.RecommendedAt == nil}
	if p.Complete() {
		m, err := s.Evaluation.Moderation(ctx, actor(c), p.Bid.ID)
		if err != nil && !errors.Is(err, evaluation.ErrScoresHidden) {
			return refusedAsNotFound(err)
		}
		if m != nil {
			content, err := s.Competition.BidContent(ctx, actor(c), p.Bid.ID)
			if err != nil {
				return refusedAsNotFound(err)
			}
			lines := make([]moderationLine, len(m.Lines))
			for i, l := range m.Lines {
				lines[i] = moderationLine{Req: l.Requirement.AsLotRequirement(), Answer: content.Answers[l.Requirement.ID]}
				for _, sm := range l.Marks {
					lines[i].Marks = append(lines[i].Marks, othersMark{Evaluator: sm.Evaluator.Name, Pass: sm.Mark.Pass, Score: sm.Mark.Score, Justification: sm.Mark.Justification})
				}
				if l.Consensus != nil {
					lines[i].Consensus, lines[i].HasConsensus = *l.Consensus, true
				}
			}
			data["Moderation"], data["Lines"] = m, lines
		}
	}
	page := s.formPage(c, "Moderate: "+p.Bid.Supplier.Name, formErr)
	if !keep {
		page.Form = nil
	}
	page.ErrorLinks = map[string]string{evaluation.FieldTieBreak: evaluationPath(a.C.ID) + "#" + evaluation.FieldTieBreak}
	page.BackURL = evaluationPath(a.C.ID)
	page.Data = data
	return s.render(c, status, "competition_moderate", page)
}

// evaluationModerate records the consensus for a bid.
func (s *Server) evaluationModerate(c echo.Context) error {
	a, err := s.evaluationLead(c, "evaluation.moderation.save")
	if err != nil {
		return err
	}
	p, err := s.evaluatedBid(c, a)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	reqs, err := s.Competition.Requirements(ctx, a.C.ID)
	if err != nil {
		return err
	}
	in, err := markInputs(c, reqs)
	if err == nil {
		form, _ := c.FormParams()
		err = s.Evaluation.SaveModeration(ctx, actor(c), p.Bid.ID, evaluation.ModerationInput{Marks: in, Version: formInt(form, "version")})
	}
	if _, ok := validate.As(err); ok {
		return s.renderModeration(c, http.StatusBadRequest, a, p, err, true)
	}
	if errors.Is(err, store.ErrConflict) {
		return s.renderModeration(c, http.StatusConflict, a, p, newErrors(evaluation.FieldModeration,
			"Someone else saved the moderation of this bid after you opened it. Check what they recorded below and save yours again"), false)
	}
	if err != nil {
		return refusedAsNotFound(err)
	}
	s.flash(c, "moderation-saved")
	return c.Redirect(http.StatusSeeOther, evaluationPath(a.C.ID))
}
