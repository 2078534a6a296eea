package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Contracts made from confirmed awards: the list of the organisation the
// viewer acts for (its contracts as a buying trust, or as the supplier),
// and each contract's page, where the buying trust's trust leads complete
// and sign it, attach its documents, exercise extensions or terminate it.
// The contracts service checks the role on the stored trust again and
// audits refusals.

// contractsPage lists the acting organisation's contracts.
func (s *Server) contractsPage(c echo.Context) error {
	who := actor(c)
	list, err := s.Contracts.ContractsOf(c.Request().Context(), who.OrgID)
	if err != nil {
		return err
	}
	p := s.page(c, "Contracts")
	p.Data = map[string]any{"Contracts": list, "Now": s.Clock.Now()}
	return s.renderOK(c, "contracts", p)
}

// contractView is what a contract's page shows.
type contractView struct {
	K        *contracts.Contract
	State    string
	CanWrite bool
	Library  []documents.Document
	// Replaces are the national deployments the contract replaces;
	// Deployments, for those who may write, every deployment of the
	// buying trust, to choose from.
	Replaces    []exit.Deployment
	Deployments []exit.Deployment
}

// Replacing reports whether the contract replaces deployment id.
func (v *contractView) Replacing(id string) bool {
	for _, d := range v.Replaces {
		if d.ID == id {
			return true
		}
	}
	return false
}

// StateLabel is the contract's state in words.
func (v *contractView) StateLabel() string { return contracts.StateLabel(v.State) }

