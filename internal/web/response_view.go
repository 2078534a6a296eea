package web

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/framework"
)

// A supplier's sealed response (a framework application or a mini-competition
// bid) is filled in through the same task pages: answers section by
// section, documents from the library, declarations. These methods give the
// shared templates (views/response_*.html) what differs between the two.

// Caption names what is being answered above the page heading.
func (a *application) Caption() string {
	return "Lot " + strconv.Itoa(a.Lot.Number) + ": " + a.Lot.Title
}

// TaskPath is where the task forms post to.
func (a *application) TaskPath() string { return a.Path() }

// Noun is what the supplier is writing.
func (a *application) Noun() string { return "application" }

// Reader is who will read it after the deadline.
func (a *application) Reader() string { return "the consortium" }

// ClosedText says why the answers can no longer change.
func (a *application) ClosedText() string {
	return "Applications have closed; these answers can no longer be changed."
}

// Caption names what is being answered above the page heading.
func (b *supplierBid) Caption() string { return "Mini-competition " + b.C.Reference }

// TaskPath is where the task forms post to.
func (b *supplierBid) TaskPath() string { return b.Base() }

// Noun is what the supplier is writing.
func (b *supplierBid) Noun() string { return "bid" }

// Reader is who will read it after the deadline.
func (b *supplierBid) Reader() string { return "the buyer" }

// ClosedText says why the answers can no longer change.
func (b *supplierBid) ClosedText() string {
	return "Bids have closed, or your organisation cannot bid; these answers can no longer be changed."
}

// documentsStatus is the documents task's status.
func documentsStatus(docs []framework.AttachedDocument) string {
	if len(docs) > 0 {
		return taskCompleted
	}
	return taskOptional
}

// declarationsStatus is the declarations task's status.
func declarationsStatus(declared func(key string) bool) string {
	n := 0
	for _, d := range framework.Declarations {
		if declared(d.Key) {
			n++
		}
	}
	switch n {
	case len(framework.Declarations):
		return taskCompleted
	case 0:
		return taskNotStarted
	}
	return taskInProgress
}

// checkStatus is the status of the last task, checking and submitting.
func checkStatus(gaps int, submitted, unsent bool) string {
	switch {
	case gaps > 0:
		return taskCannot
	case submitted && !unsent:
		return taskCompleted
	}
	return taskNotStarted
}

// completedSections counts the sections answered in full.
func completedSections(sections int, status func(i int) string) int {
	n := 0
	for i := range sections {
		if status(i) == taskCompleted {
			n++
		}
	}
	return n
}

// libraryChoice is the supplier's document library with the documents
// already attached marked, for the documents task.
func (s *Server) libraryChoice(c echo.Context, supplierID string, attachedDocs []framework.AttachedDocument) ([]documents.Document, map[string]bool, error) {
	library, err := s.Docs.List(c.Request().Context(), supplierID, "library", "")
	if err != nil {
		return nil, nil, err
	}
	attached := map[string]bool{}
	for _, d := range attachedDocs {
		attached[d.ID] = true
	}
	return library, attached, nil
}

// chosenDocuments reads the documents ticked on the documents task, each
// pinned by its SHA-256. Only the supplier's own library documents can be
// attached: any other ID is refused as not found, and audited as action.
func (s *Server) chosenDocuments(c echo.Context, supplierID, action string) ([]framework.AttachedDocument, error) {
	library, err := s.Docs.List(c.Request().Context(), supplierID, "library", "")
	if err != nil {
		return nil, err
	}
	form, _ := c.FormParams()
	chosen := map[string]bool{}
	for _, id := range form["document"] {
		chosen[id] = true
	}
	var out []framework.AttachedDocument
	for _, d := range library {
		if chosen[d.ID] {
			out = append(out, framework.AttachedDocument{ID: d.ID, Name: d.Name, SHA256: d.SHA256, Size: d.SizeBytes})
			delete(chosen, d.ID)
		}
	}
	if len(chosen) > 0 {
		s.auditDenied(c, action, "document", strings.Join(keys(chosen), ","))
		return nil, errNotFound
	}
	return out, nil
}
