package web

import (
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/documents"
)

// errDeclaredTooLarge means the request said, before sending its body, that
// it is larger than the route accepts.
var errDeclaredTooLarge = errors.New("declared request body is too large")

// openUpload starts reading a streaming multipart upload. It refuses a
// declared length over limit before reading anything, caps the body at
// limit, and checks the CSRF token, which must be the form's first field, so
// nothing of the file is read for a forged request. Upload routes skip the
// CSRF middleware (which would buffer the whole form) for this reason.
func (s *Server) openUpload(c echo.Context, limit int64) (*multipart.Reader, error) {
	r := c.Request()
	if r.ContentLength > limit {
		return nil, errDeclaredTooLarge
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Message: "Choose a file to upload using the form.", Err: err}
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "_csrf" {
		return nil, s.refuseCSRF(c, errors.New("multipart form does not start with the CSRF token"))
	}
	token, _ := io.ReadAll(io.LimitReader(part, 256))
	cookie, err := c.Cookie(s.cookies.csrf)
	if err != nil || cookie.Value == "" || subtle.ConstantTimeCompare(token, []byte(cookie.Value)) != 1 {
		return nil, s.refuseCSRF(c, errors.New("multipart CSRF token does not match"))
	}
	return mr, nil
}

// nextFile reads the next part, which must be the file field, and returns it
// with its name as the browser sent it. Problems are RejectErrors worded for
// the person.
func nextFile(mr *multipart.Reader, field string) (*multipart.Part, string, error) {
	part, err := mr.NextPart()
	if err != nil {
		return nil, "", &documents.RejectError{Message: "The file's name could not be read. Rename the file using only letters, numbers, spaces and dashes, then upload it again"}
	}
	name := uploadedName(part)
	if part.FormName() != field || name == "" {
		return nil, "", &documents.RejectError{Message: "Select a file to upload"}
	}
	return part, name, nil
}

// uploadedName is the file name exactly as the browser sent it. Part.FileName
// strips any path, which would quietly turn "../../etc/passwd.pdf" into
// "passwd.pdf"; the document store should see, and refuse, the original.
func uploadedName(part *multipart.Part) string {
	if _, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	return part.FileName()
}
