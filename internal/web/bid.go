package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// A supplier's sealed bid in a mini-competition, as a task list like a
// framework application's (application_*.go): a task per section of
// requirements, one per buying trust's price schedule, documents from the
// supplier's library, declarations, and checking and submitting. Every rule
// (who may bid, the deadline, versions, gaps) is the competition service's
// (internal/competition/bids.go); these pages parse, ask it and show the
// answer.

// supplierBid is one supplier's bid as its pages need it.
type supplierBid struct {
	C         *competition.Competition
	Invite    *competition.Invitee
	Supplier  *orgs.Organisation
	Reqs      []competition.Requirement
	Sections  []framework.Section
	Schedules []competition.Schedule
	// Content is the working copy; after a submission it is what was
	// submitted until the supplier changes it.
	Content competition.BidContent
	// DraftVersion is the working copy's version (0 before the first
	// save); every task form sends it back so a stale tab is caught.
	DraftVersion int
	// Status is the supplier's own view of its bid; Status.Version is the
	// submission's version the submit, withdraw and reconfirm forms send.
	Status competition.SupplierBid
	MayBid bool
	Now    time.Time
}

// Base is the supplier's page of the competition; the bid's pages hang
// under it.
func (b *supplierBid) Base() string { return competition.SupplierPath(b.C.ID) }

// Path is the bid's task list.
func (b *supplierBid) Path() string { return b.Base() + "/tasks" }

// Open reports whether the bid can still be changed: the competition is
// published, its submission deadline has not passed and the supplier may
// bid. The tender box decides again on every write.
func (b *supplierBid) Open() bool {
	return b.MayBid && b.C.Status == competition.StatusPublished && b.Now.Before(b.C.SubmissionDeadline)
}

// Submitted reports whether a bid is in the box now.
func (b *supplierBid) Submitted() bool { return b.Status.Status == sealed.StatusSubmitted }

// Latest is the newest receipt, if any.
func (b *supplierBid) Latest() *sealed.Receipt {
	if len(b.Status.Receipts) == 0 {
		return nil
	}
	return &b.Status.Receipts[len(b.Status.Receipts)-1]
}

// lastSubmission is the newest submit or resubmit receipt, if any.
func (b *supplierBid) lastSubmission() *sealed.Receipt {
	for i := len(b.Status.Receipts) - 1; i >= 0; i-- {
		if k := b.Status.Receipts[i].Kind; k == sealed.KindSubmit || k == sealed.KindResubmit {
			return &b.Status.Receipts[i]
		}
	}
	return nil
}

// Unsent reports whether the working copy differs from what was last
// submitted (or nothing is submitted), so the supplier knows it must submit
// again for changes to count.
func (b *supplierBid) Unsent() bool {
	enc, err := b.Content.Encode()
	if err != nil {
		return true
	}
	last := b.lastSubmission()
	return !b.Submitted() || last == nil || last.SHA256 != sealed.Hash(enc)
}

// Gaps lists what the working copy still lacks before it can be submitted
// (attached documents are checked against the library on submission).
func (b *supplierBid) Gaps() []framework.Gap { return b.Content.Gaps(b.Reqs, b.Schedules) }

// SectionStatus is the task status of section i.
func (b *supplierBid) SectionStatus(i int) string {
	return answersStatus(b.Sections[i], b.Content.Answers)
}

// answersStatus is a section's task status given the answers so far:
// completed when every answer is complete, in progress once one is
// started.
func answersStatus(sec framework.Section, answers map[string]framework.Answer) string {
	done, started := 0, 0
	for _, r := range sec.Requirements {
		ans, ok := answers[r.ID]
		if ok && (ans.Meets != "" || ans.Text != "" || ans.Number != "" || ans.PricePence != nil) {
			started++
		}
		if framework.AnswerProblem(r, ans) == "" {
			done++
		}
	}
	switch {
	case done == len(sec.Requirements):
		return taskCompleted
	case started > 0:
		return taskInProgress
	}
	return taskNotStarted
}

// priceLine is one line of a price schedule with the supplier's unit price.
type priceLine struct {
	Item  competition.PriceItem
	Field string
	// Pence is the unit price given, nil when not priced yet.
	Pence *int64
	// Total is quantity times the unit price in pounds, "" when not priced.
	Total string
}

// priceTask is one buying trust's price schedule as a task.
type priceTask struct {
	Schedule competition.Schedule
	Lines    []priceLine
	// Total is the schedule's total in pounds once every line is priced.
	Total  string
	Status string
}

// Path is the task's page under the bid.
func (p priceTask) Path(b *supplierBid) string {
	return b.Base() + "/prices/" + p.Schedule.Buyer.OrganisationID
}

// PriceTasks are the buying trusts' price schedules with the prices so far.
func (b *supplierBid) PriceTasks() []priceTask {
	out := make([]priceTask, len(b.Schedules))
	for i, sc := range b.Schedules {
		t := priceTask{Schedule: sc}
		priced := 0
		for _, it := range sc.Items {
			l := priceLine{Item: it, Field: competition.FieldPrice(it.ID)}
			if p, ok := b.Content.Price(sc.Buyer.OrganisationID, it.ID); ok {
				l.Pence = &p
				priced++
				if p >= 0 && (it.Quantity == 0 || p <= (1<<63-1)/it.Quantity) {
					l.Total = framework.Pounds(p * it.Quantity)
				}
			}
			t.Lines = append(t.Lines, l)
		}
		if total, err := competition.TotalPrice(b.Content, sc); err == nil {
			t.Total = framework.Pounds(total)
		}
		switch {
		case priced == len(sc.Items):
			t.Status = taskCompleted
		case priced > 0:
			t.Status = taskInProgress
		default:
			t.Status = taskNotStarted
		}
		out[i] = t
	}
	return out
}

