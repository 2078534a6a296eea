package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/clarify"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// frameworkProcedure describes a framework's application window to the
// clarify package. The supplier's and the lead's pages both use it, so
// they always name the same procedure.
func frameworkProcedure(fw *framework.Framework) clarify.Procedure {
	return clarify.Procedure{
		Type: clarify.TypeFramework, ID: fw.ID, Title: fw.Reference + " " + fw.Title, OwnerOrgID: fw.ConsortiumID,
		QuestionDeadline: fw.ClarificationDeadline, Link: "/frameworks/" + fw.ID + "/questions",
	}
}

// questionStatus is a question's status as people read it, with the
// NHS.UK tag colour it is shown in.
func questionStatus(status string) (label, tagClass string) {
	switch status {
	case clarify.StatusOpen:
		return "Waiting for an answer", "nhsuk-tag--blue"
	case clarify.StatusAnsweredPublic:
		return "Answered for everyone", "nhsuk-tag--green"
	case clarify.StatusAnsweredPrivate:
		return "Answered only for you", "nhsuk-tag--green"
	case clarify.StatusWithdrawn:
		return "Withdrawn", "nhsuk-tag--grey"
	}
	return status, "nhsuk-tag--grey"
}

// supplierQuestionView is one of the supplier's own questions.
type supplierQuestionView struct {
	clarify.Question
	StatusLabel, TagClass string
}

// clarifyNotFound turns the clarify package's refusals into a 404, so
// nobody learns about a question that is not theirs.
func clarifyNotFound(err error) error {
	if errors.Is(err, clarify.ErrForbidden) || errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	return err
}

func (s *Server) questionsPage(c echo.Context) error {
	fw, org, err := s.supplierFramework(c, "read")
	if err != nil {
		return err
	}
	return s.renderQuestions(c, http.StatusOK, fw, org, nil)
}

