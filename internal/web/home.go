package web

import (
	"github.com/labstack/echo/v4"
)

// home is the start page for visitors and the dashboard for people signed in.
func (s *Server) home(c echo.Context) error {
	p := s.page(c, "Collaborative procurement for NHS trusts")
	v := viewer(c)
	if v != nil && len(v.Memberships) > 0 && v.ActingOrg == nil {
		return c.Redirect(303, "/choose-organisation")
	}
	return s.renderOK(c, "home", p)
}
