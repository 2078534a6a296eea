package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/validate"
)

// applicationTasks is the application's task list (the GOV.UK "complete
// multiple tasks" pattern): one task per section of requirements, then
// documents, declarations, and checking and submitting.
func (s *Server) applicationTasks(c echo.Context) error {
	a, err := s.loadApplication(c, "read")
	if err != nil {
		return err
	}
	return s.renderApplication(c, http.StatusOK, "application_tasks", "Your application: lot "+strconv.Itoa(a.Lot.Number), a, nil)
}

func (s *Server) renderApplication(c echo.Context, status int, name, title string, a *application, formErr error) error {
	p := s.formPage(c, title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = a.Path()
	if name == "application_tasks" {
		p.BackURL = "/frameworks/" + a.Framework.ID + "/apply"
	}
	p.Data = map[string]any{"App": a, "Response": a, "Declarations": framework.Declarations}
	return s.render(c, status, name, p)
}

// deadlineProblem turns a refusal at or after the deadline into a message
// for the page; ok is false for other errors.
func deadlineProblem(err error) (*validate.Errors, bool) {
	var de *sealed.DeadlineError
	if errors.As(err, &de) {
		return newErrors("deadline", de.Error()), true
	}
	return nil, false
}

// applicationSection shows one section's requirements to answer.
func (s *Server) applicationSection(c echo.Context) error {
	a, err := s.loadApplication(c, "read")
	if err != nil {
		return err
	}
	i, sec, err := a.section(c)
	if err != nil {
		return err
	}
	return s.renderSection(c, http.StatusOK, a, i, sec, nil)
}

func (s *Server) renderSection(c echo.Context, status int, a *application, i int, sec *framework.Section, formErr error) error {
	p := s.formPage(c, sec.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = a.Path()
	p.Data = map[string]any{"App": a, "Response": a, "Section": sec, "Number": i + 1}
	return s.render(c, status, "response_section", p)
}

// applicationSectionSave keeps the answers of one section in the working
// copy. Answers may be incomplete (the supplier can come back), but what is
// typed must make sense: a number where a number is asked for, a price in
// pounds and pence.
func (s *Server) applicationSectionSave(c echo.Context) error {
	a, err := s.loadApplication(c, "write")
	if err != nil {
		return err
	}
	// The version the form was showing, so a page shown again after a
	// refusal still carries it and a stale tab stays stale.
	a.DraftVersion = postedDraftVersion(c)
	i, sec, err := a.section(c)
	if err != nil {
		return err
	}
	var v validate.Errors
	for _, r := range sec.Requirements {
		a.Content.Answers[r.ID] = postedAnswer(c, r, &v)
	}
	if err := v.Err(); err != nil {
		return s.renderSection(c, http.StatusBadRequest, a, i, sec, err)
	}
	if err := s.saveDraft(c, a); err != nil {
		if msg, ok := draftProblem(err); ok {
			return s.renderSection(c, http.StatusConflict, a, i, sec, msg)
		}
		return err
	}
	s.flash(c, "answers-saved")
	return c.Redirect(http.StatusSeeOther, a.Path())
}

// fieldFor is the form field a requirement's main answer is typed in.
func fieldFor(r framework.LotRequirement) string {
	switch r.ResponseType {
	case catalogue.PassFail:
		return "meets-" + r.ID
	case catalogue.Numeric:
		return "number-" + r.ID
	case catalogue.PriceSchedule:
		return "price-" + r.ID
	}
	return "text-" + r.ID
}

// applicationDocuments lets the supplier attach documents from its library.
func (s *Server) applicationDocuments(c echo.Context) error {
	a, err := s.loadApplication(c, "read")
	if err != nil {
		return err
	}
	return s.renderDocumentsTask(c, http.StatusOK, a, nil)
}

func (s *Server) renderDocumentsTask(c echo.Context, status int, a *application, formErr error) error {
	library, attached, err := s.libraryChoice(c, a.Supplier.ID, a.Content.Documents)
	if err != nil {
		return err
	}
	p := s.formPage(c, "Attach documents", formErr)
	p.BackURL = a.Path()
	p.Data = map[string]any{"App": a, "Response": a, "Library": library, "Attached": attached}
	return s.render(c, status, "response_documents", p)
}

// applicationDocumentsSave records which library documents are attached,
// pinning each by its SHA-256. Only the supplier's own documents can be
// attached.
func (s *Server) applicationDocumentsSave(c echo.Context) error {
	a, err := s.loadApplication(c, "write")
	if err != nil {
		return err
	}
	// The version the form was showing, so a page shown again after a
	// refusal still carries it and a stale tab stays stale.
	a.DraftVersion = postedDraftVersion(c)
	docs, err := s.chosenDocuments(c, a.Supplier.ID, "application.attach")
	if err != nil {
		return err
	}
	a.Content.Documents = docs
	if err := s.saveDraft(c, a); err != nil {
		if msg, ok := draftProblem(err); ok {
			return s.renderDocumentsTask(c, http.StatusConflict, a, msg)
		}
		return err
	}
	s.flash(c, "documents-attached")
	return c.Redirect(http.StatusSeeOther, a.Path())
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// applicationDeclarations shows the declarations to make.
func (s *Server) applicationDeclarations(c echo.Context) error {
	a, err := s.loadApplication(c, "read")
	if err != nil {
		return err
	}
	return s.renderApplication(c, http.StatusOK, "response_declarations", "Declarations", a, nil)
}

// applicationDeclarationsSave records the declarations ticked.
func (s *Server) applicationDeclarationsSave(c echo.Context) error {
	a, err := s.loadApplication(c, "write")
	if err != nil {
		return err
	}
	// The version the form was showing, so a page shown again after a
	// refusal still carries it and a stale tab stays stale.
	a.DraftVersion = postedDraftVersion(c)
	form, _ := c.FormParams()
	ticked := map[string]bool{}
	for _, k := range form["declaration"] {
		ticked[k] = true
	}
	a.Content.Declarations = nil
	for _, d := range framework.Declarations {
		if ticked[d.Key] {
			a.Content.Declarations = append(a.Content.Declarations, d.Key)
		}
	}
	if err := s.saveDraft(c, a); err != nil {
		if msg, ok := draftProblem(err); ok {
			return s.renderApplication(c, http.StatusConflict, "response_declarations", "Declarations", a, msg)
		}
		return err
	}
	s.flash(c, "declarations-saved")
	return c.Redirect(http.StatusSeeOther, a.Path())
}
