package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// bidCheck is the check-your-answers page: what is still missing is listed
// at the top, each linked to its task, and the submit button appears only
// when nothing is.
func (s *Server) bidCheck(c echo.Context) error {
	b, err := s.loadBid(c, "read")
	if err != nil {
		return err
	}
	return s.renderBidCheck(c, http.StatusOK, b, nil)
}

func (s *Server) renderBidCheck(c echo.Context, status int, b *supplierBid, formErr error) error {
	if formErr == nil && len(b.Gaps()) > 0 {
		formErr = gapErrors(b.Gaps())
	}
	p := s.formPage(c, "Check your answers before submitting your bid", formErr)
	p.BackURL = b.Path()
	p.ErrorLinks = bidGapLinks(b)
	p.Data = map[string]any{"Bid": b, "Response": b, "Declarations": framework.Declarations}
	return s.render(c, status, "bid_check", p)
}

// bidGapLinks maps a gap's field to the task page where it is put right.
func bidGapLinks(b *supplierBid) map[string]string {
	out := map[string]string{
		framework.FieldDeclarations:   b.Base() + "/declarations",
		competition.FieldBidDocuments: b.Base() + "/documents",
		competition.FieldAnswers:      b.Path(),
		competition.FieldPrices:       b.Path() + "#prices",
		competition.FieldBid:          b.Path(),
	}
	for i, sec := range b.Sections {
		for _, r := range sec.Requirements {
			out[r.ID] = b.Base() + "/section/" + strconv.Itoa(i+1) + "#" + fieldFor(r)
		}
	}
	for _, t := range b.PriceTasks() {
		for _, l := range t.Lines {
			out[l.Field] = t.Path(b) + "#" + l.Field
		}
	}
	return out
}

// bidRefusal shows why the competition service refused a submission,
// withdrawal or confirmation: the deadline (its time and the time of the
// attempt), a conflict with another tab, or field errors (the gaps, or why
// the supplier may not bid).
func (s *Server) bidRefusal(c echo.Context, b *supplierBid, err error) error {
	if msg, ok := deadlineProblem(err); ok {
		return s.renderBidCheck(c, http.StatusConflict, b, msg)
	}
	if errors.Is(err, store.ErrConflict) {
		return s.renderBidCheck(c, http.StatusConflict, b, newErrors("version", bidConflict))
	}
	if v, ok := validate.As(err); ok {
		return s.renderBidCheck(c, http.StatusBadRequest, b, v)
	}
	return bidForbidden(err)
}

// bidSubmit seals the working copy as the supplier's bid, or its
// resubmission. The hidden version is the submission's version the
// supplier saw: a stale one is refused as a conflict, never overwritten.
func (s *Server) bidSubmit(c echo.Context) error {
	b, err := s.loadBid(c, "write")
	if err != nil {
		return err
	}
	rc, err := s.Competition.SubmitBid(c.Request().Context(), actor(c), b.C.ID, b.Supplier.ID, expectedVersion(c))
	if err != nil {
		return s.bidRefusal(c, b, err)
	}
	return s.bidReceipted(c, b, rc)
}

// bidWithdraw withdraws the submitted bid before the deadline, with a
// receipt of its own.
func (s *Server) bidWithdraw(c echo.Context) error {
	b, err := s.loadBid(c, "write")
	if err != nil {
		return err
	}
	rc, err := s.Competition.WithdrawBid(c.Request().Context(), actor(c), b.C.ID, b.Supplier.ID, expectedVersion(c))
	if errors.Is(err, sealed.ErrNotSubmitted) {
		return s.renderBid(c, http.StatusConflict, "bid_tasks", "Your bid", b, newErrors("withdraw", "There is no submitted bid to withdraw"))
	}
	if err != nil {
		return s.bidRefusal(c, b, err)
	}
	return s.bidReceipted(c, b, rc)
}

// bidReconfirm confirms the submitted bid again after a change to the
// terms, as a new version with its own receipt.
func (s *Server) bidReconfirm(c echo.Context) error {
	b, err := s.loadBid(c, "write")
	if err != nil {
		return err
	}
	rc, err := s.Competition.ReconfirmBid(c.Request().Context(), actor(c), b.C.ID, b.Supplier.ID, expectedVersion(c))
	if err != nil {
		return s.bidRefusal(c, b, err)
	}
	return s.bidReceipted(c, b, rc)
}

// bidReceipted emails the receipt and shows it.
func (s *Server) bidReceipted(c echo.Context, b *supplierBid, rc sealed.Receipt) error {
	link := b.Base() + "/receipts/" + strconv.Itoa(rc.Number)
	what := map[string]string{sealed.KindSubmit: "bid", sealed.KindResubmit: "changed or confirmed bid", sealed.KindWithdraw: "withdrawal of the bid"}[rc.Kind]
	s.emailSealedReceipt(c, actor(c), what, b.C.Name(), b.Supplier.Name, rc, link)
	return c.Redirect(http.StatusSeeOther, link)
}

// bidReceipt shows one receipt of the supplier's own bid.
func (s *Server) bidReceipt(c echo.Context) error {
	b, err := s.loadBid(c, "read")
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.Param("number"))
	for i := range b.Status.Receipts {
		if b.Status.Receipts[i].Number == n {
			p := s.page(c, "Receipt")
			p.BackURL = b.Path()
			p.Data = map[string]any{"Bid": b, "Receipt": b.Status.Receipts[i]}
			return s.renderOK(c, "bid_receipt", p)
		}
	}
	return errNotFound
}
