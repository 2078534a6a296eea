package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// invitationInvite invites a supplier contact by email from the framework
// page. The email with its one-time link is queued in the same transaction
// as the invitation.
func (s *Server) invitationInvite(c echo.Context) error {
	return s.frameworkChange(c, "invitation-sent", func(fw *framework.Framework) error {
		_, _, err := s.Framework.Invite(c.Request().Context(), actor(c), fw.ID, c.FormValue("email"), c.FormValue("supplier"))
		if errors.Is(err, store.ErrNotFound) {
			return newErrors(framework.FieldOrganisation, "Select a supplier from the list, or leave it empty for one not yet registered")
		}
		return err
	})
}

// invitationView is what the invitation pages show.
type invitationView struct {
	Invitation *framework.Invitation
	Framework  *framework.Framework
	Consortium *orgs.Organisation
	Token      string
	// ActingSupplier is the supplier the viewer acts for, if any.
	ActingSupplier *orgs.Organisation
}

// loadInvitation finds the invitation of the token in the URL. An unknown
// or replaced link gets a page saying what to do, not a bare 404.
func (s *Server) loadInvitation(c echo.Context) (*invitationView, error) {
	ctx := c.Request().Context()
	token := c.Param("token")
	inv, err := s.Framework.Invitation(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "framework.invitation.open", "invitation", "unknown")
		return nil, &Error{Status: http.StatusNotFound, Message: "This invitation link does not work. It may have been replaced by a newer invitation: look for a later email, or ask the consortium that invited you to send it again."}
	}
	if err != nil {
		return nil, err
	}
	fw, err := s.Framework.Framework(ctx, inv.FrameworkID)
	if err != nil {
		return nil, err
	}
	cons, err := s.Orgs.Organisation(ctx, fw.ConsortiumID)
	if err != nil {
		return nil, err
	}
	view := &invitationView{Invitation: inv, Framework: fw, Consortium: cons, Token: token}
	if v := viewer(c); v != nil && v.ActingOrg != nil && v.ActingOrg.Kind == orgs.KindSupplier {
		view.ActingSupplier = v.ActingOrg
	}
	return view, nil
}

// invitationPage is where an invitation's link lands: what the framework
// is, and the next step for whoever opened it (sign in, accept for their
// supplier, or register a supplier not yet known).
func (s *Server) invitationPage(c echo.Context) error {
	view, err := s.loadInvitation(c)
	if err != nil {
		return err
	}
	return s.renderInvitation(c, http.StatusOK, view, nil)
}

func (s *Server) renderInvitation(c echo.Context, status int, view *invitationView, formErr error) error {
	p := s.formPage(c, "Invitation to apply: "+view.Framework.Title, formErr)
	p.Data = map[string]any{"View": view, "State": view.Framework.State(s.Clock.Now()),
		"SignIn": "/sign-in?return_to=" + url.QueryEscape(framework.InvitationPath(view.Token))}
	return s.render(c, status, "invitation", p)
}

// invitationAccept accepts the invitation for the supplier the viewer acts
// for.
func (s *Server) invitationAccept(c echo.Context) error {
	view, err := s.loadInvitation(c)
	if err != nil {
		return err
	}
	if view.ActingSupplier == nil {
		return s.renderInvitation(c, http.StatusBadRequest, view, newErrors(framework.FieldOrganisation, "Choose the supplier you act for before accepting, or register your organisation"))
	}
	_, err = s.Framework.Accept(c.Request().Context(), actor(c), view.Token, view.ActingSupplier.ID)
	if _, ok := validate.As(err); ok {
		return s.renderInvitation(c, http.StatusBadRequest, view, err)
	}
	if errors.Is(err, store.ErrConflict) {
		return s.renderInvitation(c, http.StatusConflict, view, newErrors(framework.FieldInvitation, "This invitation has just been accepted by someone else"))
	}
	if err != nil {
		return err
	}
	s.flash(c, "invitation-accepted")
	return c.Redirect(http.StatusSeeOther, "/frameworks/"+view.Framework.ID+"/apply")
}

// registration reads the short supplier registration form.
func registration(c echo.Context) (name, number string) {
	return strings.TrimSpace(c.FormValue(framework.FieldSupplierName)), strings.TrimSpace(c.FormValue(framework.FieldCompaniesHouse))
}

// invitationRegisterForm shows the registration form for a supplier not yet
// known to the portal.
func (s *Server) invitationRegisterForm(c echo.Context) error {
	view, err := s.loadInvitation(c)
	if err != nil {
		return err
	}
	return s.renderRegister(c, http.StatusOK, view, nil)
}

func (s *Server) renderRegister(c echo.Context, status int, view *invitationView, formErr error) error {
	p := s.formPage(c, "Register your organisation", formErr)
	p.BackURL = framework.InvitationPath(view.Token)
	p.Data = map[string]any{"View": view}
	return s.render(c, status, "invitation_register", p)
}

// invitationRegisterCheck checks the registration form and shows the
// answers before anything is saved.
func (s *Server) invitationRegisterCheck(c echo.Context) error {
	view, err := s.loadInvitation(c)
	if err != nil {
		return err
	}
	name, number := registration(c)
	var v validate.Errors
	v.Required(framework.FieldSupplierName, name, "Enter your organisation's registered name")
	v.Required(framework.FieldCompaniesHouse, number, "Enter your Companies House number, for example 04123456")
	if err := v.Err(); err != nil {
		return s.renderRegister(c, http.StatusBadRequest, view, err)
	}
	p := s.formPage(c, "Check your answers before registering", nil)
	p.BackURL = framework.InvitationPath(view.Token) + "/register"
	p.Data = map[string]any{"View": view, "Name": name, "Number": number}
	return s.renderOK(c, "invitation_check", p)
}

// invitationRegister registers the supplier, makes the viewer its supplier
// user and accepts the invitation in one transaction, then has the viewer
// act for the new supplier.
func (s *Server) invitationRegister(c echo.Context) error {
	view, err := s.loadInvitation(c)
	if err != nil {
		return err
	}
	name, number := registration(c)
	ctx := c.Request().Context()
	org, err := s.Framework.Register(ctx, actor(c), view.Token, name, number)
	if _, ok := validate.As(err); ok {
		return s.renderRegister(c, http.StatusBadRequest, view, err)
	}
	if err != nil {
		return err
	}
	if err := s.Sessions.SetActingOrg(ctx, viewer(c).Session.ID, org.ID, s.Audit, actor(c)); err != nil {
		return err
	}
	s.flash(c, "supplier-registered")
	return c.Redirect(http.StatusSeeOther, "/frameworks/"+view.Framework.ID+"/apply")
}