// DocumentsStatus is the documents task's status.
func (b *supplierBid) DocumentsStatus() string { return documentsStatus(b.Content.Documents) }

// DeclarationsStatus is the declarations task's status.
func (b *supplierBid) DeclarationsStatus() string { return declarationsStatus(b.Content.Declared) }

// CheckStatus is the status of the last task, checking and submitting.
func (b *supplierBid) CheckStatus() string {
	return checkStatus(len(b.Gaps()), b.Submitted(), b.Unsent())
}

// CompletedSections counts the sections answered in full.
func (b *supplierBid) CompletedSections() int {
	return completedSections(len(b.Sections), b.SectionStatus)
}

// loadBid reads the acting supplier's bid in the competition in the URL.
// Only a supplier invited to it gets this far (invitedSupplier: 404 and
// audited for anyone else); the competition service checks again that the
// bid is the supplier's own (ErrForbidden, shown as 404).
func (s *Server) loadBid(c echo.Context, act string) (*supplierBid, error) {
	comp, inv, org, err := s.invitedSupplier(c, act)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	b := &supplierBid{C: comp, Invite: inv, Supplier: org, Now: s.Clock.Now()}
	if b.MayBid, err = s.Competition.MayBid(ctx, comp.ID, org.ID); err != nil {
		return nil, err
	}
	if b.Reqs, err = s.Competition.Requirements(ctx, comp.ID); err != nil {
		return nil, err
	}
	lrs := make([]framework.LotRequirement, len(b.Reqs))
	for i, r := range b.Reqs {
		lrs[i] = r.AsLotRequirement()
	}
	b.Sections = framework.Sections(lrs)
	if b.Schedules, err = s.Competition.PriceSchedules(ctx, comp.ID); err != nil {
		return nil, err
	}
	if b.Content, b.DraftVersion, err = s.Competition.BidWorkingCopy(ctx, actor(c), comp.ID, org.ID); err != nil {
		return nil, bidForbidden(err)
	}
	if b.Status, err = s.Competition.BidStatus(ctx, actor(c), comp.ID, org.ID); err != nil {
		return nil, bidForbidden(err)
	}
	return b, nil
}

// bidForbidden turns the competition service's refusal into 404, so
// nobody learns whose bids exist.
func bidForbidden(err error) error {
	if errors.Is(err, competition.ErrForbidden) || errors.Is(err, sealed.ErrForbidden) {
		return errNotFound
	}
	return err
}

// section is the section whose 1-based number is in the URL.
func (b *supplierBid) section(c echo.Context) (int, *framework.Section, error) {
	n, err := strconv.Atoi(c.Param("section"))
	if err != nil || n < 1 || n > len(b.Sections) {
		return 0, nil, errNotFound
	}
	return n - 1, &b.Sections[n-1], nil
}

// priceTask is the buying trust's price schedule named in the URL.
func (b *supplierBid) priceTask(c echo.Context) (*priceTask, error) {
	for _, t := range b.PriceTasks() {
		if t.Schedule.Buyer.OrganisationID == c.Param("org") {
			return &t, nil
		}
	}
	return nil, errNotFound
}

// bidDraftConflict is shown when the working copy was saved elsewhere since
// the page was opened.
const bidDraftConflict = "Your bid was changed in another tab or by a colleague after you opened this page. Nothing was overwritten: what you entered is still below; reload the page to see the latest version, then make your changes again."

// bidConflict is shown when two tabs or two colleagues submit, withdraw or
// confirm the same bid at once: one wins, the other is told.
const bidConflict = "Your bid was submitted, withdrawn or confirmed from another tab or by a colleague while you were working. Nothing was overwritten: check the latest receipt, then submit again if you need to."

// bidSaveProblem turns a refused save into a message for the page and its
// status: the deadline (naming it and the attempt), a save made elsewhere
// in the meantime, or field errors (what was entered, or why the supplier
// may not bid). ok is false for other errors.
func bidSaveProblem(err error) (int, *validate.Errors, bool) {
	if msg, ok := deadlineProblem(err); ok {
		return http.StatusConflict, msg, true
	}
	if errors.Is(err, store.ErrConflict) {
		return http.StatusConflict, newErrors("deadline", bidDraftConflict), true
	}
	if v, ok := validate.As(err); ok {
		return http.StatusBadRequest, v, true
	}
	return 0, nil, false
}

// saveBid seals the working copy again, if it is still the version the
// form was showing; the posted version is kept on b so a page shown again
// after a refusal carries it and a stale tab stays stale.
func (s *Server) saveBid(c echo.Context, b *supplierBid) error {
	return s.Competition.SaveBidDraft(c.Request().Context(), actor(c), b.C.ID, b.Supplier.ID, b.Content, b.DraftVersion)
}
