package web

import (
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/validate"
)

// auditPage lists audit entries newest first, filtered by action, person,
// organisation, outcome and date range, a page at a time.
func (s *Server) auditPage(c echo.Context) error {
	q := c.QueryParams()
	f := audit.Filter{Action: q.Get("action"), Actor: q.Get("actor"), OrgID: q.Get("organisation"), Outcome: q.Get("outcome"), Limit: 100}
	// Who applied or bid is sealed information: administrators reading the
	// log do not see it; auditors do.
	f.HideSealed = !slices.Contains(viewer(c).RolesInActingOrg(), string(authz.Auditor))
	var errs validate.Errors
	if from, ok := dateInput(q, "from"); ok {
		f.From = from
	} else {
		errs.Add("from-day", "The ‘from’ date must be a real date, for example 1 11 2026")
	}
	if to, ok := dateInput(q, "to"); ok {
		if !to.IsZero() {
			f.To = to.AddDate(0, 0, 1) // include the whole of the last day
		}
	} else {
		errs.Add("to-day", "The ‘to’ date must be a real date, for example 30 11 2026")
	}
	if f.Outcome != "" && f.Outcome != audit.Success && f.Outcome != audit.Denied && f.Outcome != audit.Failure {
		errs.Add("outcome", "Select an outcome from the list")
		f.Outcome = ""
	}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	entries, err := audit.List(c.Request().Context(), s.DB, f)
	if err != nil {
		return err
	}
	p := s.page(c, "Audit log")
	p.Form = q
	if errs.Err() != nil {
		p.Errors = &errs
	}
	next := int64(0)
	if len(entries) == f.Limit {
		next = entries[len(entries)-1].Seq
	}
	q.Del("before")
	p.Data = map[string]any{"Entries": entries, "Next": next, "Query": q.Encode()}
	return s.renderOK(c, "audit", p)
}
