package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// exitImportOwner is what the document store records an import file as
// belonging to. The file is kept between the check and the confirmation
// in the document store, encrypted and hashed like any other, as the
// administrator's organisation's document: the confirmation imports exactly
// the file that was checked (by its ID), nothing has to be sent twice, and
// the file imported stays on record beside the audit entry naming its hash.
const exitImportOwner = "exit_import"

// importColumn describes a column of the import for the page's guide.
type importColumn struct {
	Name, Meaning string
	Required      bool
}

// importColumns is the guide to the import's columns.
func importColumns() []importColumn {
	systems := make([]string, len(exit.SystemTypes))
	for i, t := range exit.SystemTypes {
		systems[i] = t + " (" + exit.SystemLabel(t) + ")"
	}
	paths := make([]string, len(exit.Paths))
	for i, p := range exit.Paths {
		paths[i] = p + " (" + exit.PathLabel(p) + ")"
	}
	out := []importColumn{
		{exit.ColNationalContract, "The national contract's reference, as on the national contracts page, such as LSP-LONDON.", true},
		{exit.ColODSCode, "The trust's ODS code, such as RJ7.", true},
		{exit.ColSystemType, "One of: " + strings.Join(systems, ", ") + ". The code or the name.", true},
		{exit.ColProduct, "The product's name, such as Lorenzo. A row with the same national contract, trust, system type and product as a recorded deployment changes that deployment.", true},
		{exit.FieldPath, "The exit path chosen, if any: " + strings.Join(paths, ", ") + ". The code or the name.", false},
	}
	for _, k := range exit.MilestoneKinds {
		out = append(out,
			importColumn{exit.PlanField(k), "The planned date of the " + strings.ToLower(exit.MilestoneLabel(k)) + ", as YYYY-MM-DD or DD/MM/YYYY.", false},
			importColumn{exit.ActualField(k), "The date the " + strings.ToLower(exit.MilestoneLabel(k)) + " happened, today or earlier.", false})
	}
	return append(out, importColumn{exit.FieldNotes, "Notes on the plan, up to 5,000 characters.", false})
}

// exitImportPage offers the upload, with the guide to the columns.
func (s *Server) exitImportPage(c echo.Context) error {
	return s.renderExitImport(c, http.StatusOK, nil)
}

func (s *Server) renderExitImport(c echo.Context, status int, uploadErr error) error {
	p := s.page(c, "Import deployments")
	p.BackURL = "/exit/admin"
	if uploadErr != nil {
		p.Errors = newErrors("file", uploadErr.Error())
	}
	p.Data = map[string]any{"Columns": importColumns(), "MaxRows": exit.MaxImportRows, "MaxSize": documents.HumanSize(exit.MaxImportBytes)}
	return s.render(c, status, "exit_admin/import", p)
}

// exitImportTemplate downloads a CSV file with the header row to fill in.
func (s *Server) exitImportTemplate(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="deployments-template.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	return exit.WriteImportTemplate(c.Response())
}

