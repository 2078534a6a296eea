package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/store"
)

// multipartOverhead allows for the form's other fields and part headers on
// top of the file itself.
const multipartOverhead = 64 << 10

// documentsPage lists the acting organisation's library and offers upload.
func (s *Server) documentsPage(c echo.Context) error {
	return s.renderDocuments(c, http.StatusOK, nil)
}

func (s *Server) renderDocuments(c echo.Context, status int, uploadErr error) error {
	ctx := c.Request().Context()
	org := viewer(c).ActingOrg
	list, err := s.Docs.List(ctx, org.ID, "library", "")
	if err != nil {
		return err
	}
	used, err := s.Docs.Used(ctx, org.ID)
	if err != nil {
		return err
	}
	p := s.page(c, "Documents")
	if uploadErr != nil {
		p.Errors = newErrors("file", uploadErr.Error())
	}
	p.Data = map[string]any{
		"Documents": list, "Used": documents.HumanSize(used), "Quota": documents.HumanSize(s.cfg.OrgQuota),
		"MaxFile": documents.HumanSize(s.cfg.UploadMax), "Allowed": documents.AllowedList(),
	}
	return s.render(c, status, "documents", p)
}

// documentUpload streams one file from a multipart form into the document
// store. The CSRF token must be the form's first field, so it is checked
// before any of the file is read; the size limit is enforced from the
// declared length before reading and again while streaming.
func (s *Server) documentUpload(c echo.Context) error {
	r := c.Request()
	mr, err := s.openUpload(c, s.cfg.UploadMax+multipartOverhead)
	if errors.Is(err, errDeclaredTooLarge) {
		return s.tooLarge(c)
	}
	if err != nil {
		return err
	}
	part, name, err := nextFile(mr, "file")
	if err != nil {
		return s.renderDocuments(c, http.StatusBadRequest, err)
	}
	org := viewer(c).ActingOrg
	doc, err := s.Docs.Put(r.Context(), actor(c), documents.Upload{OrganisationID: org.ID, OwnerType: "library", Name: name, Body: part})
	var tooLarge *documents.TooLargeError
	var maxBytes *http.MaxBytesError
	var reject *documents.RejectError
	switch {
	case errors.As(err, &tooLarge), errors.As(err, &maxBytes):
		return s.tooLarge(c)
	case errors.As(err, &reject):
		return s.renderDocuments(c, http.StatusBadRequest, reject)
	case err != nil:
		return err
	}
	s.flash(c, "document-uploaded")
	return c.Redirect(http.StatusSeeOther, "/documents/"+doc.ID)
}

func (s *Server) tooLarge(c echo.Context) error {
	c.Response().Header().Set("Connection", "close") // do not read the rest of an oversized body
	return s.renderDocuments(c, http.StatusRequestEntityTooLarge, &documents.TooLargeError{Limit: s.cfg.UploadMax})
}

// ownedDocument loads a document and checks, in the domain of the
// organisation that owns it, that the viewer may act on it.
func (s *Server) ownedDocument(c echo.Context, act string) (*documents.Document, error) {
	ctx := c.Request().Context()
	doc, err := s.Docs.Get(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "documents."+act, "document", c.Param("id"))
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	owner, err := s.Orgs.Organisation(ctx, doc.OrganisationID)
	if err != nil {
		return nil, err
	}
	if err := s.checkOwned(c, owner, "documents", act, "document", doc.ID); err != nil {
		return nil, err
	}
	return doc, nil
}

// documentPage shows a document's details, including the SHA-256 of what
// was uploaded, so the uploader can check it against their own copy.
func (s *Server) documentPage(c echo.Context) error {
	doc, err := s.ownedDocument(c, "read")
	if err != nil {
		return err
	}
	p := s.page(c, doc.Name)
	p.Data = map[string]any{"Document": doc, "Size": documents.HumanSize(doc.SizeBytes)}
	return s.renderOK(c, "document", p)
}

// documentDownload streams a document after checking permission and the
// stored file's integrity.
func (s *Server) documentDownload(c echo.Context) error {
	doc, err := s.ownedDocument(c, "read")
	if err != nil {
		return err
	}
	return s.sendDocument(c, doc)
}

// sendDocument streams a document whose permission the caller has checked,
// after checking the stored file's integrity.
func (s *Server) sendDocument(c echo.Context, doc *documents.Document) error {
	rc, err := s.Docs.Open(c.Request().Context(), actor(c), doc)
	if errors.Is(err, documents.ErrTampered) {
		logger(c).Error("stored document failed its integrity check", "document", doc.ID, "err", err)
		return &Error{Status: http.StatusInternalServerError, Err: err}
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	h := c.Response().Header()
	h.Set("Content-Type", doc.ContentType)
	h.Set("Content-Disposition", documents.ContentDisposition(doc.Name))
	h.Set("Content-Length", strconv.FormatInt(doc.SizeBytes, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(c.Response(), rc, buf); err != nil {
		logger(c).Error("download interrupted", "document", doc.ID, "err", err)
	}
	return nil
}
