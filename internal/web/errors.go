package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/store"
)

// Error is an error with the status and the plain-English message a person
// should see. Anything else that reaches the error handler becomes a generic
// 500 page, with the detail going only to the log.
type Error struct {
	Status  int
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

var (
	errNotFound  = &Error{Status: http.StatusNotFound, Message: "Page not found"}
	errForbidden = &Error{Status: http.StatusForbidden}
)

// errorPages are the templates for the statuses people see.
var errorTitles = map[int]string{
	http.StatusBadRequest:            "There is a problem with your request",
	http.StatusForbidden:             "You do not have permission to see this page",
	http.StatusNotFound:              "Page not found",
	http.StatusMethodNotAllowed:      "Page not found",
	http.StatusConflict:              "Someone else changed this record",
	http.StatusRequestEntityTooLarge: "The file is too large",
	http.StatusTooManyRequests:       "Too many requests",
	http.StatusInternalServerError:   "Sorry, there is a problem with the service",
	http.StatusServiceUnavailable:    "Sorry, the service is unavailable",
}

// handleError renders the friendly error page. It fails closed: an error it
// does not recognise is a 500 that reveals nothing.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	message := ""
	var we *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &we):
		status, message = we.Status, we.Message
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		status = http.StatusConflict
		message = "Someone else saved a change to this record after you opened it. Go back, reload the page to see their change, and make yours again."
	case errors.As(err, &he):
		status = he.Code
	}
	if _, ok := errorTitles[status]; !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusMethodNotAllowed {
		status = http.StatusNotFound
	}
	if status >= 500 {
		logger(c).Error("request failed", "err", err, "method", c.Request().Method, "path", c.Path())
		message = ""
	}
	data := s.page(c, errorTitles[status])
	data.Data = map[string]any{"Status": status, "Message": message}
	if rerr := s.render(c, status, "error", data); rerr != nil {
		logger(c).Error("render error page", "err", rerr)
		_ = c.String(status, errorTitles[status])
	}
}
