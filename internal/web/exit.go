package web

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nhsprocure/portal/internal/csvcell"
	"github.com/nhsprocure/portal/internal/paging"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
)

// The exit tracker's dashboard: for the national programme (and platform
// administrators) the whole country, or one consortium chosen from it; for
// a consortium lead its member trusts; for a trust its own deployments.
// Counts by rating, region, system type, path and stage as charts with
// tables, the trend of the weekly snapshots, and the drill-down: the
// deployments a filter picks, with their ratings' reasons, also as CSV.

// exitPageSize is how many deployments the drill-down lists per page.
const exitPageSize = 50

// exitView is what the dashboard shows.
type exitView struct {
	*exit.Dashboard
	// ScopeName names the scope ("England", a consortium, a trust).
	ScopeName string
	// Consortia are the choices of scope for the national view (nil for
	// anyone else); Consortium the one chosen.
	Consortia  []orgs.Organisation
	Consortium string
	Filter     exit.Filter
	// Query is the scope and filter as URL parameters, for the CSV link
	// and the pages.
	Query  string
	Charts []ragChart
	Trend  trendChart
	// Pager says which page of the deployments the drill-down lists.
	paging.Pager
	Listed []exit.Rated
}

// exitScope works out whose deployments the viewer sees: the acting
// organisation's scope, or for the national view the consortium chosen in
// ?consortium=. The scope is never taken from the request otherwise.
func (s *Server) exitScope(c echo.Context) (exit.Scope, string, []orgs.Organisation, error) {
	ctx := c.Request().Context()
	org := viewer(c).ActingOrg
	sc, ok := exit.ScopeOf(*org)
	if !ok {
		return sc, "", nil, errNotFound
	}
	switch sc.Kind {
	case orgs.KindNational:
		consortia, err := s.Orgs.Organisations(ctx, orgs.KindConsortium, "")
		if err != nil {
			return sc, "", nil, err
		}
		if id := c.QueryParam("consortium"); id != "" {
			for _, o := range consortia {
				if o.ID == id {
					return exit.Scope{Kind: orgs.KindConsortium, OrgID: o.ID}, o.Name, consortia, nil
				}
			}
			return sc, "", nil, errNotFound
		}
		return sc, "England", consortia, nil
	}
	return sc, org.Name, nil, nil
}

// exitFilter reads the drill-down's filter from the query, keeping only
// values the tracker knows, so a link cannot smuggle anything into a
// query.
func exitFilter(q url.Values) exit.Filter {
	pick := func(v string, known func(string) bool) string {
		if known(v) {
			return v
		}
		return ""
	}
	return exit.Filter{
		Rating:  pick(q.Get("rating"), func(v string) bool { return exit.RatingLabel(v) != v }),
		Region:  pick(q.Get("region"), func(v string) bool { return orgs.RegionName(v) != v }),
		System:  pick(q.Get("system"), func(v string) bool { return exit.SystemLabel(v) != v }),
		Path:    pick(q.Get("path"), func(v string) bool { return v == "none" || (v != "" && exit.PathLabel(v) != v) }),
		Stage:   pick(q.Get("stage"), func(v string) bool { return exit.StageLabel(v) != v }),
		TrustID: q.Get("trust"),
	}
}

