package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// gapErrors lists what an application lacks as an error summary whose
// links lead to the task where each thing is put right.
func gapErrors(gaps []framework.Gap) *validate.Errors {
	var v validate.Errors
	for _, g := range gaps {
		v.Add(g.Field, g.Message)
	}
	return &v
}

// applicationCheck is the check-your-answers page. What is still missing
// is listed at the top, and the submit button appears only when nothing is.
func (s *Server) applicationCheck(c echo.Context) error {
	a, err := s.loadApplication(c, "read")
	if err != nil {
		return err
	}
	return s.renderCheck(c, http.StatusOK, a, nil)
}

func (s *Server) renderCheck(c echo.Context, status int, a *application, formErr error) error {
	if formErr == nil && len(a.Gaps()) > 0 {
		formErr = gapErrors(a.Gaps())
	}
	p := s.formPage(c, "Check your answers before submitting your application", formErr)
	p.BackURL = a.Path()
	p.ErrorLinks = gapLinks(a)
	p.Data = map[string]any{"App": a, "Response": a, "Declarations": framework.Declarations}
	return s.render(c, status, "application_check", p)
}

// gapLinks maps a gap's field to the task page where it is put right.
func gapLinks(a *application) map[string]string {
	out := map[string]string{framework.FieldDeclarations: a.Path() + "/declarations"}
	for i, sec := range a.Sections {
		for _, r := range sec.Requirements {
			out[r.ID] = a.Path() + "/section/" + strconv.Itoa(i+1) + "#" + fieldFor(r)
		}
	}
	return out
}

// conflictMessage is shown when two tabs or two colleagues submit or
// withdraw the same application at once: one wins, the other is told.
const conflictMessage = "Your application was submitted or withdrawn from another tab or by a colleague while you were working. Nothing was overwritten: check the latest receipt below, then submit again if you need to."

// applicationSubmit seals the working copy as the supplier's application,
// or its resubmission. The hidden version is the submission's version the
// supplier saw: a stale one is refused as a conflict, never overwritten.
func (s *Server) applicationSubmit(c echo.Context) error {
	a, err := s.loadApplication(c, "write")
	if err != nil {
		return err
	}
	if gaps := a.Gaps(); len(gaps) > 0 {
		return s.renderCheck(c, http.StatusBadRequest, a, gapErrors(gaps))
	}
	content, err := a.Content.Encode()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rc, err := s.Sealed.Submit(ctx, actor(c), a.Box, a.Supplier.ID, content, expectedVersion(c))
	if err != nil {
		return s.sealedRefusal(c, a, err)
	}
	// The working copy stays what was just submitted, so a later change
	// starts from it. At the deadline this may be refused, which is fine:
	// no change can be submitted then anyway.
	// Submitting cleared the draft, so it is version 0 unless another tab
	// has saved a new one since, which is then left alone.
	if err := s.Sealed.SaveDraftAt(ctx, actor(c), a.Box, a.Supplier.ID, content, 0); err != nil && !errors.Is(err, sealed.ErrDeadlinePassed) && !errors.Is(err, store.ErrConflict) {
		logger(c).Error("keep working copy after submitting", "err", err)
	}
	s.emailReceipt(c, actor(c), a, rc)
	return c.Redirect(http.StatusSeeOther, a.Path()+"/receipts/"+strconv.Itoa(rc.Number))
}

// expectedVersion is the submission version the page was showing.
func expectedVersion(c echo.Context) int {
	f, _ := c.FormParams()
	return formInt(f, "version")
}

// applicationWithdraw withdraws the submitted application before the
// deadline, with a receipt of its own.
func (s *Server) applicationWithdraw(c echo.Context) error {
	a, err := s.loadApplication(c, "write")
	if err != nil {
		return err
	}
	rc, err := s.Sealed.Withdraw(c.Request().Context(), actor(c), a.Box, a.Supplier.ID, expectedVersion(c))
	if errors.Is(err, sealed.ErrNotSubmitted) {
		return s.renderApplication(c, http.StatusConflict, "application_tasks", "Your application: lot "+strconv.Itoa(a.Lot.Number), a,
			newErrors("withdraw", "There is no submitted application to withdraw"))
	}
	if err != nil {
		return s.sealedRefusal(c, a, err)
	}
	s.emailReceipt(c, actor(c), a, rc)
	return c.Redirect(http.StatusSeeOther, a.Path()+"/receipts/"+strconv.Itoa(rc.Number))
}

// sealedRefusal shows why the tender box refused a write: the deadline (its
// time and the time of the attempt), a conflict, or invalid content.
func (s *Server) sealedRefusal(c echo.Context, a *application, err error) error {
	if msg, ok := deadlineProblem(err); ok {
		return s.renderCheck(c, http.StatusConflict, a, msg)
	}
	if errors.Is(err, store.ErrConflict) {
		return s.renderCheck(c, http.StatusConflict, a, newErrors("version", conflictMessage))
	}
	if v, ok := validate.As(err); ok {
		return s.renderCheck(c, http.StatusBadRequest, a, v)
	}
	if errors.Is(err, sealed.ErrForbidden) {
		return errNotFound
	}
	return err
}

// emailReceipt sends the person who submitted or withdrew a copy of the
// receipt.
func (s *Server) emailReceipt(c echo.Context, who audit.Actor, a *application, rc sealed.Receipt) {
	what := map[string]string{sealed.KindSubmit: "application", sealed.KindResubmit: "changed application", sealed.KindWithdraw: "withdrawal of the application"}[rc.Kind]
	procurement := fmt.Sprintf("%s %s, lot %d: %s", a.Framework.Reference, a.Framework.Title, a.Lot.Number, a.Lot.Title)
	s.emailSealedReceipt(c, who, what, procurement, a.Supplier.Name, rc, a.Path()+"/receipts/"+strconv.Itoa(rc.Number))
}

// emailSealedReceipt emails a receipt from the tender box (of an
// application or a bid) to the person whose act it records: what was
// received, from which supplier, for which procurement, when, and the
// version and SHA-256 that prove it. The receipt on screen is the record;
// an email that cannot be queued is logged, not a reason to report the
// submission as failed.
func (s *Server) emailSealedReceipt(c echo.Context, who audit.Actor, what, procurement, supplier string, rc sealed.Receipt, link string) {
	ctx := c.Request().Context()
	data := map[string]any{
		"What": what, "Procurement": procurement, "Organisation": supplier, "SubmittedAt": rc.ReceivedAt,
		"Reference": fmt.Sprintf("version %d, SHA-256 %s", rc.Number, rc.SHA256),
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		return s.Notify.Notify(ctx, tx, who.UserID, notify.KindBidReceipt, data, link)
	})
	if err != nil {
		logger(c).Error("email receipt", "err", err, "kind", rc.Kind)
	}
}

// applicationReceipt shows one receipt of the supplier's own application.
func (s *Server) applicationReceipt(c echo.Context) error {
	a, err := s.loadApplication(c, "read")
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.Param("number"))
	for i := range a.Receipts {
		if a.Receipts[i].Number == n {
			p := s.page(c, "Receipt")
			p.BackURL = a.Path()
			p.Data = map[string]any{"App": a, "Receipt": a.Receipts[i]}
			return s.renderOK(c, "application_receipt", p)
		}
	}
	return errNotFound
}
