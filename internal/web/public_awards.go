package web

import (
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/contracts"
)

// publicAwardsView is a page of the public list of contract awards.
type publicAwardsView struct {
	*contracts.PublicAwards
	Filter contracts.AwardsFilter
}

// PageURL links to page n with the same filter.
func (v *publicAwardsView) PageURL(n int) string {
	q := url.Values{}
	if v.Filter.TrustID != "" {
		q.Set("trust", v.Filter.TrustID)
	}
	if v.Filter.SupplierID != "" {
		q.Set("supplier", v.Filter.SupplierID)
	}
	q.Set("page", strconv.Itoa(n))
	return "/public/awards?" + q.Encode()
}

// publicAwardsPage lists, for anyone and without signing in, the
// confirmed awards of mini-competitions with their contracts, most recent
// first, filtered by buying trust or supplier.
func (s *Server) publicAwardsPage(c echo.Context) error {
	q := c.QueryParams()
	f := contracts.AwardsFilter{TrustID: q.Get("trust"), SupplierID: q.Get("supplier"), Page: formInt(q, "page")}
	list, err := s.Contracts.PublicAwards(c.Request().Context(), f)
	if err != nil {
		return err
	}
	p := s.page(c, "Contract awards")
	p.Form = q
	p.Data = &publicAwardsView{PublicAwards: list, Filter: f}
	return s.renderOK(c, "public_awards", p)
}
