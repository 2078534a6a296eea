package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/jobs"
)

// adminJobs lists background jobs by group (queued, failed, dead, ...) with
// the emails that have not gone out, so failures are visible.
func (s *Server) adminJobs(c echo.Context) error {
	ctx := c.Request().Context()
	group := c.QueryParam("group")
	if !slices.Contains(jobs.Groups, group) {
		group = "failed"
	}
	list, err := s.Jobs.Jobs(ctx, group, 100)
	if err != nil {
		return err
	}
	problems, err := s.Notify.EmailProblems(ctx, 50)
	if err != nil {
		return err
	}
	p := s.page(c, "Background jobs")
	p.Data = map[string]any{"Jobs": list, "Group": group, "Groups": jobs.Groups, "EmailProblems": problems}
	return s.renderOK(c, "admin/jobs", p)
}

func (s *Server) adminJobRetry(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	err = s.Jobs.Retry(c.Request().Context(), id)
	switch {
	case errors.Is(err, jobs.ErrNotRetryable):
		return &Error{Status: http.StatusConflict, Message: "This job cannot be retried now: it is not failed or dead. Reload the page to see its state.", Err: err}
	case err != nil:
		return err
	}
	if err := s.Audit.Record(c.Request().Context(), s.DB, actor(c), auditEvent("job.retry", "job", c.Param("id"))); err != nil {
		return err
	}
	s.flash(c, "job-retried")
	return c.Redirect(http.StatusSeeOther, "/admin/jobs?group=queued")
}

// adminOutbox shows the development outbox: email that would have been sent
// had an SMTP server been configured. It exists only outside production.
func (s *Server) adminOutbox(c echo.Context) error {
	msgs, err := s.Notify.Outbox(c.Request().Context(), 100)
	if err != nil {
		return err
	}
	p := s.page(c, "Development outbox")
	p.Data = map[string]any{"Messages": msgs}
	return s.renderOK(c, "admin/outbox", p)
}

// adminUserTestEmail sends a test notification to a user, to check that
// email reaches them.
func (s *Server) adminUserTestEmail(c echo.Context) error {
	if err := s.Notify.SendTest(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "test-email-sent")
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+c.Param("id"))
}
