package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// A deployment's page: its rating and the reason, the exit plan with its
// milestones, the rating's history, and for the trust's trust leads the
// form that keeps the plan. The exit service checks the role on the stored
// trust again and audits refusals.

// deploymentView is what a deployment's page shows.
type deploymentView struct {
	D          *exit.Deployment
	Assessment exit.Assessment
	History    []exit.HistoryEntry
	CanWrite   bool
	// Competitions are the trust's mini-competitions a plan may link to
	// (for those who may write).
	Competitions []exit.CompetitionChoice
	Milestones   []milestoneRow
	// Paths are the exit paths the form offers.
	Paths []string
	now   time.Time
}

// milestoneRow is one milestone's planned and actual dates.
type milestoneRow struct {
	Kind, Label  string
	Plan, Actual *time.Time
}

func (s *Server) deploymentView(c echo.Context, d *exit.Deployment) (*deploymentView, error) {
	ctx := c.Request().Context()
	rules, err := s.Exit.Rules(ctx)
	if err != nil {
		return nil, err
	}
	v := &deploymentView{D: d, Assessment: exit.Rate(*d, rules, s.Clock.Now()), CanWrite: s.may(c, &d.Organisation, "exit", "write"), Paths: exit.Paths, now: s.Clock.Now()}
	if v.History, err = s.Exit.History(ctx, d.ID); err != nil {
		return nil, err
	}
	if v.CanWrite {
		if v.Competitions, err = s.Exit.CompetitionChoices(ctx, d.OrganisationID); err != nil {
			return nil, err
		}
	}
	for _, k := range exit.MilestoneKinds {
		plan, actual, _ := d.Dates(k)
		v.Milestones = append(v.Milestones, milestoneRow{Kind: k, Label: exit.MilestoneLabel(k), Plan: *plan, Actual: *actual})
	}
	return v, nil
}

// deploymentPage shows a deployment.
func (s *Server) deploymentPage(c echo.Context) error {
	d, err := s.loadDeployment(c)
	if err != nil {
		return err
	}
	return s.renderDeployment(c, http.StatusOK, d, nil)
}

func (s *Server) renderDeployment(c echo.Context, status int, d *exit.Deployment, formErr error) error {
	v, err := s.deploymentView(c, d)
	if err != nil {
		return err
	}
	p := s.formPage(c, d.Name()+", "+d.Organisation.Name, formErr)
	if formErr == nil {
		p.Form = planForm(d)
	}
	p.BackURL = "/exit"
	p.Data = v
	return s.render(c, status, "exit_deployment", p)
}

// planForm fills the plan form from the stored deployment.
func planForm(d *exit.Deployment) url.Values {
	f := url.Values{}
	set := func(name, value string) { f[name] = []string{value} }
	date := func(name string, t *time.Time) { setDateInput(f, name, t) }
	set(exit.FieldPath, d.Path)
	if d.CompetitionID != nil {
		set(exit.FieldCompetition, *d.CompetitionID)
	}
	for _, k := range exit.MilestoneKinds {
		plan, actual, _ := d.Dates(k)
		date(exit.PlanField(k), *plan)
		date(exit.ActualField(k), *actual)
	}
	set(exit.FieldNotes, d.Notes)
	set("version", strconv.Itoa(d.Version))
	return f
}

// deploymentSave records the exit plan.
func (s *Server) deploymentSave(c echo.Context) error {
	d, err := s.loadDeployment(c)
	if err != nil {
		return err
	}
	if !s.may(c, &d.Organisation, "exit", "write") {
		s.auditDenied(c, "exit.write", "deployment", d.ID)
		return errNotFound
	}
	form, _ := c.FormParams()
	in := exit.PlanInput{Path: form.Get(exit.FieldPath), CompetitionID: form.Get(exit.FieldCompetition), Notes: form.Get(exit.FieldNotes), Version: formInt(form, "version")}
	var errs validate.Errors
	for _, k := range exit.MilestoneKinds {
		plan, actual, _ := in.Dates(k)
		for _, f := range []struct {
			name string
			to   **time.Time
		}{{exit.PlanField(k), plan}, {exit.ActualField(k), actual}} {
			t, ok := dateInput(form, f.name)
			if !ok {
				errs.Add(f.name, "Enter a real date, for example 31 3 2027, or leave it blank")
				continue
			}
			if !t.IsZero() {
				day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, uktime.Location)
				*f.to = &day
			}
		}
	}
	if len(errs.List) > 0 {
		for _, e := range s.Exit.CheckPlan(in).List {
			if !errs.Has(e.Field) {
				errs.Add(e.Field, e.Message)
			}
		}
	}
	err = errs.Err()
	if err == nil {
		err = s.Exit.UpdatePlan(c.Request().Context(), actor(c), d.ID, in)
	}
	status := http.StatusBadRequest
	if errors.Is(err, store.ErrConflict) {
		err = newErrors(exit.FieldPath, "The exit plan was changed by someone else while you were working. Nothing was overwritten: check the plan below and make your change again.")
		status = http.StatusConflict
	}
	if _, ok := validate.As(err); ok {
		fresh, lerr := s.Exit.Deployment(c.Request().Context(), d.ID)
		if lerr != nil {
			return lerr
		}
		return s.renderDeployment(c, status, fresh, err)
	}
	if errors.Is(err, exit.ErrNotTrustLead) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	s.flash(c, "plan-saved")
	return c.Redirect(http.StatusSeeOther, "/exit/deployments/"+d.ID)
}

// planChart places the plan on a timeline: one row per milestone with its
// planned date (a ring) and actual date (a dot), today and the national
// contract's end as vertical lines. X runs from 260 to 960 in the SVG's
// units between the earliest and latest date shown.
type planChart struct {
	Rows             []planChartRow
	TodayX, EndX     int
	FromText, ToText string
	Height           int
}

type planChartRow struct {
	Label              string
	Y, TextY           int
	PlanX, ActualX     int
	HasPlan, HasActual bool
}

// Chart lays out the plan's timeline.
func (v *deploymentView) Chart() planChart {
	const left, right = 260, 960
	today := exit.Day(v.now)
	end := v.D.NationalContract.ExpiresOn
	first, last := today, end
	for _, m := range v.Milestones {
		for _, t := range []*time.Time{m.Plan, m.Actual} {
			if t == nil {
				continue
			}
			if t.Before(first) {
				first = *t
			}
			if t.After(last) {
				last = *t
			}
		}
	}
	span := last.Sub(first)
	x := func(t time.Time) int {
		if span <= 0 {
			return (left + right) / 2
		}
		return left + int(float64(t.Sub(first))/float64(span)*float64(right-left))
	}
	ch := planChart{TodayX: x(today), EndX: x(end), FromText: uktime.Date(first), ToText: uktime.Date(last), Height: 40 + 44*len(v.Milestones)}
	for i, m := range v.Milestones {
		r := planChartRow{Label: m.Label, Y: 30 + i*44, TextY: 36 + i*44}
		if m.Plan != nil {
			r.HasPlan, r.PlanX = true, x(*m.Plan)
		}
		if m.Actual != nil {
			r.HasActual, r.ActualX = true, x(*m.Actual)
		}
		ch.Rows = append(ch.Rows, r)
	}
	return ch
}
