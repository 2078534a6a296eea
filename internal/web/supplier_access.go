package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
)

// supplierFramework loads the framework named in the URL for a supplier:
// the viewer must act for a supplier organisation and hold the supplier
// role there (application/act in its domain), the framework must be
// published, and that supplier must have accepted an invitation to it (or
// it must be an open framework). Anything else answers 404, so a supplier
// cannot learn which drafts or closed frameworks exist, and is audited.
func (s *Server) supplierFramework(c echo.Context, act string) (*framework.Framework, *orgs.Organisation, error) {
	ctx := c.Request().Context()
	v := viewer(c)
	id := c.Param("id")
	deny := func() (*framework.Framework, *orgs.Organisation, error) {
		s.auditDenied(c, "application."+act, "framework", id)
		return nil, nil, errNotFound
	}
	if v == nil || v.ActingOrg == nil || v.ActingOrg.Kind != orgs.KindSupplier || !s.authz.Allowed(v.User.ID, v.Domain(), "application", act) {
		return deny()
	}
	fw, err := s.Framework.Framework(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return deny()
	}
	if err != nil {
		return nil, nil, err
	}
	if fw.Status == framework.StatusDraft {
		return deny()
	}
	invited, err := s.Framework.Invited(ctx, fw.ID, v.ActingOrg.ID)
	if err != nil {
		return nil, nil, err
	}
	if !invited {
		return deny()
	}
	return fw, v.ActingOrg, nil
}

// supplierLot is supplierFramework plus the lot named in the URL, which
// must belong to the framework.
func (s *Server) supplierLot(c echo.Context, act string) (*framework.Framework, *framework.Lot, *orgs.Organisation, error) {
	fw, org, err := s.supplierFramework(c, act)
	if err != nil {
		return nil, nil, nil, err
	}
	lots, err := s.Framework.Lots(c.Request().Context(), fw.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	for i := range lots {
		if lots[i].ID == c.Param("lot") {
			return fw, &lots[i], org, nil
		}
	}
	s.auditDenied(c, "application."+act, "framework_lot", c.Param("lot"))
	return nil, nil, nil, errNotFound
}
