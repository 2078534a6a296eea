package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// What the lead changes once the competition is published, each on a page
// of its own with the reason every invited supplier is told: the dates, the
// requirements, a new document for the tender pack (also offered while a
// draft, without a reason), and cancellation. The competition service
// decides what may change and tells the suppliers.

// The pages of changes, by the view competition.html shows.
const (
	viewDates        = "dates"
	viewRequirements = "change-requirements"
	viewDocument     = "document"
	viewCancel       = "cancel"
)

var changeTitles = map[string]string{
	viewDates:        "Change the dates",
	viewRequirements: "Change the requirements",
	viewDocument:     "Add a document to the tender pack",
	viewCancel:       "Cancel the competition",
}

// changePage shows the form of one change for the lead.
func (s *Server) changePage(c echo.Context, view string) error {
	bc, err := s.leadCompetition(c)
	if err != nil {
		return err
	}
	return s.renderChange(c, http.StatusOK, bc, view, nil, false)
}

func (s *Server) competitionDatesPage(c echo.Context) error { return s.changePage(c, viewDates) }
func (s *Server) competitionChangePage(c echo.Context) error {
	return s.changePage(c, viewRequirements)
}
func (s *Server) competitionDocumentPage(c echo.Context) error {
	return s.changePage(c, viewDocument)
}
func (s *Server) competitionCancelPage(c echo.Context) error { return s.changePage(c, viewCancel) }

// renderChange shows a change's page: the stored values, or with keep what
// was typed.
func (s *Server) renderChange(c echo.Context, status int, bc *buyerCompetition, view string, formErr error, keep bool) error {
	ctx := c.Request().Context()
	t, err := s.terms(c, bc.Competition)
	if err != nil {
		return err
	}
	p := s.formPage(c, changeTitles[view], formErr)
	if !keep {
		p.Form = competitionForm(bc.Competition, bc.Buyers, t.Requirements)
	}
	data := map[string]any{
		"View": view, "C": bc.Competition, "BC": bc, "Terms": t, "Timeline": timelineFields,
		"StateLabel": competition.StateLabel(bc.State(s.Clock.Now())),
	}
	if view == viewDocument {
		library, err := s.Docs.List(ctx, bc.LeadOrgID, "library", "")
		if err != nil {
			return err
		}
		data["Library"] = library
	}
	p.BackURL = competition.CompetitionPath(bc.ID)
	p.Data = data
	return s.render(c, status, "competition", p)
}

// changeSubmit runs one change from its page and redirects to the
// competition with the confirmation *flash, or shows the page again.
func (s *Server) changeSubmit(c echo.Context, view string, flash *string, change func(bc *buyerCompetition, f url.Values) error) error {
	bc, err := s.leadCompetition(c)
	if err != nil {
		return err
	}
	f, _ := c.FormParams()
	err = change(bc, f)
	if _, ok := validate.As(err); ok {
		return s.renderChange(c, http.StatusBadRequest, bc, view, err, true)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		if bc, err = s.readCompetition(c); err != nil {
			return err
		}
		return s.renderChange(c, http.StatusConflict, bc, view,
			newErrors(competition.FieldState, "Someone else changed the competition at the same time. Check what it says now and make your change again"), false)
	case errors.Is(err, competition.ErrForbidden), errors.Is(err, store.ErrNotFound):
		return errNotFound
	case err != nil:
		return err
	}
	s.flash(c, *flash)
	return c.Redirect(http.StatusSeeOther, competition.CompetitionPath(bc.ID))
}

// competitionDatesSave moves the dates after publication. Dates left as
// they are stay as they are.
func (s *Server) competitionDatesSave(c echo.Context) error {
	return s.changeSubmit(c, viewDates, ptr("competition-dates-changed"), func(bc *buyerCompetition, f url.Values) error {
		var v validate.Errors
		t := readTimeline(f, bc.ExpressionOfInterest, &v)
		if err := v.Err(); err != nil {
			return err
		}
		return s.Competition.ExtendDeadline(c.Request().Context(), actor(c), bc.ID, competition.DeadlineChange{
			SubmissionDeadline: t.SubmissionDeadline, QuestionDeadline: t.QuestionDeadline, EOIDeadline: t.EOIDeadline,
			EvaluationEnd: t.EvaluationEnd, PlannedAward: t.PlannedAward,
			Reason: f.Get(competition.FieldReason), Version: formInt(f, "version"),
		})
	})
}

// competitionRequirementsChange changes the requirements whose wording or
// weight the lead edited on the page, all at once so weight can move from
// one to another.
func (s *Server) competitionRequirementsChange(c echo.Context) error {
	return s.changeSubmit(c, viewRequirements, ptr("competition-reqs-changed"), func(bc *buyerCompetition, f url.Values) error {
		reqs, err := s.Competition.Requirements(c.Request().Context(), bc.ID)
		if err != nil {
			return err
		}
		var v validate.Errors
		var edits []competition.RequirementEdit
		for i := range reqs {
			e := requirementEdit(f, &reqs[i], &v)
			if strings.TrimSpace(e.Text) != reqs[i].Text || e.Weight != reqs[i].Weight {
				edits = append(edits, e)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		return s.Competition.ChangeRequirement(c.Request().Context(), actor(c), bc.ID, competition.RequirementChange{
			Edits: edits, Reason: f.Get(competition.FieldReason),
		})
	})
}

// competitionDocumentAdd adds one of the lead trust's library documents to
// the tender pack: part of the set-up in a draft, a change with a reason
// after publication.
func (s *Server) competitionDocumentAdd(c echo.Context) error {
	flash := "competition-document-added"
	return s.changeSubmit(c, viewDocument, &flash, func(bc *buyerCompetition, f url.Values) error {
		if bc.Status != competition.StatusDraft {
			flash = "competition-document-told"
		}
		return s.Competition.AddDocument(c.Request().Context(), actor(c), bc.ID, f.Get(competition.FieldDocument), f.Get(competition.FieldReason))
	})
}

func (s *Server) competitionCancel(c echo.Context) error {
	return s.changeSubmit(c, viewCancel, ptr("competition-cancelled"), func(bc *buyerCompetition, f url.Values) error {
		return s.Competition.Cancel(c.Request().Context(), actor(c), bc.ID, f.Get(competition.FieldReason))
	})
}
