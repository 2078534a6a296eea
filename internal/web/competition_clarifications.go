package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/clarify"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/orgs"
)

// Clarification questions about a mini-competition, through the clarify
// module with the handlers shared with frameworks (clarifications.go): an
// invited supplier asks and withdraws its own questions and reads every
// public answer; the lead trust answers everyone (every invited supplier's
// users) or the supplier who asked alone.

func competitionQuestionsPath(id string) string { return "/competitions/" + id + "/questions" }

func (s *Server) competitionQuestionsPage(c echo.Context) error {
	comp, _, org, err := s.invitedSupplier(c, "read")
	if err != nil {
		return err
	}
	return s.renderCompetitionQuestions(c, http.StatusOK, comp, org, nil)
}

func (s *Server) renderCompetitionQuestions(c echo.Context, status int, comp *competition.Competition, org *orgs.Organisation, formErr error) error {
	view, err := s.Clarify.ForSupplier(c.Request().Context(), competition.ClarifyProcedure(comp), org.ID)
	if err != nil {
		return clarifyNotFound(err)
	}
	p := s.formPage(c, "Questions about "+comp.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = competition.SupplierPath(comp.ID)
	p.Data = map[string]any{
		"C": comp, "Mine": supplierQuestionViews(view.Mine, org), "Public": view.Public, "MaxQuestion": clarify.MaxQuestion,
		"Base": "/competitions/" + comp.ID, "ClosedText": questionsClosed(comp),
		"Open": comp.Status == competition.StatusPublished && s.Clock.Now().Before(comp.QuestionDeadline),
	}
	return s.render(c, status, "competition_questions", p)
}

// competitionQuestionAsk asks a question. A cancelled competition takes no
// more: the clarify module knows only the question deadline.
func (s *Server) competitionQuestionAsk(c echo.Context) error {
	comp, _, org, err := s.invitedSupplier(c, "write")
	if err != nil {
		return err
	}
	render := func(status int, formErr error) error {
		return s.renderCompetitionQuestions(c, status, comp, org, formErr)
	}
	if comp.Status != competition.StatusPublished {
		return render(http.StatusBadRequest, newErrors(clarify.FieldText, "The competition has been cancelled, so it takes no more questions"))
	}
	return s.clarifyAsk(c, competition.ClarifyProcedure(comp), org, competitionQuestionsPath(comp.ID), render)
}

func (s *Server) competitionQuestionWithdraw(c echo.Context) error {
	comp, _, org, err := s.invitedSupplier(c, "write")
	if err != nil {
		return err
	}
	return s.clarifyWithdraw(c, competition.ClarifyProcedure(comp), org, competitionQuestionsPath(comp.ID), func(status int, formErr error) error {
		return s.renderCompetitionQuestions(c, status, comp, org, formErr)
	})
}

// competitionClarificationsPage is the buying side's list of questions:
// every buying trust's users may read it; the lead answers.
func (s *Server) competitionClarificationsPage(c echo.Context) error {
	bc, err := s.readCompetition(c)
	if err != nil {
		return err
	}
	return s.renderCompetitionClarifications(c, http.StatusOK, bc, "", nil)
}

func (s *Server) renderCompetitionClarifications(c echo.Context, status int, bc *buyerCompetition, failed string, formErr error) error {
	list, err := s.Clarify.ForLead(c.Request().Context(), competition.ClarifyProcedure(bc.Competition))
	if err != nil {
		return err
	}
	p := s.formPage(c, "Clarification questions: "+bc.Title, formErr)
	views, open := leadQuestionViews(p, list, failed, formErr)
	p.BackURL = competition.CompetitionPath(bc.ID)
	p.Data = map[string]any{"C": bc.Competition, "BC": bc, "Questions": views, "OpenCount": open, "CanWrite": bc.CanWrite,
		"Base": "/competitions/" + bc.Competition.ID}
	return s.render(c, status, "competition_clarifications", p)
}

func (s *Server) competitionClarificationAnswer(c echo.Context) error {
	bc, err := s.leadCompetition(c)
	if err != nil {
		return err
	}
	everyone := func(ctx context.Context) ([]string, error) { return s.Competition.SupplierUsers(ctx, bc.ID) }
	return s.clarifyAnswer(c, competition.ClarifyProcedure(bc.Competition), everyone, "/competitions/"+bc.ID+"/clarifications",
		"Only someone acting for "+bc.LeadName()+", the trust running this competition, can answer its questions. Choose that trust under “change organisation” and try again.",
		func(status int, failed string, formErr error) error {
			return s.renderCompetitionClarifications(c, status, bc, failed, formErr)
		})
}

// questionsClosed says why a competition takes no more questions.
func questionsClosed(comp *competition.Competition) string {
	if comp.Status == competition.StatusCancelled {
		return "You can no longer ask questions about this competition: it has been cancelled."
	}
	return "You can no longer ask questions about this competition: the deadline for questions has passed."
}
