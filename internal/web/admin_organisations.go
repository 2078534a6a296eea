package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/validate"
)

func (s *Server) adminHome(c echo.Context) error {
	return s.renderOK(c, "admin/index", s.page(c, "Administration"))
}

func (s *Server) adminOrganisations(c echo.Context) error {
	kind, q := c.QueryParam("kind"), c.QueryParam("q")
	list, err := s.Orgs.Organisations(c.Request().Context(), kind, q)
	if err != nil {
		return err
	}
	p := s.page(c, "Organisations")
	p.Form = c.QueryParams()
	p.Data = map[string]any{"Organisations": list, "Kinds": orgs.Kinds, "Kind": kind, "Query": q}
	return s.renderOK(c, "admin/organisations", p)
}

// organisationForm holds what the organisation form needs besides the input.
func (s *Server) organisationForm(c echo.Context, p *Page, o *orgs.Organisation) error {
	trusts, err := s.Orgs.Organisations(c.Request().Context(), orgs.KindTrust, "")
	if err != nil {
		return err
	}
	p.Data = map[string]any{"Kinds": orgs.Kinds, "Regions": orgs.Regions, "Trusts": trusts, "Organisation": o}
	return nil
}

func organisationInput(c echo.Context) orgs.OrganisationInput {
	f, _ := c.FormParams()
	return orgs.OrganisationInput{
		Kind: f.Get("kind"), Name: f.Get("name"), ODSCode: f.Get("odsCode"), Region: f.Get("region"),
		CompaniesHouseNumber: f.Get("companiesHouseNumber"), LeadOrganisationID: f.Get("leadOrganisationId"),
		Version: formInt(f, "version"),
	}
}

func (s *Server) adminOrganisationNew(c echo.Context) error {
	p := s.page(c, "Add an organisation")
	p.Form = c.QueryParams() // "Change" links from the check page come back with the answers
	if err := s.organisationForm(c, p, nil); err != nil {
		return err
	}
	return s.renderOK(c, "admin/organisation_form", p)
}

// adminOrganisationCheck shows the answers back before anything is saved
// (the check-your-answers pattern). Obvious mistakes are caught here; the
// rules are checked again, authoritatively, when the answers are confirmed.
func (s *Server) adminOrganisationCheck(c echo.Context) error {
	in := organisationInput(c)
	var v validate.Errors
	v.Required("kind", in.Kind, "Select the kind of organisation")
	v.Required("name", in.Name, "Enter the organisation's name")
	if err := v.Err(); err != nil {
		return s.organisationFormAgain(c, "Add an organisation", nil, err)
	}
	p := s.formPage(c, "Check the organisation's details", nil)
	if err := s.organisationForm(c, p, nil); err != nil {
		return err
	}
	return s.renderOK(c, "admin/organisation_check", p)
}

func (s *Server) organisationFormAgain(c echo.Context, title string, o *orgs.Organisation, err error) error {
	if _, ok := validate.As(err); !ok {
		return err
	}
	p := s.formPage(c, title, err)
	if ferr := s.organisationForm(c, p, o); ferr != nil {
		return ferr
	}
	return s.render(c, http.StatusBadRequest, "admin/organisation_form", p)
}

func (s *Server) adminOrganisationCreate(c echo.Context) error {
	o, err := s.Orgs.CreateOrganisation(c.Request().Context(), actor(c), organisationInput(c))
	if err != nil {
		return s.organisationFormAgain(c, "Add an organisation", nil, err)
	}
	s.flash(c, "organisation-created")
	return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+o.ID)
}

func (s *Server) adminOrganisation(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := s.Orgs.Organisation(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	data := map[string]any{"Organisation": o}
	if data["People"], err = s.Orgs.MembersOf(ctx, o.ID); err != nil {
		return err
	}
	if o.Kind == orgs.KindConsortium {
		if data["Members"], err = s.Orgs.Members(ctx, o.ID); err != nil {
			return err
		}
		if data["Trusts"], err = s.Orgs.Organisations(ctx, orgs.KindTrust, ""); err != nil {
			return err
		}
	}
	p := s.page(c, o.Name)
	p.Data = data
	return s.renderOK(c, "admin/organisation", p)
}

func (s *Server) adminOrganisationEdit(c echo.Context) error {
	o, err := s.Orgs.Organisation(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	p := s.page(c, "Change "+o.Name)
	p.Form = map[string][]string{
		"kind": {o.Kind}, "name": {o.Name}, "odsCode": {o.ODS()}, "region": {o.Region},
		"companiesHouseNumber": {o.CompaniesHouse()}, "leadOrganisationId": {deref(o.LeadOrganisationID)},
	}
	if err := s.organisationForm(c, p, o); err != nil {
		return err
	}
	return s.renderOK(c, "admin/organisation_form", p)
}

func (s *Server) adminOrganisationSave(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := s.Orgs.Organisation(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.Orgs.UpdateOrganisation(ctx, actor(c), o.ID, organisationInput(c)); err != nil {
		return s.organisationFormAgain(c, "Change "+o.Name, o, err)
	}
	s.flash(c, "organisation-saved")
	return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+o.ID)
}

func (s *Server) adminMemberAdd(c echo.Context) error {
	ctx := c.Request().Context()
	f, _ := c.FormParams()
	joined, ok := dateInput(f, "joinedOn")
	if !ok {
		return s.memberFormAgain(c, newErrors("joinedOn", "Date joined must be a real date, for example 1 4 2015"))
	}
	if _, err := s.Orgs.AddMember(ctx, actor(c), c.Param("id"), f.Get("trustId"), joined); err != nil {
		return s.memberFormAgain(c, err)
	}
	s.flash(c, "member-added")
	return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+c.Param("id"))
}

func (s *Server) adminMemberEnd(c echo.Context) error {
	f, _ := c.FormParams()
	left, ok := dateInput(f, "leftOn")
	if !ok {
		return s.memberFormAgain(c, newErrors("leftOn", "Date left must be a real date, for example 31 3 2026"))
	}
	if err := s.Orgs.EndMember(c.Request().Context(), actor(c), c.Param("id"), c.Param("member"), left); err != nil {
		return s.memberFormAgain(c, err)
	}
	s.flash(c, "member-ended")
	return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+c.Param("id"))
}

// memberFormAgain shows the consortium page again with the error summary.
func (s *Server) memberFormAgain(c echo.Context, err error) error {
	if _, ok := validate.As(err); !ok {
		return err
	}
	ctx := c.Request().Context()
	o, oerr := s.Orgs.Organisation(ctx, c.Param("id"))
	if oerr != nil {
		return oerr
	}
	p := s.formPage(c, o.Name, err)
	data := map[string]any{"Organisation": o}
	if data["People"], err = s.Orgs.MembersOf(ctx, o.ID); err != nil {
		return err
	}
	if data["Members"], err = s.Orgs.Members(ctx, o.ID); err != nil {
		return err
	}
	if data["Trusts"], err = s.Orgs.Organisations(ctx, orgs.KindTrust, ""); err != nil {
		return err
	}
	p.Data = data
	return s.render(c, http.StatusBadRequest, "admin/organisation", p)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