// renderQuestions shows a supplier its own questions, every public answer
// and, until the deadline, the form to ask.
func (s *Server) renderQuestions(c echo.Context, status int, fw *framework.Framework, org *orgs.Organisation, formErr error) error {
	view, err := s.Clarify.ForSupplier(c.Request().Context(), frameworkProcedure(fw), org.ID)
	if err != nil {
		return clarifyNotFound(err)
	}
	mine := supplierQuestionViews(view.Mine, org)
	p := s.formPage(c, "Questions about "+fw.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.Data = map[string]any{
		"Framework": fw, "Mine": mine, "Public": view.Public, "Base": "/frameworks/" + fw.ID,
		"ClosedText": "The deadline for questions has passed, so you can no longer ask questions about this framework.",
		"Open":       s.Clock.Now().Before(fw.ClarificationDeadline), "MaxQuestion": clarify.MaxQuestion,
	}
	return s.render(c, status, "questions", p)
}

// supplierQuestionViews labels a supplier's own questions for its page.
// Shared by every procedure's questions page (frameworks, competitions).
func supplierQuestionViews(questions []clarify.Question, org *orgs.Organisation) []supplierQuestionView {
	mine := make([]supplierQuestionView, len(questions))
	for i, q := range questions {
		label, tag := questionStatus(q.Status)
		if q.Status == clarify.StatusAnsweredPrivate {
			label = "Answered only for " + org.Name
		}
		mine[i] = supplierQuestionView{Question: q, StatusLabel: label, TagClass: tag}
	}
	return mine
}

func (s *Server) questionAsk(c echo.Context) error {
	fw, org, err := s.supplierFramework(c, "write")
	if err != nil {
		return err
	}
	return s.clarifyAsk(c, frameworkProcedure(fw), org, "/frameworks/"+fw.ID+"/questions", func(status int, formErr error) error {
		return s.renderQuestions(c, status, fw, org, formErr)
	})
}

// clarifyAsk asks the form's question of proc for the supplier org, then
// redirects to back; a problem shows the page again through render. The
// caller has checked that org takes part in proc.
func (s *Server) clarifyAsk(c echo.Context, proc clarify.Procedure, org *orgs.Organisation, back string, render func(status int, formErr error) error) error {
	_, err := s.Clarify.Ask(c.Request().Context(), actor(c), proc, org.ID, c.FormValue("text"))
	var late *clarify.DeadlineError
	switch {
	case errors.As(err, &late):
		return render(http.StatusBadRequest, newErrors(clarify.FieldText, late.Error()))
	case err != nil:
		if _, ok := validate.As(err); ok {
			return render(http.StatusBadRequest, err)
		}
		return clarifyNotFound(err)
	}
	s.flash(c, "question-asked")
	return c.Redirect(http.StatusSeeOther, back)
}

// questionWithdraw withdraws one of the supplier's own open questions. The
// question must belong to this framework as well as to the supplier.
func (s *Server) questionWithdraw(c echo.Context) error {
	fw, org, err := s.supplierFramework(c, "write")
	if err != nil {
		return err
	}
	return s.clarifyWithdraw(c, frameworkProcedure(fw), org, "/frameworks/"+fw.ID+"/questions", func(status int, formErr error) error {
		return s.renderQuestions(c, status, fw, org, formErr)
	})
}

// clarifyWithdraw withdraws the question in the URL, which must be one of
// org's questions about proc, then redirects to back.
func (s *Server) clarifyWithdraw(c echo.Context, proc clarify.Procedure, org *orgs.Organisation, back string, render func(status int, formErr error) error) error {
	ctx := c.Request().Context()
	view, err := s.Clarify.ForSupplier(ctx, proc, org.ID)
	if err != nil {
		return clarifyNotFound(err)
	}
	id := c.Param("question")
	found := false
	for _, q := range view.Mine {
		found = found || q.ID == id
	}
	if !found {
		s.auditDenied(c, "clarification.withdraw", "clarification_question", id)
		return errNotFound
	}
	err = s.Clarify.Withdraw(ctx, actor(c), id, org.ID)
	if errors.Is(err, clarify.ErrNotOpen) || errors.Is(err, store.ErrConflict) {
		return render(http.StatusConflict, newErrors("question-"+id, "This question has already been answered or withdrawn, so it cannot be withdrawn"))
	}
	if err != nil {
		return clarifyNotFound(err)
	}
	s.flash(c, "question-withdrawn")
	return c.Redirect(http.StatusSeeOther, back)
}

// How the lead chooses to answer.
const (
	answerPublic  = "public"
	answerPrivate = "private"
)

// leadQuestionView is a question on the lead's page with what its answer
// form shows: the original wording and nothing chosen, or what the lead
// typed when the form comes back with errors.
type leadQuestionView struct {
	clarify.LeadQuestion
	StatusLabel, TagClass string
	Mode, PublicWording   string
	AnswerText            string
}

func (s *Server) clarificationsPage(c echo.Context) error {
	fw, err := s.ownedFramework(c, "read")
	if err != nil {
		return err
	}
	return s.renderClarifications(c, http.StatusOK, fw, "", nil)
}

// renderClarifications shows the lead every question. failed names the
// question whose form was submitted with problems; its fields keep what
// was typed and formErr's field names carry its ID.
func (s *Server) renderClarifications(c echo.Context, status int, fw *framework.Framework, failed string, formErr error) error {
	list, err := s.Clarify.ForLead(c.Request().Context(), frameworkProcedure(fw))
	if err != nil {
		return err
	}
	p := s.formPage(c, "Clarification questions: "+fw.Title, formErr)
	views, open := leadQuestionViews(p, list, failed, formErr)
	p.Data = map[string]any{
		"Framework": fw, "Questions": views, "OpenCount": open, "Base": "/frameworks/" + fw.ID,
		"CanWrite": s.may(c, consortium(fw.ConsortiumID), "framework", "write"),
	}
	return s.render(c, status, "clarifications", p)
}

// leadQuestionViews labels every question for the lead's page of any
// procedure and counts those waiting for an answer. The form of question
// failed keeps what was typed (p.Form, which is then cleared so no other
// form picks it up).
func leadQuestionViews(p *Page, list []clarify.LeadQuestion, failed string, formErr error) ([]leadQuestionView, int) {
	views := make([]leadQuestionView, len(list))
	open := 0
	for i, q := range list {
		label, tag := questionStatus(q.Status)
		if q.Status == clarify.StatusAnsweredPrivate {
			label = "Answered only for " + q.AskedByOrgName
		}
		v := leadQuestionView{LeadQuestion: q, StatusLabel: label, TagClass: tag, PublicWording: q.Text}
		if q.ID == failed && formErr != nil {
			v.Mode, v.PublicWording, v.AnswerText = p.Value("mode"), p.Value("public_question"), p.Value("answer")
		}
		if q.Open() {
			open++
		}
		views[i] = v
	}
	p.Form = nil
	return views, open
}

// perRow renames field errors after the row they belong to ("answer"
// becomes "answer-<question ID>"), so the error summary links to the right
// form on a page with one form per row (a question, a competition's
// requirement or buying trust).
func perRow(err error, rowID string) error {
	v, ok := validate.As(err)
	if !ok {
		return err
	}
	out := &validate.Errors{}
	for _, f := range v.List {
		out.Add(f.Field+"-"+rowID, f.Message)
	}
	return out
}

// clarificationAnswer answers a question for everyone taking part or for
// the supplier who asked alone.
func (s *Server) clarificationAnswer(c echo.Context) error {
	fw, err := s.ownedFramework(c, "write")
	if err != nil {
		return err
	}
	everyone := func(ctx context.Context) ([]string, error) { return s.Framework.SupplierUsers(ctx, fw.ID) }
	return s.clarifyAnswer(c, frameworkProcedure(fw), everyone, "/frameworks/"+fw.ID+"/clarifications",
		"Only someone acting for the consortium that runs this framework can answer its questions. Choose that consortium under “change organisation” and try again.",
		func(status int, failed string, formErr error) error {
			return s.renderClarifications(c, status, fw, failed, formErr)
		})
}

// clarifyAnswer answers the question in the URL, one of proc's, for
// everyone taking part (the users everyone lists) or for the supplier who
// asked alone, then redirects to back. A problem shows the lead's page again
// through render; forbidden is what someone not acting for proc's owner
// reads. The caller has checked that the viewer may answer for the owner.
func (s *Server) clarifyAnswer(c echo.Context, proc clarify.Procedure, everyone func(context.Context) ([]string, error), back, forbidden string,
	render func(status int, failed string, formErr error) error) error {
	ctx := c.Request().Context()
	id := c.Param("question")
	list, err := s.Clarify.ForLead(ctx, proc)
	if err != nil {
		return err
	}
	var q *clarify.LeadQuestion
	for i := range list {
		if list[i].ID == id {
			q = &list[i]
		}
	}
	if q == nil {
		s.auditDenied(c, "clarification.answer", "clarification_question", id)
		return errNotFound
	}
	f, _ := c.FormParams()
	version := formInt(f, "version")
	switch f.Get("mode") {
	case answerPublic:
		var recipients []string
		recipients, err = everyone(ctx)
		if err == nil {
			err = s.Clarify.AnswerPublic(ctx, actor(c), proc, id, version, f.Get("public_question"), f.Get("answer"), recipients)
		}
	case answerPrivate:
		var recipients []string
		recipients, err = s.askerUsers(c, q.AskedByOrg)
		if err == nil {
			err = s.Clarify.AnswerPrivate(ctx, actor(c), proc, id, version, f.Get("answer"), recipients)
		}
	default:
		v := newErrors("mode", "Select whether to answer everyone or only the supplier who asked")
		if strings.TrimSpace(f.Get("answer")) == "" {
			v.Add(clarify.FieldAnswer, "Enter the answer")
		}
		err = v
	}
	if _, ok := validate.As(err); ok {
		return render(http.StatusBadRequest, id, perRow(err, id))
	}
	if errors.Is(err, store.ErrConflict) || errors.Is(err, clarify.ErrNotOpen) {
		msg := "Someone else answered this question first; check the answer below"
		if q.Status == clarify.StatusWithdrawn {
			msg = "The supplier withdrew this question, so it needs no answer"
		}
		return render(http.StatusConflict, "", newErrors("question-"+id, msg))
	}
	if errors.Is(err, clarify.ErrForbidden) {
		return &Error{Status: http.StatusForbidden, Message: forbidden, Err: err}
	}
	if err != nil {
		return err
	}
	if f.Get("mode") == answerPublic {
		s.flash(c, "answer-published")
	} else {
		s.flash(c, "answer-sent-privately")
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// askerUsers lists the supplier users of the organisation that asked: the
// only people a private answer goes to.
func (s *Server) askerUsers(c echo.Context, orgID string) ([]string, error) {
	members, err := s.Orgs.MembersOf(c.Request().Context(), orgID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range members {
		if m.Role == string(authz.SupplierUser) {
			ids = append(ids, m.UserID)
		}
	}
	return ids, nil
}
