package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
)

// organisationPage shows an organisation's details and its people to those
// who hold a role in it. The permission is checked in the organisation's own
// domain; anyone else gets 404 and an audit entry.
func (s *Server) organisationPage(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := s.Orgs.Organisation(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "organisation.read", "organisation", c.Param("id"))
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := s.checkOwned(c, o, "organisation", "read", "organisation", o.ID); err != nil {
		return err
	}
	people, err := s.Orgs.MembersOf(ctx, o.ID)
	if err != nil {
		return err
	}
	data := map[string]any{"Organisation": o, "People": people}
	if o.Kind == orgs.KindConsortium {
		if data["Members"], err = s.Orgs.Members(ctx, o.ID); err != nil {
			return err
		}
	}
	if o.Kind == orgs.KindTrust {
		if data["Consortia"], err = s.Orgs.ConsortiaOf(ctx, o.ID); err != nil {
			return err
		}
	}
	p := s.page(c, o.Name)
	p.Data = data
	return s.renderOK(c, "organisation", p)
}
