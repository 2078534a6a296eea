package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// lotResults is one lot's applications as the lead sees them in evaluation.
type lotResults struct {
	Lot     framework.Lot
	Results []framework.Result
}

// frameworkEvaluation is the lead's evaluation page: the evaluators,
// opening the applications after the deadline, each lot's results and
// the decisions, and starting the standstill.
//
// Its results and decisions are for the lead alone (framework/write in the
// consortium): the consortium's evaluators may read the framework but not
// everyone's marks.
func (s *Server) frameworkEvaluation(c echo.Context) error {
	fw, err := s.ownedFramework(c, "write")
	if err != nil {
		return err
	}
	return s.renderEvaluation(c, http.StatusOK, fw, nil)
}

func (s *Server) renderEvaluation(c echo.Context, status int, fw *framework.Framework, formErr error) error {
	ctx := c.Request().Context()
	assigned, err := s.Framework.Evaluators(ctx, fw.ID)
	if err != nil {
		return err
	}
	candidates, err := s.Framework.EvaluatorCandidates(ctx, fw.ID)
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, e := range assigned {
		chosen[e.UserID] = true
	}
	var results []lotResults
	if fw.OpenedAt != nil {
		lots, err := s.Framework.Lots(ctx, fw.ID)
		if err != nil {
			return err
		}
		for _, l := range lots {
			rs, err := s.Framework.LotResults(ctx, l.ID)
			if err != nil {
				return err
			}
			results = append(results, lotResults{Lot: l, Results: rs})
		}
	}
	keys, err := s.Framework.OpeningKeys(ctx, fw.ID)
	if err != nil {
		return err
	}
	turned := false
	for _, k := range keys {
		turned = turned || k.UserID == viewer(c).User.ID
	}
	p := s.formPage(c, "Evaluation: "+fw.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = "/frameworks/" + fw.ID
	p.Data = map[string]any{
		"Framework": fw, "State": fw.State(s.Clock.Now()), "Assigned": assigned, "Candidates": candidates, "Chosen": chosen,
		"Lots": results, "CanWrite": s.may(c, consortium(fw.ConsortiumID), "framework", "write"),
		"Keys": keys, "KeyTurned": turned,
	}
	return s.render(c, status, "evaluation", p)
}

// evaluationChange runs one change on the evaluation page and shows it
// again with its field errors, or redirects with a confirmation.
func (s *Server) evaluationChange(c echo.Context, flash *string, change func(fw *framework.Framework) error) error {
	fw, err := s.ownedFramework(c, "write")
	if err != nil {
		return err
	}
	err = change(fw)
	if _, ok := validate.As(err); ok {
		return s.renderEvaluation(c, http.StatusBadRequest, fw, err)
	}
	if errors.Is(err, store.ErrConflict) {
		return s.renderEvaluation(c, http.StatusConflict, fw, newErrors("state", "Someone else changed the evaluation at the same time; check the page and try again"))
	}
	if errors.Is(err, framework.ErrForbidden) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	s.flash(c, *flash)
	return c.Redirect(http.StatusSeeOther, "/frameworks/"+fw.ID+"/evaluation")
}

func (s *Server) evaluatorsAssign(c echo.Context) error {
	return s.evaluationChange(c, ptr("evaluators-saved"), func(fw *framework.Framework) error {
		f, _ := c.FormParams()
		return s.Framework.AssignEvaluators(c.Request().Context(), actor(c), fw.ID, f["evaluator"])
	})
}

// applicationsOpen turns the lead's opening key; the second lead's key
// opens the applications.
func (s *Server) applicationsOpen(c echo.Context) error {
	flash := "key-turned"
	return s.evaluationChange(c, &flash, func(fw *framework.Framework) error {
		o, err := s.Framework.OpenApplications(c.Request().Context(), actor(c), fw.ID)
		if o.Opened {
			flash = "applications-opened"
		}
		return err
	})
}

// decisionsSave records the lead's decision on every application: the
// form has appoint-<id> (yes or no) and reason-<id> for each.
func (s *Server) decisionsSave(c echo.Context) error {
	return s.evaluationChange(c, ptr("decisions-saved"), func(fw *framework.Framework) error {
		ctx := c.Request().Context()
		apps, err := s.Framework.Applications(ctx, fw.ID)
		if err != nil {
			return err
		}
		f, _ := c.FormParams()
		var v validate.Errors
		decisions := make([]framework.Decision, 0, len(apps))
		for _, a := range apps {
			switch f.Get(framework.FieldAppoint(a.ID)) {
			case "yes":
				decisions = append(decisions, framework.Decision{ApplicationID: a.ID, Appoint: true, Reason: strings.TrimSpace(f.Get(framework.FieldDecisionReason(a.ID)))})
			case "no":
				decisions = append(decisions, framework.Decision{ApplicationID: a.ID, Reason: strings.TrimSpace(f.Get(framework.FieldDecisionReason(a.ID)))})
			default:
				v.Add(framework.FieldAppoint(a.ID), "Decide whether to appoint "+a.Supplier.Name+" to lot "+strconv.Itoa(a.Lot.Number))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		return s.Framework.Decide(ctx, actor(c), fw.ID, decisions)
	})
}

func (s *Server) standstillStart(c echo.Context) error {
	return s.evaluationChange(c, ptr("standstill-started"), func(fw *framework.Framework) error {
		return s.Framework.StartStandstill(c.Request().Context(), actor(c), fw.ID)
	})
}

// frameworkAgreement is the framework agreement record: the appointed
// suppliers per lot with their dates. The consortium sees it from the
// standstill on; eligible buyers once it is live.
func (s *Server) frameworkAgreement(c echo.Context) error {
	ctx := c.Request().Context()
	fw, err := s.Framework.Framework(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "framework.agreement.read", "framework", c.Param("id"))
		return errNotFound
	}
	if err != nil {
		return err
	}
	allowed := s.may(c, consortium(fw.ConsortiumID), "framework", "read")
	if v := viewer(c); !allowed && v != nil && v.ActingOrg != nil {
		if allowed, err = s.Framework.VisibleToBuyer(ctx, fw.ID, v.ActingOrg.ID); err != nil {
			return err
		}
	}
	if !allowed {
		s.auditDenied(c, "framework.agreement.read", "framework", fw.ID)
		return errNotFound
	}
	return s.renderAgreement(c, http.StatusOK, fw, nil)
}

func (s *Server) renderAgreement(c echo.Context, status int, fw *framework.Framework, formErr error) error {
	ag, err := s.Framework.Agreement(c.Request().Context(), fw.ID)
	if errors.Is(err, framework.ErrNoAgreement) {
		return &Error{Status: http.StatusNotFound, Message: "The framework agreement has not been made yet: suppliers are appointed when the evaluation ends."}
	}
	if err != nil {
		return err
	}
	p := s.formPage(c, "Framework agreement "+fw.Reference, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.Data = map[string]any{"Agreement": ag, "CanWrite": s.may(c, consortium(fw.ConsortiumID), "framework", "write")}
	return s.render(c, status, "agreement", p)
}

// appointmentChange suspends, ends or reinstates an appointment from the
// agreement page, for the consortium lead.
func (s *Server) appointmentChange(c echo.Context) error {
	fw, err := s.ownedFramework(c, "write")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.Framework.Application(ctx, c.Param("app"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.FrameworkID != fw.ID) {
		s.auditDenied(c, "framework.appointment.change", "framework_application", c.Param("app"))
		return errNotFound
	}
	if err != nil {
		return err
	}
	status, known := map[string]string{"suspend": framework.AppointmentSuspended, "end": framework.AppointmentEnded, "reinstate": framework.AppointmentCurrent}[c.FormValue("change")]
	if !known {
		status = "unknown" // refused by the domain, never read as reinstate
	}
	err = s.Framework.SetAppointment(ctx, actor(c), a.ID, status, c.FormValue("appointment_reason"))
	if ve, ok := validate.As(err); ok {
		// The fields are per supplier on the page.
		out := &validate.Errors{}
		for _, e := range ve.List {
			field := "change-" + a.ID
			if e.Field == framework.FieldAppointmentReason {
				field = "reason-" + a.ID
			}
			out.Add(field, e.Message)
		}
		return s.renderAgreement(c, http.StatusBadRequest, fw, out)
	}
	if errors.Is(err, store.ErrConflict) {
		return s.renderAgreement(c, http.StatusConflict, fw, newErrors("change-"+a.ID, "Someone else changed this appointment at the same time; check it below"))
	}
	if err != nil {
		return err
	}
	s.flash(c, "appointment-changed")
	return c.Redirect(http.StatusSeeOther, "/frameworks/"+fw.ID+"/agreement")
}
