package web

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/auth"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/validate"
)

// Viewer is the signed-in person making the request, with the organisation
// they act for. It is nil for anonymous requests.
type Viewer struct {
	Session     *auth.Session
	User        orgs.User
	Memberships []orgs.Membership
	ActingOrg   *orgs.Organisation
	// Unread is how many notifications the person has not read.
	Unread int64
	// Nav is the header's menu (navigation).
	Nav []NavLink
}

// Domain is the casbin domain the person acts in, or "" when they have not
// chosen an organisation.
func (v *Viewer) Domain() string {
	if v == nil || v.ActingOrg == nil {
		return ""
	}
	return authz.Domain(v.ActingOrg.Kind, v.ActingOrg.ID)
}

// RolesInActingOrg lists the person's roles in the organisation they act for.
func (v *Viewer) RolesInActingOrg() []string {
	var out []string
	if v == nil || v.ActingOrg == nil {
		return nil
	}
	for _, m := range v.Memberships {
		if m.OrganisationID == v.ActingOrg.ID {
			out = append(out, m.Role)
		}
	}
	return out
}

// Organisations lists the distinct organisations the person holds roles in.
func (v *Viewer) Organisations() []orgs.Organisation {
	var out []orgs.Organisation
	seen := map[string]bool{}
	for _, m := range v.Memberships {
		if !seen[m.OrganisationID] {
			seen[m.OrganisationID] = true
			out = append(out, m.Organisation)
		}
	}
	return out
}

const (
	viewerKey = "viewer"
	loggerKey = "logger"
	csrfKey   = "csrf"
)

func viewer(c echo.Context) *Viewer {
	v, _ := c.Get(viewerKey).(*Viewer)
	return v
}

func logger(c echo.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// actor describes the requester for the audit log.
func actor(c echo.Context) audit.Actor {
	a := audit.Actor{Label: "anonymous", IP: c.RealIP()}
	if v := viewer(c); v != nil {
		a.UserID, a.Label = v.User.ID, v.User.DisplayName()
		if v.ActingOrg != nil {
			a.OrgID = v.ActingOrg.ID
		}
	}
	return a
}

// Page is what every template receives.
type Page struct {
	Title   string
	Viewer  *Viewer
	CSRF    string
	Flash   string
	Errors  *validate.Errors
	Form    url.Values
	Path    string
	Data    any
	Can     func(obj, act string) bool
	BackURL string
	// ErrorLinks sends an error summary's link for a field somewhere other
	// than the field on this page (such as the task page where it is put
	// right).
	ErrorLinks map[string]string
}

// ErrorHref is where the error summary's link for field leads.
func (p *Page) ErrorHref(field string) string {
	if href, ok := p.ErrorLinks[field]; ok {
		return href
	}
	return "#" + field
}

// Value returns the submitted value of a form field, so a form shown again
// keeps what the person typed.
func (p *Page) Value(field string) string {
	if p.Form == nil {
		return ""
	}
	return p.Form.Get(field)
}

// Checked reports whether a multi-valued form field (checkboxes) holds
// value, so a form shown again keeps what the person ticked.
func (p *Page) Checked(field, value string) bool {
	for _, v := range p.Form[field] {
		if v == value {
			return true
		}
	}
	return false
}

// HasErrors reports whether the page shows an error summary.
func (p *Page) HasErrors() bool { return p.Errors != nil && len(p.Errors.List) > 0 }

// Error returns the message for field, if any.
func (p *Page) Error(field string) string { return p.Errors.For(field) }

func (s *Server) page(c echo.Context, title string) *Page {
	v := viewer(c)
	token, _ := c.Get(csrfKey).(string)
	if token == middleware.CSRFUsingSecFetchSite {
		token = ""
	}
	p := &Page{Title: title, Viewer: v, CSRF: token, Path: c.Request().URL.Path, Flash: s.takeFlash(c)}
	p.Can = func(obj, act string) bool {
		return v != nil && v.ActingOrg != nil && s.authz.Allowed(v.User.ID, v.Domain(), obj, act)
	}
	return p
}

// formPage is page for a form shown again after a validation failure.
func (s *Server) formPage(c echo.Context, title string, err error) *Page {
	p := s.page(c, title)
	p.Form, _ = c.FormParams()
	if v, ok := validate.As(err); ok {
		p.Errors = v
	}
	return p
}

// wantsPath reports whether the request path starts with any prefix.
func wantsPath(c echo.Context, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(c.Request().URL.Path, p) {
			return true
		}
	}
	return false
}
