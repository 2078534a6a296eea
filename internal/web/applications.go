package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
)

// applicationsPage lists, for a supplier, the frameworks it was invited to
// and the open frameworks anyone may apply to.
func (s *Server) applicationsPage(c echo.Context) error {
	ctx := c.Request().Context()
	org := viewer(c).ActingOrg
	invited, err := s.Framework.SupplierFrameworks(ctx, org.ID)
	if err != nil {
		return err
	}
	open, err := s.Framework.PublicFrameworks(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range invited {
		seen[f.ID] = true
	}
	others := open[:0:0]
	for _, f := range open {
		if !seen[f.ID] {
			others = append(others, f)
		}
	}
	p := s.page(c, "Framework applications")
	p.Data = map[string]any{"Invited": invited, "Open": others, "Now": s.Clock.Now()}
	return s.renderOK(c, "applications", p)
}

// lotApplication is one lot as the supplier sees its own application.
type lotApplication struct {
	Lot framework.Lot
	// Status is the supplier's submission state (sealed.Status*), or ""
	// when it has not started.
	Status   string
	Receipts []sealed.Receipt
	HasDraft bool
	// Outcome is the decision on the application, once the letters have
	// gone.
	Outcome *framework.Application
}

// Latest is the newest receipt, if any.
func (l lotApplication) Latest() *sealed.Receipt {
	if len(l.Receipts) == 0 {
		return nil
	}
	return &l.Receipts[len(l.Receipts)-1]
}

func (s *Server) lotApplications(c echo.Context, fw *framework.Framework, org *orgs.Organisation) ([]lotApplication, error) {
	ctx := c.Request().Context()
	lots, err := s.Framework.Lots(ctx, fw.ID)
	if err != nil {
		return nil, err
	}
	out := make([]lotApplication, len(lots))
	for i, l := range lots {
		box := framework.ApplicationBox(fw, l.ID)
		out[i].Lot = l
		st, err := s.Sealed.StatusOf(ctx, box, org.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		out[i].Status = st.Status
		if out[i].Receipts, err = s.Sealed.Receipts(ctx, box, org.ID); err != nil {
			return nil, err
		}
		_, _, err = s.Sealed.Draft(ctx, actor(c), box, org.ID)
		switch {
		case err == nil:
			out[i].HasDraft = true
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// frameworkApply is a supplier's page for one framework: what it is, its
// lots and where the supplier's application to each stands.
func (s *Server) frameworkApply(c echo.Context) error {
	fw, org, err := s.supplierFramework(c, "read")
	if err != nil {
		return err
	}
	lots, err := s.lotApplications(c, fw, org)
	if err != nil {
		return err
	}
	cons, err := s.Orgs.Organisation(c.Request().Context(), fw.ConsortiumID)
	if err != nil {
		return err
	}
	outcomes, err := s.Framework.SupplierOutcomes(c.Request().Context(), fw.ID, org.ID)
	if err != nil {
		return err
	}
	for i := range lots {
		if o, ok := outcomes[lots[i].Lot.ID]; ok {
			lots[i].Outcome = &o
		}
	}
	p := s.page(c, fw.Title)
	p.BackURL = "/applications"
	p.Data = map[string]any{"Framework": fw, "Consortium": cons, "Lots": lots, "State": fw.State(s.Clock.Now())}
	return s.renderOK(c, "framework_apply", p)
}
