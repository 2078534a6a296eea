package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// cataloguesPage lists the acting consortium's requirement catalogues.
func (s *Server) cataloguesPage(c echo.Context) error {
	return s.renderCatalogues(c, http.StatusOK, nil)
}

func (s *Server) renderCatalogues(c echo.Context, status int, err error) error {
	list, lerr := s.Catalogue.Catalogues(c.Request().Context(), viewer(c).ActingOrg.ID)
	if lerr != nil {
		return lerr
	}
	p := s.formPage(c, "Requirement catalogues", err)
	if err == nil {
		p.Form = nil
	}
	p.Data = map[string]any{"Catalogues": list}
	return s.render(c, status, "catalogues", p)
}

func (s *Server) catalogueCreate(c echo.Context) error {
	cat, err := s.Catalogue.CreateCatalogue(c.Request().Context(), actor(c), viewer(c).ActingOrg.ID, c.FormValue("title"), c.FormValue("description"))
	if _, ok := validate.As(err); ok {
		return s.renderCatalogues(c, http.StatusBadRequest, err)
	}
	if err != nil {
		return err
	}
	s.flash(c, "catalogue-created")
	return c.Redirect(http.StatusSeeOther, "/catalogues/"+cat.ID)
}

// ownedCatalogue loads a catalogue and checks, in the domain of the
// consortium that owns it, that the viewer may act on it.
func (s *Server) ownedCatalogue(c echo.Context, act string) (*catalogue.Catalogue, error) {
	ctx := c.Request().Context()
	cat, err := s.Catalogue.Catalogue(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "catalogue."+act, "catalogue", c.Param("id"))
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkOwned(c, consortium(cat.ConsortiumID), "catalogue", act, "catalogue", cat.ID); err != nil {
		return nil, err
	}
	return cat, nil
}

func (s *Server) cataloguePage(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "read")
	if err != nil {
		return err
	}
	return s.renderCatalogue(c, http.StatusOK, cat, nil)
}

// renderCatalogue shows a catalogue with its requirements by section, its
// published versions, and (for those who may write) the forms that change
// it; formErr, when set, is shown in the error summary.
func (s *Server) renderCatalogue(c echo.Context, status int, cat *catalogue.Catalogue, formErr error) error {
	ctx := c.Request().Context()
	sections, err := s.Catalogue.Sections(ctx, cat.ID)
	if err != nil {
		return err
	}
	reqs, err := s.Catalogue.Requirements(ctx, cat.ID)
	if err != nil {
		return err
	}
	versions, err := s.Catalogue.Versions(ctx, cat.ID)
	if err != nil {
		return err
	}
	p := s.formPage(c, cat.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	var ie *catalogue.ImportError
	if errors.As(formErr, &ie) {
		p.Errors = &validate.Errors{}
		for _, prob := range ie.Problems {
			p.Errors.Add("file", prob.String())
		}
	}
	p.Data = map[string]any{
		"Catalogue": cat, "Sections": sections, "Requirements": reqs, "Versions": versions,
		"CanWrite": s.may(c, consortium(cat.ConsortiumID), "catalogue", "write"), "Columns": catalogue.Columns,
	}
	return s.render(c, status, "catalogue", p)
}

// consortium names the owner of a catalogue or framework for a permission
// check. Both are only ever created for a consortium (the domain services
// refuse anything else), so the domain is known without loading the record.
func consortium(id string) *orgs.Organisation {
	return &orgs.Organisation{ID: id, Kind: orgs.KindConsortium}
}

func (s *Server) catalogueSectionAdd(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "write")
	if err != nil {
		return err
	}
	if _, err := s.Catalogue.AddSection(c.Request().Context(), actor(c), cat.ID, c.FormValue("title")); err != nil {
		if _, ok := validate.As(err); ok {
			return s.renderCatalogue(c, http.StatusBadRequest, cat, err)
		}
		return err
	}
	s.flash(c, "section-added")
	return c.Redirect(http.StatusSeeOther, "/catalogues/"+cat.ID)
}

// requirementForm shows the add or change form for a requirement.
func (s *Server) requirementForm(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "write")
	if err != nil {
		return err
	}
	p := s.page(c, "Add a requirement")
	var req *catalogue.Requirement
	if id := c.Param("req"); id != "" {
		if req, err = s.Catalogue.Requirement(c.Request().Context(), cat.ID, id); err != nil {
			return err
		}
		p.Title = "Change " + req.Reference
		p.Form = map[string][]string{
			"id": {req.ID}, "version": {strconv.Itoa(req.Version)}, "sectionId": {req.SectionID}, "reference": {req.Reference},
			"text": {req.Text}, "priority": {req.Priority}, "weight": {strconv.Itoa(req.Weight)},
			"responseType": {req.ResponseType}, "guidance": {req.Guidance},
		}
		for i, d := range req.Descriptors {
			p.Form.Set(catalogue.FieldDescriptor(i), d)
		}
	}
	return s.renderRequirementForm(c, http.StatusOK, cat, p)
}