// loadContract reads the contract in the URL for a user of its buying
// trust or its supplier allowed to read contracts there; anyone else gets
// 404, audited.
func (s *Server) loadContract(c echo.Context) (*contractView, error) {
	ctx := c.Request().Context()
	k, err := s.Contracts.Contract(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "contract.read", "contract", c.Param("id"))
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if !s.may(c, &k.Organisation, "contract", "read") && !s.may(c, &k.Supplier, "contract", "read") {
		s.auditDenied(c, "contract.read", "contract", k.ID)
		return nil, errNotFound
	}
	v := &contractView{K: k, State: k.State(s.Clock.Now()), CanWrite: s.may(c, &k.Organisation, "contract", "write")}
	trust, err := s.Exit.Deployments(ctx, exit.Scope{Kind: orgs.KindTrust, OrgID: k.OrganisationID})
	if err != nil {
		return nil, err
	}
	for _, d := range trust {
		if d.ContractID != nil && *d.ContractID == k.ID {
			v.Replaces = append(v.Replaces, d)
		}
	}
	if v.CanWrite {
		v.Deployments = trust
		if v.Library, err = s.Docs.List(ctx, k.OrganisationID, "library", ""); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// contractPage shows a contract.
func (s *Server) contractPage(c echo.Context) error {
	v, err := s.loadContract(c)
	if err != nil {
		return err
	}
	return s.renderContract(c, http.StatusOK, v, nil)
}

func (s *Server) renderContract(c echo.Context, status int, v *contractView, formErr error) error {
	p := s.formPage(c, v.K.Name(), formErr)
	if formErr == nil {
		p.Form = contractForm(v.K)
		for _, d := range v.Replaces {
			p.Form[exit.FieldDeployments] = append(p.Form[exit.FieldDeployments], d.ID)
		}
	}
	p.BackURL = "/contracts"
	p.Data = v
	return s.render(c, status, "contract", p)
}

// contractForm fills the details form from the stored contract.
func contractForm(k *contracts.Contract) url.Values {
	f := url.Values{}
	set := func(name, value string) { f[name] = []string{value} }
	date := func(name string, t time.Time) { setDateInput(f, name, &t) }
	set(contracts.FieldValue, strings.TrimPrefix(strings.ReplaceAll(framework.Pounds(k.ValuePence), ",", ""), "£"))
	date(contracts.FieldStart, k.StartDate)
	date(contracts.FieldEnd, k.EndDate)
	if k.SignedAt != nil {
		date(contracts.FieldSignedAt, *k.SignedAt)
	}
	set(contracts.FieldExtensionOptions, k.ExtensionOptions)
	set(contracts.FieldMaxExtensionMonths, strconv.Itoa(k.MaxExtensionMonths))
	if k.NationalContractRef != nil {
		set(contracts.FieldNationalContract, *k.NationalContractRef)
	}
	set(contracts.FieldDeploymentsNote, k.DeploymentsNote)
	set("version", strconv.Itoa(k.Version))
	return f
}

// contractAct runs one change to the contract and shows the page again
// with the problem, or redirects to it with a confirmation.
func (s *Server) contractAct(c echo.Context, flash string, step func(v *contractView) error) error {
	v, err := s.loadContract(c)
	if err != nil {
		return err
	}
	if !v.CanWrite {
		s.auditDenied(c, "contract.write", "contract", v.K.ID)
		return errNotFound
	}
	err = step(v)
	status := http.StatusBadRequest
	if errors.Is(err, store.ErrConflict) {
		err = newErrors(contracts.FieldContract, "The contract was changed by someone else while you were working. Nothing was overwritten: check the details below and make your change again.")
		status = http.StatusConflict
	}
	if _, ok := validate.As(err); ok {
		fresh, lerr := s.loadContract(c)
		if lerr != nil {
			return lerr
		}
		return s.renderContract(c, status, fresh, err)
	}
	if errors.Is(err, contracts.ErrForbidden) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, "/contracts/"+v.K.ID)
}

// contractSave saves the contract's details.
func (s *Server) contractSave(c echo.Context) error {
	return s.contractAct(c, "contract-saved", func(v *contractView) error {
		form, _ := c.FormParams()
		var errs validate.Errors
		pence, ok := framework.ParsePounds(form.Get(contracts.FieldValue))
		if !ok {
			errs.Add(contracts.FieldValue, "Enter the contract value in pounds, for example 1250000 or 1,250,000.00")
		}
		dates := map[string]time.Time{}
		for _, f := range []string{contracts.FieldStart, contracts.FieldEnd, contracts.FieldSignedAt} {
			t, ok := dateInput(form, f)
			if !ok {
				errs.Add(f, "Enter a real date, for example 1 4 2027")
			}
			dates[f] = t
		}
		months, err := strconv.Atoi(strings.TrimSpace(form.Get(contracts.FieldMaxExtensionMonths)))
		if err != nil && strings.TrimSpace(form.Get(contracts.FieldMaxExtensionMonths)) != "" {
			errs.Add(contracts.FieldMaxExtensionMonths, "Enter the total extension allowed as a whole number of months, or 0")
		}
		if err := errs.Err(); err != nil {
			return err
		}
		in := contracts.DetailsInput{ValuePence: pence, Start: dates[contracts.FieldStart], End: dates[contracts.FieldEnd],
			ExtensionOptions: form.Get(contracts.FieldExtensionOptions), MaxExtensionMonths: months,
			NationalContractRef: form.Get(contracts.FieldNationalContract), DeploymentsNote: form.Get(contracts.FieldDeploymentsNote),
			DeploymentIDs: form[exit.FieldDeployments], Version: formInt(form, "version")}
		if signed := dates[contracts.FieldSignedAt]; !signed.IsZero() {
			in.SignedAt = &signed
		}
		return s.Contracts.Update(c.Request().Context(), actor(c), v.K.ID, in)
	})
}

// contractExtend exercises an extension.
func (s *Server) contractExtend(c echo.Context) error {
	return s.contractAct(c, "contract-extended", func(v *contractView) error {
		months, err := strconv.Atoi(strings.TrimSpace(c.FormValue(contracts.FieldExtensionMonths)))
		if err != nil {
			return newErrors(contracts.FieldExtensionMonths, "Enter the extension as a whole number of months")
		}
		return s.Contracts.ExerciseExtension(c.Request().Context(), actor(c), v.K.ID, months, formInt(mustForm(c), "version"))
	})
}

// contractTerminate terminates the contract.
func (s *Server) contractTerminate(c echo.Context) error {
	return s.contractAct(c, "contract-terminated", func(v *contractView) error {
		return s.Contracts.Terminate(c.Request().Context(), actor(c), v.K.ID, c.FormValue(contracts.FieldReason), formInt(mustForm(c), "version"))
	})
}

// contractAttach attaches a document from the trust's library.
func (s *Server) contractAttach(c echo.Context) error {
	return s.contractAct(c, "contract-document-added", func(v *contractView) error {
		return s.Contracts.AttachDocument(c.Request().Context(), actor(c), v.K.ID, c.FormValue(contracts.FieldDocument))
	})
}

// contractDetach removes a document from the contract.
func (s *Server) contractDetach(c echo.Context) error {
	return s.contractAct(c, "contract-document-removed", func(v *contractView) error {
		return s.Contracts.RemoveDocument(c.Request().Context(), actor(c), v.K.ID, c.Param("doc"))
	})
}

// mustForm is the request's form (empty when it cannot be read; the
// domain then refuses what is missing).
func mustForm(c echo.Context) map[string][]string {
	f, _ := c.FormParams()
	return f
}
