package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// application is one supplier's application to one lot as its pages need
// it: the lot's requirements, the working copy (the sealed draft; after a
// submission the draft is kept equal to what was submitted, so the
// supplier can change and resubmit it) and the submission's state.
type application struct {
	Framework *framework.Framework
	Lot       *framework.Lot
	Supplier  *orgs.Organisation
	Box       sealed.Box
	Sections  []framework.Section
	Reqs      []framework.LotRequirement
	Content   framework.ApplicationContent
	SavedAt   time.Time
	// DraftVersion is the working copy's version (0 before the first
	// save); the task forms send it back so a stale tab is caught.
	DraftVersion int
	// Status is the zero value until the supplier has saved anything.
	Status   sealed.Status
	Receipts []sealed.Receipt
	Now      time.Time
}

// Path is the application's task list.
func (a *application) Path() string {
	return "/frameworks/" + a.Framework.ID + "/lots/" + a.Lot.ID + "/application"
}

// Open reports whether the application can still be changed: the framework
// is taking applications and the deadline has not passed.
func (a *application) Open() bool { return a.Framework.State(a.Now) == framework.StateOpen }

// Latest is the newest receipt, if any.
func (a *application) Latest() *sealed.Receipt {
	if len(a.Receipts) == 0 {
		return nil
	}
	return &a.Receipts[len(a.Receipts)-1]
}

// Submitted reports whether a response is in the box now.
func (a *application) Submitted() bool { return a.Status.Status == sealed.StatusSubmitted }

// Unsent reports whether the working copy differs from what was last
// submitted (or nothing was submitted yet), so the supplier knows it must
// submit again for changes to count.
func (a *application) Unsent() bool {
	b, err := a.Content.Encode()
	if err != nil {
		return true
	}
	last := a.Latest()
	return !a.Submitted() || last == nil || last.SHA256 != sealed.Hash(b)
}

// Gaps lists what the working copy still lacks before it can be submitted.
func (a *application) Gaps() []framework.Gap { return a.Content.Gaps(a.Reqs) }

// Task states, as the task list pattern names them.
const (
	taskNotStarted = "Not yet started"
	taskInProgress = "In progress"
	taskCompleted  = "Completed"
	taskOptional   = "Optional"
	taskCannot     = "Cannot start yet"
)

// SectionStatus is the task status of section i.
func (a *application) SectionStatus(i int) string {
	return answersStatus(a.Sections[i], a.Content.Answers)
}

// DocumentsStatus is the documents task's status.
func (a *application) DocumentsStatus() string { return documentsStatus(a.Content.Documents) }

// DeclarationsStatus is the declarations task's status.
func (a *application) DeclarationsStatus() string { return declarationsStatus(a.Content.Declared) }

// CheckStatus is the status of the last task, checking and submitting.
func (a *application) CheckStatus() string {
	return checkStatus(len(a.Gaps()), a.Submitted(), a.Unsent())
}

// CompletedSections counts the sections answered in full.
func (a *application) CompletedSections() int {
	return completedSections(len(a.Sections), a.SectionStatus)
}

// loadApplication reads the supplier's application to the lot in the URL.
func (s *Server) loadApplication(c echo.Context, act string) (*application, error) {
	fw, lot, org, err := s.supplierLot(c, act)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	a := &application{Framework: fw, Lot: lot, Supplier: org, Box: framework.ApplicationBox(fw, lot.ID), Now: s.Clock.Now()}
	// Past the deadline the tender box itself refuses, naming the deadline
	// and the attempt; before the window and once cancelled, so does this.
	if st := fw.State(a.Now); act == "write" && (st == framework.StateScheduled || st == framework.StateCancelled) {
		msg := "This framework is not taking applications yet: applications open " + uktime.MomentWithDay(fw.ApplicationsOpen) + " (UK time)"
		if st == framework.StateCancelled {
			msg = "This framework has been cancelled, so it no longer takes applications"
		}
		return nil, &Error{Status: http.StatusConflict, Message: msg}
	}
	if a.Reqs, err = s.Framework.LotRequirements(ctx, lot.ID); err != nil {
		return nil, err
	}
	a.Sections = framework.Sections(a.Reqs)
	wc, err := s.Sealed.WorkingCopy(ctx, actor(c), a.Box, org.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if a.Content, err = framework.DecodeApplication(lot.ID, wc.Content); err != nil {
		return nil, err
	}
	a.SavedAt, a.DraftVersion = wc.SavedAt, wc.Version
	a.Status, err = s.Sealed.StatusOf(ctx, a.Box, org.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if a.Receipts, err = s.Sealed.Receipts(ctx, a.Box, org.ID); err != nil {
		return nil, err
	}
	return a, nil
}

// section is the section whose 1-based number is in the URL.
func (a *application) section(c echo.Context) (int, *framework.Section, error) {
	n, err := strconv.Atoi(c.Param("section"))
	if err != nil || n < 1 || n > len(a.Sections) {
		return 0, nil, errNotFound
	}
	return n - 1, &a.Sections[n-1], nil
}

// draftConflict is shown when the working copy was saved elsewhere since
// the page was opened.
const draftConflict = "Your application was changed in another tab or by a colleague after you opened this page. Nothing was overwritten: your answers are still below; reload the page to see the latest version, then make your changes again."

// saveDraft seals the working copy again, if it is still the version the
// form was showing (store.ErrConflict otherwise).
func (s *Server) saveDraft(c echo.Context, a *application) error {
	b, err := a.Content.Encode()
	if err != nil {
		return err
	}
	if err := s.Sealed.SaveDraftAt(c.Request().Context(), actor(c), a.Box, a.Supplier.ID, b, a.DraftVersion); err != nil {
		return fmt.Errorf("save application draft: %w", err)
	}
	return nil
}

// postedDraftVersion is the working copy's version the submitted form was
// showing.
func postedDraftVersion(c echo.Context) int {
	f, _ := c.FormParams()
	return formInt(f, "draft_version")
}

// draftProblem turns a refused save into a message for the page: the
// deadline, or a save made elsewhere in the meantime; ok is false for
// other errors.
func draftProblem(err error) (*validate.Errors, bool) {
	if msg, ok := deadlineProblem(err); ok {
		return msg, true
	}
	if errors.Is(err, store.ErrConflict) {
		return newErrors("deadline", draftConflict), true
	}
	if errors.Is(err, sealed.ErrNotOpenYet) {
		return newErrors("deadline", "Applications are not open yet"), true
	}
	return nil, false
}
