package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/validate"
)

func (s *Server) adminUsers(c echo.Context) error {
	list, err := s.Orgs.Users(c.Request().Context(), c.QueryParam("q"))
	if err != nil {
		return err
	}
	p := s.page(c, "Users")
	p.Form = c.QueryParams()
	p.Data = map[string]any{"Users": list}
	return s.renderOK(c, "admin/users", p)
}

func userInput(c echo.Context) orgs.UserInput {
	f, _ := c.FormParams()
	return orgs.UserInput{Issuer: f.Get("issuer"), Subject: f.Get("subject"), Email: f.Get("email"), Name: f.Get("name"), Version: formInt(f, "version")}
}

func (s *Server) adminUserNew(c echo.Context) error {
	p := s.page(c, "Add a user")
	p.Data = map[string]any{}
	return s.renderOK(c, "admin/user_form", p)
}

func (s *Server) adminUserCreate(c echo.Context) error {
	u, err := s.Orgs.CreateUser(c.Request().Context(), actor(c), userInput(c))
	if err != nil {
		return s.userFormAgain(c, "Add a user", nil, err)
	}
	s.flash(c, "user-created")
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+u.ID)
}

func (s *Server) userFormAgain(c echo.Context, title string, u *orgs.User, err error) error {
	if _, ok := validate.As(err); !ok {
		return err
	}
	p := s.formPage(c, title, err)
	p.Data = map[string]any{"User": u}
	return s.render(c, http.StatusBadRequest, "admin/user_form", p)
}

// userPageData gathers what the user page shows: the person, their roles and
// what the grant form offers.
func (s *Server) userPageData(c echo.Context, u *orgs.User) (map[string]any, error) {
	ctx := c.Request().Context()
	ms, err := s.Orgs.MembershipsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	all, err := s.Orgs.Organisations(ctx, "", "")
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": u, "Memberships": ms, "Organisations": all, "Roles": authz.Roles}, nil
}

func (s *Server) adminUser(c echo.Context) error {
	u, err := s.Orgs.User(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	p := s.page(c, u.DisplayName())
	if p.Data, err = s.userPageData(c, u); err != nil {
		return err
	}
	return s.renderOK(c, "admin/user", p)
}

func (s *Server) adminUserEdit(c echo.Context) error {
	u, err := s.Orgs.User(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	p := s.page(c, "Change "+u.DisplayName())
	p.Form = map[string][]string{"name": {u.Name}, "email": {u.Email}}
	p.Data = map[string]any{"User": u}
	return s.renderOK(c, "admin/user_form", p)
}

func (s *Server) adminUserSave(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.Orgs.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.Orgs.UpdateUser(ctx, actor(c), u.ID, userInput(c)); err != nil {
		return s.userFormAgain(c, "Change "+u.DisplayName(), u, err)
	}
	s.flash(c, "user-saved")
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+u.ID)
}

func (s *Server) adminUserDisable(c echo.Context) error { return s.setUserDisabled(c, true) }
func (s *Server) adminUserEnable(c echo.Context) error  { return s.setUserDisabled(c, false) }

func (s *Server) setUserDisabled(c echo.Context, disabled bool) error {
	if err := s.Orgs.SetDisabled(c.Request().Context(), actor(c), c.Param("id"), disabled); err != nil {
		return s.userPageAgain(c, err)
	}
	if disabled {
		s.flash(c, "user-disabled")
	} else {
		s.flash(c, "user-enabled")
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+c.Param("id"))
}

func (s *Server) adminRoleGrant(c echo.Context) error {
	f, _ := c.FormParams()
	if _, err := s.Orgs.Grant(c.Request().Context(), actor(c), c.Param("id"), f.Get("organisationId"), f.Get("role")); err != nil {
		return s.userPageAgain(c, err)
	}
	s.flash(c, "role-granted")
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+c.Param("id"))
}

func (s *Server) adminRoleRevoke(c echo.Context) error {
	if err := s.Orgs.Revoke(c.Request().Context(), actor(c), c.Param("id"), c.Param("membership")); err != nil {
		return err
	}
	s.flash(c, "role-revoked")
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+c.Param("id"))
}

// userPageAgain shows the user page with the error summary.
func (s *Server) userPageAgain(c echo.Context, err error) error {
	if _, ok := validate.As(err); !ok {
		return err
	}
	u, uerr := s.Orgs.User(c.Request().Context(), c.Param("id"))
	if uerr != nil {
		return uerr
	}
	p := s.formPage(c, u.DisplayName(), err)
	if p.Data, err = s.userPageData(c, u); err != nil {
		return err
	}
	return s.render(c, http.StatusBadRequest, "admin/user", p)
}
