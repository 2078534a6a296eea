package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/ocds"
)

// openDataCache lets browsers and proxies keep the public data for five
// minutes: it changes only when a procedure moves on, and five minutes
// late is soon enough for open data.
const openDataCache = "public, max-age=300"

var errNoProcedure = &Error{Status: http.StatusNotFound,
	Message: "There is no published procedure with this OCID. Check the OCID, or see the open data page for every published procedure."}

// openDataPage explains the open data endpoints.
func (s *Server) openDataPage(c echo.Context) error {
	p := s.page(c, "Open data")
	p.Data = map[string]any{
		"Prefix":   s.OCDS.Prefix,
		"Releases": s.OCDS.PageURL(1),
		"Bulk":     s.OCDS.BulkURL(),
		"Example":  s.OCDS.OCID("<procedure ID>"),
		"PageSize": ocds.PageSize,
		"License":  ocds.License,
	}
	return s.renderOK(c, "open_data", p)
}

// ocdsReleasesPage is a page (?page=, from 1) of the release package of
// every published procedure, with a Link header to the next page.
func (s *Server) ocdsReleasesPage(c echo.Context) error {
	page := 1
	if v := c.QueryParam("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return &Error{Status: http.StatusBadRequest, Message: "The page must be a whole number, 1 or more"}
		}
		page = n
	}
	pkg, pages, err := s.OCDS.ReleasesPage(c.Request().Context(), page)
	if errors.Is(err, ocds.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "There are " + strconv.Itoa(pages) + " pages of releases; choose a page from 1 to " + strconv.Itoa(pages)}
	}
	if err != nil {
		return err
	}
	if page < pages {
		c.Response().Header().Set("Link", "<"+s.OCDS.PageURL(page+1)+`>; rel="next"`)
	}
	return openDataJSON(c, pkg)
}

// ocdsReleases is the release package of one procedure.
func (s *Server) ocdsReleases(c echo.Context) error {
	pkg, err := s.OCDS.ReleasePackage(c.Request().Context(), c.Param("ocid"))
	if errors.Is(err, ocds.ErrNotFound) {
		return errNoProcedure
	}
	if err != nil {
		return err
	}
	return openDataJSON(c, pkg)
}

// ocdsRecord is the record package of one procedure.
func (s *Server) ocdsRecord(c echo.Context) error {
	pkg, err := s.OCDS.RecordPackage(c.Request().Context(), c.Param("ocid"))
	if errors.Is(err, ocds.ErrNotFound) {
		return errNoProcedure
	}
	if err != nil {
		return err
	}
	return openDataJSON(c, pkg)
}

// ocdsBulk streams the record package of every published procedure as a
// download.
func (s *Server) ocdsBulk(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set("Cache-Control", openDataCache)
	h.Set("Content-Disposition", `attachment; filename="ocds-records.json"`)
	c.Response().WriteHeader(http.StatusOK)
	return s.OCDS.WriteBulk(c.Request().Context(), c.Response())
}

// openDataJSON writes v as public JSON.
func openDataJSON(c echo.Context, v any) error {
	c.Response().Header().Set("Cache-Control", openDataCache)
	return c.JSON(http.StatusOK, v)
}
