package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/validate"
)

// ruleField is one field of the rules form.
type ruleField struct{ Name, Label string }

// ruleFields lists the rules form's fields: migration lead time per
// system type, typical procurement per path (with no path chosen first),
// then the thresholds.
func ruleFields() (migration, procurement, thresholds []ruleField) {
	for _, t := range exit.SystemTypes {
		migration = append(migration, ruleField{exit.MigrationField(t), exit.SystemLabel(t)})
	}
	for _, p := range append([]string{exit.PathNone}, exit.Paths...) {
		procurement = append(procurement, ruleField{exit.ProcurementField(p), exit.PathLabel(p)})
	}
	thresholds = []ruleField{
		{exit.FieldRedBelow, "Red when the slack is less than"},
		{exit.FieldAmberBelow, "Amber when the slack is less than"},
	}
	return migration, procurement, thresholds
}

// rulesForm writes rules as the form's values.
func rulesForm(r exit.Rules) url.Values {
	f := url.Values{}
	for _, t := range exit.SystemTypes {
		f.Set(exit.MigrationField(t), strconv.Itoa(r.MigrationMonths[t]))
	}
	for _, p := range append([]string{exit.PathNone}, exit.Paths...) {
		f.Set(exit.ProcurementField(p), strconv.Itoa(r.ProcurementMonths[p]))
	}
	f.Set(exit.FieldRedBelow, strconv.Itoa(r.RedBelow))
	f.Set(exit.FieldAmberBelow, strconv.Itoa(r.AmberBelow))
	return f
}

// exitRulesPage shows the rating rules in words and the form that changes
// them.
func (s *Server) exitRulesPage(c echo.Context) error {
	r, err := s.Exit.Rules(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "Rating rules")
	p.Form = rulesForm(r)
	return s.renderExitRules(c, http.StatusOK, r, p)
}

func (s *Server) renderExitRules(c echo.Context, status int, r exit.Rules, p *Page) error {
	migration, procurement, thresholds := ruleFields()
	p.BackURL = "/exit/admin"
	p.Data = map[string]any{"Rules": r, "Migration": migration, "Procurement": procurement, "Thresholds": thresholds}
	return s.render(c, status, "exit_admin/rules", p)
}

// exitRulesSave reads every rule from the form and saves them together;
// a rule out of range or contradicting another is shown beside its field
// and nothing is saved.
func (s *Server) exitRulesSave(c echo.Context) error {
	ctx := c.Request().Context()
	form, _ := c.FormParams()
	r := exit.Rules{MigrationMonths: map[string]int{}, ProcurementMonths: map[string]int{}}
	var errs validate.Errors
	months := func(field string) int {
		n, err := strconv.Atoi(strings.TrimSpace(form.Get(field)))
		if err != nil {
			errs.Add(field, "Enter a whole number of months, such as 6")
		}
		return n
	}
	for _, t := range exit.SystemTypes {
		r.MigrationMonths[t] = months(exit.MigrationField(t))
	}
	for _, p := range append([]string{exit.PathNone}, exit.Paths...) {
		r.ProcurementMonths[p] = months(exit.ProcurementField(p))
	}
	r.RedBelow, r.AmberBelow = months(exit.FieldRedBelow), months(exit.FieldAmberBelow)
	err := errs.Err()
	if err == nil {
		err = s.Exit.SaveRules(ctx, actor(c), r)
	}
	if _, ok := validate.As(err); ok {
		stored, rerr := s.Exit.Rules(ctx)
		if rerr != nil {
			return rerr
		}
		return s.renderExitRules(c, http.StatusBadRequest, stored, s.formPage(c, "Rating rules", err))
	}
	if errors.Is(err, exit.ErrNotAdmin) {
		return errForbidden
	}
	if err != nil {
		return err
	}
	s.flash(c, "exit-rules-saved")
	return c.Redirect(http.StatusSeeOther, "/exit/admin/rules")
}