// filterQuery writes the scope and filter as URL parameters.
func filterQuery(consortium string, f exit.Filter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"consortium": consortium, "rating": f.Rating, "region": f.Region, "system": f.System,
		"path": f.Path, "stage": f.Stage, "trust": f.TrustID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// loadExit computes the dashboard for the request.
func (s *Server) loadExit(c echo.Context) (*exitView, error) {
	sc, name, consortia, err := s.exitScope(c)
	if err != nil {
		return nil, err
	}
	f := exitFilter(c.QueryParams())
	d, err := s.Exit.Dashboard(c.Request().Context(), sc, f)
	if err != nil {
		return nil, err
	}
	v := &exitView{Dashboard: d, ScopeName: name, Consortia: consortia, Filter: f}
	if sc.Kind == orgs.KindConsortium && consortia != nil {
		v.Consortium = sc.OrgID
	}
	scope := url.Values{}
	if v.Consortium != "" {
		scope.Set("consortium", v.Consortium)
	}
	v.Query = filterQuery(v.Consortium, f).Encode()
	link := exitLink(scope)
	if sc.Kind != orgs.KindTrust {
		v.Charts = append(v.Charts, newRAGChart("by-region", "Deployments by region", "Region", "region", d.ByRegion, link))
	}
	v.Charts = append(v.Charts,
		newRAGChart("by-system", "Deployments by type of system", "Type of system", "system", d.BySystem, link),
		newRAGChart("by-path", "Deployments by exit path", "Exit path", "path", d.ByPath, link),
		newRAGChart("by-stage", "Deployments by stage of the exit plan", "Stage", "stage", d.ByStage, link))
	v.Trend = newTrendChart(d.Trend)
	wanted, _ := strconv.Atoi(c.QueryParam("page"))
	v.Pager = paging.Of(len(d.Deployments), exitPageSize, wanted)
	from, to := v.Bounds()
	v.Listed = d.Deployments[from:to]
	return v, nil
}

// PageURL links to page n of the drill-down.
func (v *exitView) PageURL(n int) string {
	q := filterQuery(v.Consortium, v.Filter)
	q.Set("page", strconv.Itoa(n))
	return "/exit?" + q.Encode() + "#deployments"
}

// TrustName names the trust the filter picks, if any.
func (v *exitView) TrustName() string {
	for _, t := range v.ByTrust {
		if t.Key == v.Filter.TrustID {
			return t.Label
		}
	}
	return ""
}

// TrustURL links to the drill-down of one trust.
func (v *exitView) TrustURL(id string) string {
	q := filterQuery(v.Consortium, exit.Filter{TrustID: id})
	return "/exit?" + q.Encode() + "#deployments"
}

// exitPage shows the dashboard.
func (s *Server) exitPage(c echo.Context) error {
	v, err := s.loadExit(c)
	if err != nil {
		return err
	}
	p := s.page(c, "National contract exit tracker")
	p.Data = v
	return s.renderOK(c, "exit", p)
}

// exitCSV exports the deployments the filter picks, with their ratings and
// reasons, as CSV.
func (s *Server) exitCSV(c echo.Context) error {
	v, err := s.loadExit(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="exit-tracker-`+v.At.In(uktime.Location).Format("2006-01-02")+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"trust", "ods_code", "region", "national_contract", "expires_on", "system_type", "product", "path", "stage", "rating", "reason"})
	for _, d := range v.Deployments {
		_ = w.Write(csvcell.EscapeAll([]string{d.Organisation.Name, d.Organisation.ODS(), d.Organisation.RegionName(), d.NationalContract.Reference,
			d.NationalContract.ExpiresOn.In(uktime.Location).Format("2006-01-02"), exit.SystemLabel(d.SystemType), d.Product,
			exit.PathLabel(d.Path), exit.StageLabel(d.Stage), d.Rating, d.Reason}))
	}
	w.Flush()
	return w.Error()
}

// loadDeployment reads the deployment in the URL for someone whose
// dashboard covers it; anyone else gets 404, audited.
func (s *Server) loadDeployment(c echo.Context) (*exit.Deployment, error) {
	ctx := c.Request().Context()
	d, err := s.Exit.Deployment(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "exit.read", "deployment", c.Param("id"))
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.deploymentVisible(ctx, c, d); err != nil || !ok {
		if err == nil {
			s.auditDenied(c, "exit.read", "deployment", d.ID)
			err = errNotFound
		}
		return nil, err
	}
	return d, nil
}

// deploymentVisible reports whether the viewer's scope covers d and they
// may read the exit tracker in it.
func (s *Server) deploymentVisible(ctx context.Context, c echo.Context, d *exit.Deployment) (bool, error) {
	org := viewer(c).ActingOrg
	sc, ok := exit.ScopeOf(*org)
	if !ok || !s.may(c, org, "exit", "read") {
		return false, nil
	}
	return s.Exit.InScope(ctx, sc, *d)
}