// exitImportUpload streams the file into the document store, then shows
// the check of it. Nothing is imported yet.
func (s *Server) exitImportUpload(c echo.Context) error {
	tooLarge := &documents.RejectError{Message: fmt.Sprintf("The file is larger than %s. Split it into smaller files and import them one at a time", documents.HumanSize(exit.MaxImportBytes))}
	mr, err := s.openUpload(c, exit.MaxImportBytes+multipartOverhead)
	if errors.Is(err, errDeclaredTooLarge) {
		c.Response().Header().Set("Connection", "close")
		return s.renderExitImport(c, http.StatusRequestEntityTooLarge, tooLarge)
	}
	if err != nil {
		return err
	}
	part, name, err := nextFile(mr, "file")
	if err != nil {
		return s.renderExitImport(c, http.StatusBadRequest, err)
	}
	doc, err := s.Docs.Put(c.Request().Context(), actor(c), documents.Upload{
		OrganisationID: viewer(c).ActingOrg.ID, OwnerType: exitImportOwner, Name: name, Body: part,
	})
	var big *documents.TooLargeError
	var maxBytes *http.MaxBytesError
	var reject *documents.RejectError
	switch {
	case errors.As(err, &big), errors.As(err, &maxBytes):
		c.Response().Header().Set("Connection", "close")
		return s.renderExitImport(c, http.StatusRequestEntityTooLarge, tooLarge)
	case errors.As(err, &reject):
		return s.renderExitImport(c, http.StatusBadRequest, reject)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/exit/admin/import/"+doc.ID)
}

// importFile loads the uploaded import file named in the path: one the
// acting organisation uploaded for an import, or not found.
func (s *Server) importFile(c echo.Context) (*documents.Document, error) {
	doc, err := s.Docs.Get(c.Request().Context(), c.Param("doc"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (doc.OrganisationID != viewer(c).ActingOrg.ID || doc.OwnerType != exitImportOwner)) {
		s.auditDenied(c, "deployment.import", "document", c.Param("doc"))
		return nil, errNotFound
	}
	return doc, err
}

// runImport opens the stored file and checks it (commit false) or imports
// it.
func (s *Server) runImport(c echo.Context, doc *documents.Document, commit bool) (exit.ImportResult, error) {
	ctx := c.Request().Context()
	rc, err := s.Docs.Open(ctx, actor(c), doc)
	if err != nil {
		return exit.ImportResult{}, err
	}
	defer rc.Close()
	run := s.Exit.CheckDeployments
	if commit {
		run = s.Exit.ImportDeployments
	}
	res, err := run(ctx, actor(c), doc.Name, io.Reader(rc))
	if errors.Is(err, exit.ErrNotAdmin) {
		return res, errForbidden
	}
	return res, err
}

// exitImportCheck shows what importing the uploaded file would do, or
// every problem with it, row by row; nothing is imported.
func (s *Server) exitImportCheck(c echo.Context) error {
	doc, err := s.importFile(c)
	if err != nil {
		return err
	}
	res, err := s.runImport(c, doc, false)
	return s.renderImportCheck(c, http.StatusOK, doc, res, err)
}

// exitImportConfirm imports the checked file.
func (s *Server) exitImportConfirm(c echo.Context) error {
	doc, err := s.importFile(c)
	if err != nil {
		return err
	}
	res, err := s.runImport(c, doc, true)
	var ie *exit.ImportError
	if errors.As(err, &ie) {
		return s.renderImportCheck(c, http.StatusBadRequest, doc, res, err)
	}
	if err != nil {
		return err
	}
	s.flash(c, "deployments-imported", res.Rows, res.Created, res.Updated, res.Unchanged)
	return c.Redirect(http.StatusSeeOther, "/exit/admin")
}

// renderImportCheck shows the check page: the counts and the confirm
// button, or the file's problems with the error summary pointing at them.
func (s *Server) renderImportCheck(c echo.Context, status int, doc *documents.Document, res exit.ImportResult, err error) error {
	var ie *exit.ImportError
	if err != nil && !errors.As(err, &ie) {
		return err
	}
	p := s.page(c, "Check the file before importing")
	p.BackURL = "/exit/admin/import"
	if ie != nil {
		p.Title = "The file cannot be imported"
		p.Errors = &validate.Errors{}
		p.Errors.Add("problems", fmt.Sprintf("The file has %s and nothing has been imported. Put them right and upload the file again", plural(len(ie.Problems), "problem")))
	}
	p.Data = map[string]any{"Document": doc, "Result": res, "Problems": problemsOf(ie)}
	return s.render(c, status, "exit_admin/import_check", p)
}

func problemsOf(ie *exit.ImportError) []exit.ImportProblem {
	if ie == nil {
		return nil
	}
	return ie.Problems
}

// plural writes a count with its noun: "1 problem", "3 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
