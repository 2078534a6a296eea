package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/auth"
)

// signIn lists the identity providers to sign in with.
func (s *Server) signIn(c echo.Context) error {
	if viewer(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	p := s.page(c, "Sign in")
	p.Data = map[string]any{"Providers": s.Auth.Providers(), "ReturnTo": auth.SafeReturnTo(c.QueryParam("return_to"))}
	return s.renderOK(c, "signin", p)
}

// signInStart sends the browser to the provider, remembering the attempt in
// a short-lived cookie bound to this browser.
func (s *Server) signInStart(c echo.Context) error {
	authURL, attempt, err := s.Auth.Begin(c.Request().Context(), c.Param("provider"), c.QueryParam("return_to"))
	if errors.Is(err, auth.ErrUnknownProvider) {
		return errNotFound
	}
	if err != nil {
		logger(c).Error("start sign-in", "provider", c.Param("provider"), "err", err)
		return &Error{Status: http.StatusServiceUnavailable, Message: "The identity provider is not answering. Try again in a few minutes.", Err: err}
	}
	s.setCookie(c, s.cookies.attempt, attempt, 10*time.Minute)
	return c.Redirect(http.StatusSeeOther, authURL)
}

// signInCallback completes the sign-in. Any failure shows the same generic
// page; the reason goes to the audit log.
func (s *Server) signInCallback(c echo.Context) error {
	attempt := ""
	if ck, err := c.Cookie(s.cookies.attempt); err == nil {
		attempt = ck.Value
	}
	s.clearCookie(c, s.cookies.attempt)
	res, err := s.Auth.Complete(c.Request().Context(), c.Param("provider"), attempt, c.QueryParams(), c.RealIP())
	if err != nil {
		logger(c).Warn("sign-in refused", "provider", c.Param("provider"), "err", err)
		return s.render(c, http.StatusBadRequest, "signin_failed", s.page(c, "Sign-in failed"))
	}
	if old, err := c.Cookie(s.cookies.session); err == nil {
		if err := s.Sessions.Forget(c.Request().Context(), old.Value); err != nil {
			return err
		}
	}
	s.setCookie(c, s.cookies.session, res.SessionToken, s.cfg.SessionAbsolute)
	switch {
	case len(res.SignIn.Memberships) == 0:
		return c.Redirect(http.StatusSeeOther, "/no-access")
	case distinctOrgCount(res) > 1:
		return c.Redirect(http.StatusSeeOther, "/choose-organisation?return_to="+urlQueryEscape(res.ReturnTo))
	}
	return c.Redirect(http.StatusSeeOther, res.ReturnTo)
}

func distinctOrgCount(res *auth.Result) int {
	seen := map[string]bool{}
	for _, m := range res.SignIn.Memberships {
		seen[m.OrganisationID] = true
	}
	return len(seen)
}

// signOut ends the session here and, where the provider supports it, there.
func (s *Server) signOut(c echo.Context) error {
	v := viewer(c)
	next, err := s.Auth.SignOut(c.Request().Context(), v.Session, actor(c), s.cfg.BaseURL+"/signed-out")
	if err != nil {
		return err
	}
	s.clearCookie(c, s.cookies.session)
	if next == "" {
		next = "/signed-out"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) signedOut(c echo.Context) error {
	return s.renderOK(c, "signed_out", s.page(c, "You have signed out"))
}

// noAccess tells a signed-in person with no roles whom to ask.
func (s *Server) noAccess(c echo.Context) error {
	p := s.page(c, "You do not have access yet")
	p.Data = map[string]any{"SupportEmail": s.cfg.SupportEmail}
	return s.renderOK(c, "no_access", p)
}

// chooseOrganisation lets a person with roles in several organisations pick
// the one they act for.
func (s *Server) chooseOrganisation(c echo.Context) error {
	v := viewer(c)
	if len(v.Memberships) == 0 {
		return c.Redirect(http.StatusSeeOther, "/no-access")
	}
	p := s.page(c, "Which organisation are you acting for?")
	p.Data = map[string]any{"ReturnTo": auth.SafeReturnTo(c.QueryParam("return_to"))}
	return s.renderOK(c, "choose_organisation", p)
}

func (s *Server) chooseOrganisationSave(c echo.Context) error {
	v := viewer(c)
	orgID := c.FormValue("organisation")
	for _, o := range v.Organisations() {
		if o.ID == orgID {
			if err := s.Sessions.SetActingOrg(c.Request().Context(), v.Session.ID, orgID, s.Audit, actor(c)); err != nil {
				return err
			}
			s.flash(c, "org-chosen")
			return c.Redirect(http.StatusSeeOther, auth.SafeReturnTo(c.FormValue("return_to")))
		}
	}
	p := s.formPage(c, "Which organisation are you acting for?", nil)
	p.Errors = newErrors("organisation", "Select the organisation you are acting for")
	p.Data = map[string]any{"ReturnTo": auth.SafeReturnTo(c.FormValue("return_to"))}
	return s.render(c, http.StatusBadRequest, "choose_organisation", p)
}

// backChannelLogout receives a provider's logout token (server to server,
// so no CSRF token; the signed logout token is the proof).
func (s *Server) backChannelLogout(c echo.Context) error {
	err := s.Auth.BackChannelLogout(c.Request().Context(), c.Param("provider"), c.FormValue("logout_token"), c.RealIP())
	if err != nil {
		logger(c).Warn("back-channel logout refused", "provider", c.Param("provider"), "err", err)
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_request"})
	}
	return c.NoContent(http.StatusOK)
}
