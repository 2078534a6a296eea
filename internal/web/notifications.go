package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/store"
)

// notificationsPage lists what the portal has told the signed-in person.
func (s *Server) notificationsPage(c echo.Context) error {
	list, err := s.Notify.List(c.Request().Context(), viewer(c).User.ID, 100)
	if err != nil {
		return err
	}
	p := s.page(c, "Notifications")
	p.Data = map[string]any{"Notifications": list}
	return s.renderOK(c, "notifications", p)
}

// notificationPage shows one notification and marks it read. Another
// person's notification is not found.
func (s *Server) notificationPage(c echo.Context) error {
	ctx := c.Request().Context()
	userID := viewer(c).User.ID
	n, err := s.Notify.Get(ctx, userID, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "notification.read", "notification", c.Param("id"))
		return errNotFound
	}
	if err != nil {
		return err
	}
	if !n.Read() {
		if err := s.Notify.MarkRead(ctx, userID, n.ID); err != nil {
			return err
		}
	}
	p := s.page(c, n.Subject)
	p.Data = map[string]any{"Notification": n}
	return s.renderOK(c, "notification", p)
}

func (s *Server) notificationsReadAll(c echo.Context) error {
	if err := s.Notify.MarkAllRead(c.Request().Context(), viewer(c).User.ID); err != nil {
		return err
	}
	s.flash(c, "notifications-read")
	return c.Redirect(http.StatusSeeOther, "/notifications")
}

// preferencesPage lets a person choose how each kind of notification
// reaches them; legal notices are shown but cannot be switched off.
func (s *Server) preferencesPage(c echo.Context) error {
	return s.renderPreferences(c, http.StatusOK, nil)
}

func (s *Server) renderPreferences(c echo.Context, status int, err error) error {
	prefs, perr := s.Notify.Preferences(c.Request().Context(), viewer(c).User.ID)
	if perr != nil {
		return perr
	}
	p := s.formPage(c, "How we contact you", err)
	if err == nil {
		p.Form = nil
	}
	p.Data = map[string]any{"Preferences": prefs}
	return s.render(c, status, "notification_preferences", p)
}

func (s *Server) preferencesSave(c echo.Context) error {
	ctx := c.Request().Context()
	userID := viewer(c).User.ID
	f, _ := c.FormParams()
	prefs := map[string]notify.Preference{}
	for _, k := range notify.Kinds {
		if k.Legal {
			continue // always on; their boxes are disabled, so browsers send nothing
		}
		prefs[k.Name] = notify.Preference{Kind: k.Name, Email: f.Get("email-"+k.Name) == "on", InApp: f.Get("in-app-"+k.Name) == "on"}
	}
	if err := s.Notify.SetPreferences(ctx, actor(c), userID, prefs); err != nil {
		return s.renderPreferences(c, http.StatusBadRequest, err)
	}
	s.flash(c, "preferences-saved")
	return c.Redirect(http.StatusSeeOther, notify.PreferencesPath)
}
