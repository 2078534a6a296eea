package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// exitAdminPage links the administration's pages and lists the national
// contracts.
func (s *Server) exitAdminPage(c echo.Context) error {
	list, err := s.Exit.NationalContracts(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "Exit tracker administration")
	p.Data = map[string]any{"Contracts": list}
	return s.renderOK(c, "exit_admin/index", p)
}

func (s *Server) nationalContractNew(c echo.Context) error {
	return s.renderNationalContract(c, http.StatusOK, nil, s.page(c, "Add a national contract"))
}

// nationalContractEdit shows the form filled in from the stored contract.
func (s *Server) nationalContractEdit(c echo.Context) error {
	n, err := s.Exit.NationalContract(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	p := s.page(c, "Change "+n.Reference)
	p.Form = url.Values{
		exit.FieldReference: {n.Reference}, exit.FieldSupplier: {n.SupplierName}, exit.FieldArea: {n.Area},
		"version": {strconv.Itoa(n.Version)},
	}
	setDateInput(p.Form, exit.FieldExpiresOn, &n.ExpiresOn)
	setDateInput(p.Form, exit.FieldCompleteBy, n.ProcurementCompleteBy)
	return s.renderNationalContract(c, http.StatusOK, n, p)
}

func (s *Server) renderNationalContract(c echo.Context, status int, n *exit.NationalContract, p *Page) error {
	p.BackURL = "/exit/admin"
	p.Data = map[string]any{"Contract": n, "Regions": orgs.Regions}
	return s.render(c, status, "exit_admin/national_contract", p)
}

func (s *Server) nationalContractCreate(c echo.Context) error {
	return s.nationalContractSubmit(c, nil)
}

func (s *Server) nationalContractSave(c echo.Context) error {
	n, err := s.Exit.NationalContract(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return s.nationalContractSubmit(c, n)
}

// nationalContractSubmit reads the form and adds the contract (n nil) or
// changes n, showing the form again with its problems.
func (s *Server) nationalContractSubmit(c echo.Context, n *exit.NationalContract) error {
	form, _ := c.FormParams()
	in := exit.NationalContractInput{
		Reference: form.Get(exit.FieldReference), SupplierName: form.Get(exit.FieldSupplier), Area: form.Get(exit.FieldArea),
		Version: formInt(form, "version"),
	}
	var errs validate.Errors
	expires, ok := dateInput(form, exit.FieldExpiresOn)
	if !ok {
		errs.Add(exit.FieldExpiresOn, "Enter the last day as a real date, for example 31 7 2016")
	}
	completeBy, ok := dateInput(form, exit.FieldCompleteBy)
	if !ok {
		errs.Add(exit.FieldCompleteBy, "Enter the date procurement should be complete by as a real date, for example 31 12 2015, or leave it blank")
	}
	in.ExpiresOn = expires
	if !completeBy.IsZero() {
		in.ProcurementCompleteBy = &completeBy
	}
	id, title, flash := "", "Add a national contract", "national-contract-created"
	if n != nil {
		id, title, flash = n.ID, "Change "+n.Reference, "national-contract-saved"
	}
	err := errs.Err()
	if err == nil {
		_, err = s.Exit.SaveNationalContract(c.Request().Context(), actor(c), id, in)
	}
	if _, ok := validate.As(err); ok {
		return s.renderNationalContract(c, http.StatusBadRequest, n, s.formPage(c, title, err))
	}
	if errors.Is(err, exit.ErrNotAdmin) {
		return errForbidden
	}
	if err != nil {
		return err
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, "/exit/admin")
}
