package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/store"
)

// Public pages, without signing in: the live framework agreements of
// every consortium with their lots and appointed suppliers, and one
// agreement (live, or expired after it went live). The framework service
// decides what is public; nothing from the applications is read.

// publicFrameworksPage lists the live framework agreements.
func (s *Server) publicFrameworksPage(c echo.Context) error {
	list, err := s.Framework.LiveAgreements(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "Live framework agreements")
	p.Data = map[string]any{"Agreements": list}
	return s.renderOK(c, "public_frameworks", p)
}

// publicFrameworkPage shows one agreement; anything not public is 404.
func (s *Server) publicFrameworkPage(c echo.Context) error {
	ag, err := s.Framework.PublicAgreementByID(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	p := s.page(c, ag.Reference+" "+ag.Title)
	p.BackURL = "/public/frameworks"
	p.Data = ag
	return s.renderOK(c, "public_framework", p)
}