func (s *Server) renderRequirementForm(c echo.Context, status int, cat *catalogue.Catalogue, p *Page) error {
	sections, err := s.Catalogue.Sections(c.Request().Context(), cat.ID)
	if err != nil {
		return err
	}
	marks := make([]string, catalogue.Marks)
	for i := range marks {
		marks[i] = catalogue.FieldDescriptor(i)
	}
	p.Data = map[string]any{
		"Catalogue": cat, "Sections": sections, "Priorities": catalogue.Priorities,
		"ResponseTypes": catalogue.ResponseTypes, "Marks": marks,
	}
	return s.render(c, status, "requirement_form", p)
}

func (s *Server) requirementSave(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "write")
	if err != nil {
		return err
	}
	f, _ := c.FormParams()
	in := catalogue.RequirementInput{
		ID: f.Get("id"), SectionID: f.Get("sectionId"), Reference: f.Get("reference"), Text: f.Get("text"),
		Priority: f.Get("priority"), Weight: f.Get("weight"), ResponseType: f.Get("responseType"),
		Guidance: f.Get("guidance"), Version: formInt(f, "version"),
	}
	for i := range in.Descriptors {
		in.Descriptors[i] = f.Get(catalogue.FieldDescriptor(i))
	}
	if _, err := s.Catalogue.SaveRequirement(c.Request().Context(), actor(c), cat.ID, in); err != nil {
		if _, ok := validate.As(err); ok {
			title := "Add a requirement"
			if in.ID != "" {
				title = "Change " + in.Reference
			}
			return s.renderRequirementForm(c, http.StatusBadRequest, cat, s.formPage(c, title, err))
		}
		return err
	}
	s.flash(c, "requirement-saved")
	return c.Redirect(http.StatusSeeOther, "/catalogues/"+cat.ID)
}

func (s *Server) requirementDelete(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "write")
	if err != nil {
		return err
	}
	if err := s.Catalogue.DeleteRequirement(c.Request().Context(), actor(c), cat.ID, c.Param("req")); err != nil {
		return err
	}
	s.flash(c, "requirement-deleted")
	return c.Redirect(http.StatusSeeOther, "/catalogues/"+cat.ID)
}

// catalogueImport reads a CSV or XLSX file of requirements. Every row is
// checked first; a file with any problem saves nothing and each problem is
// listed by row and column.
func (s *Server) catalogueImport(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "write")
	if err != nil {
		return err
	}
	mr, err := s.openUpload(c, catalogue.MaxImportBytes+multipartOverhead)
	if errors.Is(err, errDeclaredTooLarge) {
		c.Response().Header().Set("Connection", "close")
		return s.renderCatalogue(c, http.StatusRequestEntityTooLarge, cat,
			newErrors("file", fmt.Sprintf("The file is larger than %d MiB. Split the requirements into smaller files.", catalogue.MaxImportBytes>>20)))
	}
	if err != nil {
		return err
	}
	part, name, err := nextFile(mr, "file")
	if err != nil {
		return s.renderCatalogue(c, http.StatusBadRequest, cat, newErrors("file", err.Error()))
	}
	res, err := s.Catalogue.Import(c.Request().Context(), actor(c), cat.ID, name, part)
	var ie *catalogue.ImportError
	if errors.As(err, &ie) {
		return s.renderCatalogue(c, http.StatusBadRequest, cat, err)
	}
	if err != nil {
		return err
	}
	s.flash(c, "catalogue-imported", res.Rows, res.Added, res.Updated, res.Unchanged)
	return c.Redirect(http.StatusSeeOther, "/catalogues/"+cat.ID)
}

// catalogueExport downloads the draft (or, with ?version=N, a published
// version) as CSV or XLSX, in the columns import reads.
func (s *Server) catalogueExport(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "read")
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "csv" && format != "xlsx" {
		return errNotFound
	}
	h := c.Response().Header()
	h.Set("Content-Type", catalogue.ContentType(format))
	name := fmt.Sprintf("requirements-draft.%s", format)
	version, _ := strconv.Atoi(c.QueryParam("version"))
	if version > 0 {
		name = fmt.Sprintf("requirements-v%d.%s", version, format)
	}
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	if version > 0 {
		return s.Catalogue.ExportVersion(c.Request().Context(), cat.ID, version, format, c.Response())
	}
	return s.Catalogue.Export(c.Request().Context(), cat.ID, format, c.Response())
}

func (s *Server) cataloguePublish(c echo.Context) error {
	cat, err := s.ownedCatalogue(c, "write")
	if err != nil {
		return err
	}
	v, err := s.Catalogue.Publish(c.Request().Context(), actor(c), cat.ID)
	if _, ok := validate.As(err); ok {
		return s.renderCatalogue(c, http.StatusBadRequest, cat, err)
	}
	if err != nil {
		return err
	}
	s.flash(c, "version-published", v.Number)
	return c.Redirect(http.StatusSeeOther, "/catalogues/"+cat.ID)
}
