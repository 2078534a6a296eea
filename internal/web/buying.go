package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// buyPage lists, for a trust, every published framework with the trust's
// standing under it: those it can buy from (with their agreements), and
// the others it may ask to be admitted to.
func (s *Server) buyPage(c echo.Context) error {
	return s.renderBuy(c, http.StatusOK, nil)
}

func (s *Server) renderBuy(c echo.Context, status int, formErr error) error {
	ctx := c.Request().Context()
	list, err := s.Framework.BuyerFrameworks(ctx, viewer(c).ActingOrg.ID)
	if err != nil {
		return err
	}
	consortia, err := s.Orgs.Organisations(ctx, orgs.KindConsortium, "")
	if err != nil {
		return err
	}
	names := make(map[string]string, len(consortia))
	for _, o := range consortia {
		names[o.ID] = o.Name
	}
	p := s.formPage(c, "Frameworks to buy from", formErr)
	p.Data = map[string]any{"Frameworks": list, "Consortia": names, "Now": s.Clock.Now(),
		"CanAsk": s.authz.Allowed(viewer(c).User.ID, viewer(c).Domain(), "calloff", "write")}
	return s.render(c, status, "buy", p)
}

// accessRequest asks, for the trust the viewer acts for, to be admitted as
// a buyer under a framework its consortium does not include it in.
func (s *Server) accessRequest(c echo.Context) error {
	v := viewer(c)
	if v.ActingOrg == nil || v.ActingOrg.Kind != orgs.KindTrust || !s.authz.Allowed(v.User.ID, v.Domain(), "calloff", "write") {
		s.auditDenied(c, "calloff.write", "framework", c.Param("id"))
		return errNotFound
	}
	ctx := c.Request().Context()
	fw, err := s.Framework.Framework(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && fw.Status == framework.StatusDraft) {
		s.auditDenied(c, "calloff.write", "framework", c.Param("id"))
		return errNotFound
	}
	if err != nil {
		return err
	}
	err = s.Framework.RequestAccess(ctx, actor(c), fw.ID, v.ActingOrg.ID)
	if ve, ok := validate.As(err); ok {
		// Tie the message to the framework's row on the list.
		out := &validate.Errors{}
		for _, e := range ve.List {
			out.Add("ask-"+fw.ID, e.Message)
		}
		return s.renderBuy(c, http.StatusBadRequest, out)
	}
	if err != nil {
		return err
	}
	s.flash(c, "access-requested")
	return c.Redirect(http.StatusSeeOther, framework.BuyPath)
}

// accessDecide admits or refuses a trust's request for access, for the
// consortium lead.
func (s *Server) accessDecide(c echo.Context) error {
	return s.frameworkChange(c, "access-decided", func(fw *framework.Framework) error {
		return s.Framework.DecideAccess(c.Request().Context(), actor(c), fw.ID, c.Param("org"), c.FormValue("decision") == "admit")
	})
}
