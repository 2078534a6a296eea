package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// The contract register: every contract the organisation the viewer acts
// for may see (all of them for the national programme, administrators and
// auditors; a consortium's member trusts'; a trust's or a supplier's own),
// filtered by trust, supplier, expiry window and status, flagged by when
// it ends, a page at a time or all as CSV. Whose contracts are in scope
// comes from the acting organisation, never from the request.

// registerView is what the register page shows.
type registerView struct {
	*contracts.Register
	Filter contracts.RegisterFilter
	// Readable are the contracts whose own page the viewer may open (as
	// the buying trust or the supplier); the others are listed only.
	Readable map[string]bool
	// Whose says whose contracts the register lists, in words.
	Whose string
}

// registerTag is the NHS.UK tag a register row shows.
type registerTag struct{ Label, Class string }

// Tag is how a row is flagged: red within 6 months of its end, orange
// within 12, blue within 18; grey once expired or terminated; nothing
// otherwise.
func (v *registerView) Tag(r contracts.RegisterRow) *registerTag {
	switch {
	case r.State == contracts.StateExpired || r.State == contracts.StateTerminated:
		return &registerTag{contracts.StateLabel(r.State), "nhsuk-tag--grey"}
	case r.Window == 6:
		return &registerTag{contracts.WindowLabel(6), "nhsuk-tag--red"}
	case r.Window == 12:
		return &registerTag{contracts.WindowLabel(12), "nhsuk-tag--orange"}
	case r.Window == 18:
		return &registerTag{contracts.WindowLabel(18), "nhsuk-tag--blue"}
	}
	return nil
}

// Windows are the expiry windows the filter offers, with "any".
func (v *registerView) Windows() []option {
	out := []option{{"", "Any time"}}
	for _, m := range contracts.ExpiryWindows {
		out = append(out, option{strconv.Itoa(m), "Within " + strconv.Itoa(m) + " months"})
	}
	return out
}

// States are the statuses the filter offers, with "any".
func (v *registerView) States() []option {
	out := []option{{"", "Any status"}}
	for _, s := range contracts.RegisterStates {
		out = append(out, option{s, contracts.StateLabel(s)})
	}
	return out
}

// query is the filter as URL parameters, without the page.
func (v *registerView) query() url.Values {
	q := url.Values{}
	for k, val := range map[string]string{"trust": v.Filter.TrustID, "supplier": v.Filter.SupplierID, "state": v.Filter.State} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if v.Filter.Window != 0 {
		q.Set(contracts.FieldWindow, strconv.Itoa(v.Filter.Window))
	}
	return q
}

// PageURL links to page n of the register with the same filter.
func (v *registerView) PageURL(n int) string {
	q := v.query()
	q.Set("page", strconv.Itoa(n))
	return "/register?" + q.Encode()
}

// CSVURL links to the export of every contract the filter keeps.
func (v *registerView) CSVURL() string {
	if q := v.query().Encode(); q != "" {
		return "/register.csv?" + q
	}
	return "/register.csv"
}

// registerFilter reads the filter from the query string. A window that is
// not a number is passed on as one the register refuses, so the person
// sees the same message as for any other window not on the list.
func registerFilter(q url.Values) contracts.RegisterFilter {
	f := contracts.RegisterFilter{TrustID: q.Get("trust"), SupplierID: q.Get("supplier"), State: q.Get(contracts.FieldState),
		Page: formInt(q, "page")}
	if w := strings.TrimSpace(q.Get(contracts.FieldWindow)); w != "" {
		var err error
		if f.Window, err = strconv.Atoi(w); err != nil {
			f.Window = -1
		}
	}
	return f
}

// registerPage shows a page of the register. A filter naming a window
// or status not on the lists is shown with its errors, and the register
// without that part of the filter.
func (s *Server) registerPage(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	f := registerFilter(q)
	scope := contracts.ScopeOf(*viewer(c).ActingOrg)
	p := s.page(c, "Contract register")
	p.Form = q
	status := http.StatusOK
	reg, err := s.Contracts.Register(ctx, scope, f)
	if errs, ok := validate.As(err); ok {
		p.Errors, status = errs, http.StatusBadRequest
		if errs.Has(contracts.FieldWindow) {
			f.Window = 0
		}
		if errs.Has(contracts.FieldState) {
			f.State = ""
		}
		reg, err = s.Contracts.Register(ctx, scope, f)
	}
	if err != nil {
		return err
	}
	v := &registerView{Register: reg, Filter: f, Readable: map[string]bool{}, Whose: registerWhose(scope, viewer(c).ActingOrg.Name)}
	for _, r := range reg.Rows {
		v.Readable[r.ID] = s.may(c, &r.Organisation, "contract", "read") || s.may(c, &r.Supplier, "contract", "read")
	}
	p.Data = v
	return s.render(c, status, "register", p)
}

// registerWhose says whose contracts a scope covers.
func registerWhose(sc contracts.Scope, name string) string {
	switch {
	case sc.All:
		return "Every contract in the portal"
	case sc.ConsortiumID != "":
		return "The contracts of " + name + "'s member trusts"
	case sc.SupplierID != "":
		return "The contracts " + name + " holds"
	}
	return name + "'s contracts"
}

// registerCSV exports every contract the filter keeps, as an attachment.
// It is written whole before it is sent, so a failure gives an error page
// rather than half a file.
func (s *Server) registerCSV(c echo.Context) error {
	f := registerFilter(c.QueryParams())
	if f.Check() != nil {
		return s.registerPage(c) // the page with the filter's errors
	}
	var buf bytes.Buffer
	if err := s.Contracts.RegisterCSV(c.Request().Context(), contracts.ScopeOf(*viewer(c).ActingOrg), f, &buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition,
		`attachment; filename="contract-register-`+s.Clock.Now().In(uktime.Location).Format("2006-01-02")+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
