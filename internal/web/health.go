package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is alive; it checks nothing else, so a slow
// database does not get a healthy process restarted.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "alive"})
}

// readyz says whether this instance can serve: the database answers and every
// migration the binary carries has been applied.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		logger(c).Warn("not ready: database", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
	}
	current, err := s.DB.MigrationsCurrent(ctx)
	if err != nil || !current {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "migrations pending"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
