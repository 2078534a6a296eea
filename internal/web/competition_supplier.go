package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// A supplier's side of a mini-competition: its invitation with the
// competition's terms and timeline, registering interest or declining with
// a reason, and the tender pack's documents. Bids themselves are made on
// the same page (see the marked place in competition.html).

// invitedSupplier loads the competition in the URL for a supplier invited
// to it: the viewer must act for a supplier organisation and hold the
// supplier role there (application/act in its domain), and that supplier
// must have been invited. Anyone else gets 404, so nobody learns which
// competitions exist, and the attempt is audited.
func (s *Server) invitedSupplier(c echo.Context, act string) (*competition.Competition, *competition.Invitee, *orgs.Organisation, error) {
	ctx := c.Request().Context()
	v := viewer(c)
	id := c.Param("id")
	deny := func() (*competition.Competition, *competition.Invitee, *orgs.Organisation, error) {
		s.auditDenied(c, "competition.supplier."+act, "competition", id)
		return nil, nil, nil, errNotFound
	}
	if v == nil || v.ActingOrg == nil || v.ActingOrg.Kind != orgs.KindSupplier || !s.authz.Allowed(v.User.ID, v.Domain(), "application", act) {
		return deny()
	}
	comp, err := s.Competition.Competition(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return deny()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	inv, err := s.Competition.Invitation(ctx, comp.ID, v.ActingOrg.ID)
	if errors.Is(err, store.ErrNotFound) {
		return deny()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return comp, inv, v.ActingOrg, nil
}

func (s *Server) competitionBidPage(c echo.Context) error {
	comp, inv, org, err := s.invitedSupplier(c, "read")
	if err != nil {
		return err
	}
	return s.renderSupplierCompetition(c, http.StatusOK, comp, inv, org, nil)
}

// renderSupplierCompetition shows the invitation, the terms, the timeline
// and the supplier's response.
func (s *Server) renderSupplierCompetition(c echo.Context, status int, comp *competition.Competition, inv *competition.Invitee, org *orgs.Organisation, formErr error) error {
	ctx := c.Request().Context()
	now := s.Clock.Now()
	t, err := s.terms(c, comp)
	if err != nil {
		return err
	}
	lot, err := s.lotOfCompetition(c, comp)
	if err != nil {
		return err
	}
	mayBid, err := s.Competition.MayBid(ctx, comp.ID, org.ID)
	if err != nil {
		return err
	}
	lead := ""
	for _, sc := range t.Schedules {
		if sc.Buyer.Lead {
			lead = sc.Buyer.Organisation.Name
		}
	}
	p := s.formPage(c, comp.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.Data = map[string]any{
		"View": "supplier", "C": comp, "Invitation": inv, "Supplier": org, "Lot": lot, "Lead": lead, "Terms": t,
		"StateLabel": competition.StateLabel(comp.State(now)), "MayBid": mayBid, "InterestOpen": comp.InterestOpen(now),
		"Open": comp.Status == competition.StatusPublished && now.Before(comp.SubmissionDeadline),
	}
	return s.render(c, status, "competition", p)
}

// supplierResponse records the supplier's response to its invitation and
// redirects to its page, or shows the page again with the problem.
func (s *Server) supplierResponse(c echo.Context, flash string, respond func(comp *competition.Competition, org *orgs.Organisation) error) error {
	comp, inv, org, err := s.invitedSupplier(c, "write")
	if err != nil {
		return err
	}
	err = respond(comp, org)
	if _, ok := validate.As(err); ok {
		return s.renderSupplierCompetition(c, http.StatusBadRequest, comp, inv, org, err)
	}
	if errors.Is(err, competition.ErrForbidden) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, competition.SupplierPath(comp.ID))
}

func (s *Server) competitionInterest(c echo.Context) error {
	return s.supplierResponse(c, "competition-interested", func(comp *competition.Competition, org *orgs.Organisation) error {
		return s.Competition.RegisterInterest(c.Request().Context(), actor(c), comp.ID, org.ID)
	})
}

func (s *Server) competitionDecline(c echo.Context) error {
	return s.supplierResponse(c, "competition-declined", func(comp *competition.Competition, org *orgs.Organisation) error {
		return s.Competition.Decline(c.Request().Context(), actor(c), comp.ID, org.ID, c.FormValue(competition.FieldReason))
	})
}

// competitionDocument downloads a document of the tender pack, for the
// buying trusts' users and the invited suppliers: only a document the
// competition holds, and only the lead trust's.
func (s *Server) competitionDocument(c echo.Context) error {
	ctx := c.Request().Context()
	var comp *competition.Competition
	if v := viewer(c); v != nil && v.ActingOrg != nil && v.ActingOrg.Kind == orgs.KindSupplier {
		sc, _, _, err := s.invitedSupplier(c, "read")
		if err != nil {
			return err
		}
		comp = sc
	} else {
		bc, err := s.readCompetition(c)
		if err != nil {
			return err
		}
		comp = bc.Competition
	}
	docs, err := s.Competition.Documents(ctx, comp.ID)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if d.DocumentID != c.Param("doc") {
			continue
		}
		doc, err := s.Docs.Get(ctx, d.DocumentID)
		if err != nil {
			return err
		}
		if doc.OrganisationID != comp.LeadOrgID {
			break
		}
		return s.sendDocument(c, doc)
	}
	s.auditDenied(c, "competition.document.read", "document", c.Param("doc"))
	return errNotFound
}
