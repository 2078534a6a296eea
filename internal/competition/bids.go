package competition

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Bidding (SECURITY.md, "Receiving tenders and applications"). A supplier
// keeps a working copy of its bid (SaveBidDraft, BidWorkingCopy), submits
// it (SubmitBid), resubmits, withdraws (WithdrawBid) and, after a change
// to the terms, confirms it again (ReconfirmBid), each with a receipt from
// the sealed box, until the submission deadline. Every write checks that
// the person acts for the supplier, that the supplier was invited and has
// not declined (and registered interest where the competition asks for
// it), that the competition is published and not cancelled, and that the
// supplier's appointment to the lot is current
// (framework.Service.CurrentlyAppointed).
//
// Every write runs in one transaction that first takes the competition's
// lock (lockForBid) and then writes into the sealed box inside that same
// transaction (sealedIn: the box's own transaction becomes a savepoint of
// this one), so the bid, its receipt's version, its audit entry and the
// competition row it was checked against commit together. Changes to the
// competition (ExtendDeadline, ChangeRequirement, AddDocument, Cancel) lock
// the same row exclusively and ExtendDeadline counts the bids under that
// lock, so:
//   - a deadline can never be brought forward once a bid exists: either the
//     bid committed before the change took the lock, and the change counts
//     it, or the bid waits for the change and is then checked against the
//     new deadline;
//   - no bid is accepted into a cancelled competition, and no receipt falls
//     between a change to the terms and the record of it, so
//     NeedsReconfirmation is exact.
//
// The request time the box compares with the deadline is read once the
// transaction holds that lock. On PostgreSQL bids share it (FOR SHARE), so a
// bid waits only while a change to the competition commits, a matter of
// milliseconds; on SQLite, whose writers are serialised anyway, it waits for
// the write lock, behind any other write in progress. A bid that reaches
// the portal a moment before the deadline while such a write commits can
// therefore be timed a moment later than it arrived.
//
// Whether the supplier's appointment is current is read before the
// transaction, on a connection of its own (see eligible): a suspension that
// commits between that read and the bid does not stop the bid, but the
// opening checks every supplier again and excludes it (OpenBids).

// SupplierBid is what a supplier sees of its own bid.
type SupplierBid struct {
	// Status is sealed.StatusDraft (only a working copy), StatusSubmitted
	// or StatusWithdrawn; "" before anything was saved.
	Status string
	// Version is the submission's version: pass it as expectedVersion to
	// SubmitBid, WithdrawBid and ReconfirmBid.
	Version int
	// Receipts are the supplier's receipts, oldest first.
	Receipts []sealed.Receipt
	// SubmittedAt is the time on the latest submit or resubmit receipt;
	// nil when the bid was never submitted.
	SubmittedAt *time.Time
	// NeedsReconfirmation is true when the bid is submitted and the terms
	// changed after SubmittedAt (TermsChangedSince): the bid answers terms
	// that no longer apply until it is confirmed again (ReconfirmBid) or
	// resubmitted.
	NeedsReconfirmation bool
	// Opening is BidOpened or BidExcluded once the bids have been opened,
	// "" before; ExcludedReason says why it was excluded.
	Opening        string
	ExcludedReason string
}

// sealedIn is the sealed box service working inside tx: its writes become
// a savepoint of tx and its reads see what tx has written, so a bid and
// the competition lock it was checked under commit together.
func (s *Service) sealedIn(tx *gorm.DB) *sealed.Service {
	return &sealed.Service{DB: &store.DB{DB: tx, Kind: s.DB.Kind}, Audit: s.Sealed.Audit, Clock: s.Sealed.Clock, Keys: s.Sealed.Keys}
}

// lockForBid takes the competition's lock for a bid and loads it. On
// PostgreSQL it is a share lock on the row (SELECT … FOR SHARE): bids do
// not wait for one another, but they do wait for, and are waited for by,
// every change to the competition, which updates the row. SQLite's write
// transactions are serialised from their start, which is the lock there.
func (s *Service) lockForBid(tx *gorm.DB, id string) (*Competition, error) {
	q := tx
	if s.DB.Kind == store.Postgres {
		q = tx.Clauses(clause.Locking{Strength: "SHARE"})
	}
	var c Competition
	if err := q.Where("id = ?", id).First(&c).Error; err != nil {
		return nil, notFound(err, "competition")
	}
	c.utc()
	return &c, nil
}

// bidsIn counts the submitted bids of a published competition inside tx,
// which holds the competition's lock, so that no bid can commit between the
// count and what tx does with it.
func (s *Service) bidsIn(ctx context.Context, tx *gorm.DB, c *Competition) (int, error) {
	if c.Status != StatusPublished {
		return 0, nil
	}
	if s.Sealed == nil {
		return 0, errors.New("competition: counting bids needs the sealed box service")
	}
	n, err := s.sealedIn(tx).Count(ctx, BidBox(c))
	if err != nil {
		return 0, fmt.Errorf("count bids: %w", err)
	}
	return n, nil
}

// bidder refuses (ErrForbidden) unless the actor is an enabled supplier
// user of supplierOrgID and the supplier was invited to the competition; it
// returns the invitation. A supplier acting on another supplier's bid, or
// on a competition it was not invited to, is refused the same way.
func bidder(db *gorm.DB, actor audit.Actor, competitionID, supplierOrgID string) (*Invitee, error) {
	ok, err := actsForSupplier(db, actor.UserID, supplierOrgID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrForbidden
	}
	inv, err := invitation(db, competitionID, supplierOrgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrForbidden
	}
	return inv, err
}

// bidRefusal says why an invited supplier may not bid now, the deadline
// apart (the tender box's to decide): the competition is cancelled or not
// published, the supplier declined, or, with an expression-of-interest step,
// it has not registered interest. It follows MayBid's rules, with reasons.
func bidRefusal(c *Competition, inv *Invitee, now time.Time) error {
	var v validate.Errors
	switch {
	case c.Status == StatusCancelled:
		v.Add(FieldState, "The competition has been cancelled, so it no longer takes bids")
	case c.Status != StatusPublished:
		v.Add(FieldState, "The competition is not open for bids")
	case inv.Status == InviteeDeclined:
		when := ""
		if inv.RespondedAt != nil {
			when = " on " + uktime.Date(*inv.RespondedAt)
		}
		v.Add(FieldInvitation, "Your organisation declined this invitation"+when+", so it cannot bid")
	case inv.Status == InviteeInvited && c.ExpressionOfInterest && c.InterestOpen(now):
		v.Add(FieldInvitation, "Register your organisation's interest before bidding; expressions of interest close at "+uktime.Moment(*c.EOIDeadline)+" (UK time)")
	case inv.Status == InviteeInvited && c.ExpressionOfInterest:
		v.Add(FieldInvitation, "Your organisation did not register interest before expressions of interest closed at "+uktime.Moment(*c.EOIDeadline)+" (UK time), so it cannot bid")
	}
	return v.Err()
}

// bidWrite is what a bid write works with inside its transaction.
type bidWrite struct {
	c   *Competition
	box sealed.Box
	// sealed writes into the box inside the transaction (sealedIn).
	sealed *sealed.Service
}

// boxRefusal reports whether err is a refusal the sealed box has already
// audited inside the transaction; the transaction then commits so that the
// audit entry is kept, and the error is returned after.
func boxRefusal(err error) bool {
	return errors.Is(err, sealed.ErrDeadlinePassed) || errors.Is(err, sealed.ErrForbidden)
}

// writeBid runs fn, a write to the supplier's bid, after every check a bid
// write needs (see the top of this file), in one transaction holding the
// competition's lock. At or after the deadline it is refused with a
// *sealed.DeadlineError naming the deadline and the request time, audited
// as denied under action; so is a person not acting for an invited
// supplier (ErrForbidden).
func (s *Service) writeBid(ctx context.Context, actor audit.Actor, action, competitionID, supplierOrgID string, fn func(tx *gorm.DB, w bidWrite) error) error {
	if s.Sealed == nil || s.Frameworks == nil {
		return errors.New("competition: bids need the sealed box and framework services")
	}
	c, err := s.Competition(ctx, competitionID)
	if err != nil {
		return err
	}
	// Who is asking comes first, so that nothing about another supplier's
	// appointment is told to someone not acting for it.
	if _, err := bidder(s.DB.WithContext(ctx), actor, competitionID, supplierOrgID); err != nil {
		return s.refused(ctx, actor, action, competitionID, err)
	}
	appointed, why, err := s.Frameworks.CurrentlyAppointed(ctx, c.LotID, supplierOrgID)
	if err != nil {
		return err
	}
	var refusal error
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockForBid(tx, competitionID)
		if err != nil {
			return err
		}
		inv, err := bidder(tx, actor, c.ID, supplierOrgID)
		if err != nil {
			return err
		}
		attempt := s.now()
		if !attempt.Before(c.SubmissionDeadline) {
			refusal = &sealed.DeadlineError{Deadline: c.SubmissionDeadline, Attempt: attempt}
			return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition", ObjectID: c.ID, Outcome: audit.Denied,
				Detail: map[string]any{"supplier_org_id": supplierOrgID, "reason": refusal.Error(),
					"deadline": c.SubmissionDeadline.Format(time.RFC3339), "attempt": attempt.Format(time.RFC3339Nano)}})
		}
		if err := bidRefusal(c, inv, attempt); err != nil {
			return err
		}
		if !appointed {
			var v validate.Errors
			v.Add(FieldBid, why)
			return v.Err()
		}
		err = fn(tx, bidWrite{c: c, box: BidBox(c), sealed: s.sealedIn(tx)})
		if boxRefusal(err) {
			refusal = err
			return nil
		}
		return err
	})
	if err == nil {
		err = refusal
	}
	return s.refused(ctx, actor, action, competitionID, err)
}

// bidInputs are the competition's requirements and price schedules, read in
// tx.
func bidInputs(tx *gorm.DB, competitionID string) ([]Requirement, []Schedule, error) {
	reqs, err := requirements(tx, competitionID)
	if err != nil {
		return nil, nil, err
	}
	scheds, err := schedules(tx, competitionID)
	if err != nil {
		return nil, nil, err
	}
	return reqs, scheds, nil
}

// gapErrors turns gaps into field errors, in order.
func gapErrors(gaps []framework.Gap) error {
	var v validate.Errors
	for _, g := range gaps {
		v.Add(g.Field, g.Message)
	}
	return v.Err()
}

// SaveBidDraft keeps content as the supplier's working copy of its bid,
// sealed like a submission but never seen by the buyer and not a bid.
// seenVersion is the working copy's version the editor saw (0 when there was
// none; BidWorkingCopy): if another tab or a colleague saved since, nothing
// is written and the error is store.ErrConflict. A draft may be incomplete
// but not malformed (BidContent.FormatProblems, as field errors). Refused
// at or after the deadline like every write.
func (s *Service) SaveBidDraft(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID string, content BidContent, seenVersion int) error {
	return s.writeBid(ctx, actor, "competition.bid.draft", competitionID, supplierOrgID, func(tx *gorm.DB, w bidWrite) error {
		reqs, scheds, err := bidInputs(tx, w.c.ID)
		if err != nil {
			return err
		}
		content.CompetitionID = w.c.ID
		if err := gapErrors(content.FormatProblems(reqs, scheds)); err != nil {
			return err
		}
		b, err := content.Encode()
		if err != nil {
			return err
		}
		return w.sealed.SaveDraftAt(ctx, actor, w.box, supplierOrgID, b, seenVersion)
	})
}

// BidWorkingCopy returns the supplier's working copy of its bid and its
// version (pass it to SaveBidDraft), or an empty bid and 0 when nothing was
// saved. After a submission the working copy is what was submitted, until
// the supplier changes it. Only the supplier's own users read it, at any
// time (ErrForbidden, audited, for anyone else).
func (s *Service) BidWorkingCopy(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID string) (BidContent, int, error) {
	if s.Sealed == nil {
		return BidContent{}, 0, errors.New("competition: bids need the sealed box service")
	}
	c, err := s.Competition(ctx, competitionID)
	if err != nil {
		return BidContent{}, 0, err
	}
	if _, err := bidder(s.DB.WithContext(ctx), actor, c.ID, supplierOrgID); err != nil {
		return BidContent{}, 0, s.refused(ctx, actor, "competition.bid.working_copy", competitionID, err)
	}
	wc, err := s.Sealed.WorkingCopy(ctx, actor, BidBox(c), supplierOrgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return BidContent{}, 0, err
	}
	content, err := DecodeBid(c.ID, wc.Content)
	return content, wc.Version, err
}

// bidDocument is a documents store row as a bid's attachments are checked
// against it.
type bidDocument struct {
	ID             string
	OrganisationID string
	OwnerType      string
	Name           string
	SHA256         string `gorm:"column:sha256"`
}

// documentGaps lists the attached documents that are not, or no longer
// exactly, documents of the supplier's library: each must be the
// supplier's own and still have the SHA-256 it was attached with.
func documentGaps(tx *gorm.DB, supplierOrgID string, content BidContent) ([]framework.Gap, error) {
	if len(content.Documents) == 0 {
		return nil, nil
	}
	ids := make([]string, len(content.Documents))
	for i, d := range content.Documents {
		ids[i] = d.ID
	}
	var rows []bidDocument
	if err := tx.Table("documents").Select("id, organisation_id, owner_type, name, sha256").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read attached documents: %w", err)
	}
	byID := make(map[string]bidDocument, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	var out []framework.Gap
	for _, d := range content.Documents {
		r := byID[d.ID]
		switch {
		case r.ID == "" || r.OrganisationID != supplierOrgID || r.OwnerType != "library":
			out = append(out, framework.Gap{Field: FieldBidDocuments, Message: fmt.Sprintf("%s is not in your organisation's library; attach it again", d.Name)})
		case r.SHA256 != d.SHA256:
			out = append(out, framework.Gap{Field: FieldBidDocuments, Message: fmt.Sprintf("%s has changed since it was attached; attach it again", d.Name)})
		}
	}
	return out, nil
}

// submittable reads the working copy inside the write and refuses, with
// every gap as a field error, unless it can be submitted.
func submittable(ctx context.Context, tx *gorm.DB, actor audit.Actor, w bidWrite, supplierOrgID string) ([]byte, error) {
	wc, err := w.sealed.WorkingCopy(ctx, actor, w.box, supplierOrgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	content, err := DecodeBid(w.c.ID, wc.Content)
	if err != nil {
		return nil, err
	}
	reqs, scheds, err := bidInputs(tx, w.c.ID)
	if err != nil {
		return nil, err
	}
	gaps := content.Gaps(reqs, scheds)
	docs, err := documentGaps(tx, supplierOrgID, content)
	if err != nil {
		return nil, err
	}
	if err := gapErrors(append(gaps, docs...)); err != nil {
		return nil, err
	}
	return wc.Content, nil
}

// keepWorkingCopy saves what was just submitted as the working copy again
// (submitting clears it), so that a later change starts from it. The
// deadline can have passed since the submission's request time; the box
// then refuses and audits the save, which is fine: nothing can be
// submitted any more anyway.
func keepWorkingCopy(ctx context.Context, actor audit.Actor, w bidWrite, supplierOrgID string, content []byte) error {
	err := w.sealed.SaveDraftAt(ctx, actor, w.box, supplierOrgID, content, 0)
	if err != nil && !errors.Is(err, sealed.ErrDeadlinePassed) {
		return fmt.Errorf("keep working copy: %w", err)
	}
	return nil
}

// SubmitBid seals the supplier's working copy as its bid (the first time)
// or its resubmission (later; every version is kept) and returns the
// receipt, with the server time of the commit and the SHA-256 of what was
// sealed, only after the commit. expectedVersion is the submission's
// version the supplier saw (SupplierBid.Version, 0 before the first
// submission): when it has moved on (another tab or a colleague submitted
// or withdrew) the error is store.ErrConflict and nothing is written, so of
// two tabs submitting at once one wins. An incomplete bid is refused with
// every gap (BidContent.Gaps, and attached documents no longer in the
// supplier's library) as field errors. At or after the deadline it is
// refused with a *sealed.DeadlineError, audited.
func (s *Service) SubmitBid(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID string, expectedVersion int) (sealed.Receipt, error) {
	var rc sealed.Receipt
	err := s.writeBid(ctx, actor, "competition.bid.submit", competitionID, supplierOrgID, func(tx *gorm.DB, w bidWrite) error {
		content, err := submittable(ctx, tx, actor, w, supplierOrgID)
		if err != nil {
			return err
		}
		if rc, err = w.sealed.Submit(ctx, actor, w.box, supplierOrgID, content, expectedVersion); err != nil {
			return err
		}
		return keepWorkingCopy(ctx, actor, w, supplierOrgID, content)
	})
	if err != nil {
		return sealed.Receipt{}, err
	}
	return rc, nil
}

// WithdrawBid withdraws the supplier's submitted bid before the deadline,
// with a receipt of its own (the withdrawal is kept as a version). It needs
// the same expectedVersion as SubmitBid and fails with
// sealed.ErrNotSubmitted when nothing is submitted. The working copy stays,
// so the supplier can submit again before the deadline.
func (s *Service) WithdrawBid(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID string, expectedVersion int) (sealed.Receipt, error) {
	var rc sealed.Receipt
	err := s.writeBid(ctx, actor, "competition.bid.withdraw", competitionID, supplierOrgID, func(tx *gorm.DB, w bidWrite) error {
		var err error
		rc, err = w.sealed.Withdraw(ctx, actor, w.box, supplierOrgID, expectedVersion)
		return err
	})
	if err != nil {
		return sealed.Receipt{}, err
	}
	return rc, nil
}

// latestSubmission is the latest submit or resubmit receipt.
func latestSubmission(rs []sealed.Receipt) (sealed.Receipt, bool) {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Kind == sealed.KindSubmit || rs[i].Kind == sealed.KindResubmit {
			return rs[i], true
		}
	}
	return sealed.Receipt{}, false
}

// termsChangedIn is TermsChangedSince read through db (a transaction).
func termsChangedIn(db *gorm.DB, competitionID string, t time.Time) (bool, error) {
	var n int64
	err := db.Model(&Change{}).Where("competition_id = ? AND terms = ? AND changed_at > ?", competitionID, true, t.UTC()).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check terms changes: %w", err)
	}
	return n > 0, nil
}

// ReconfirmBid confirms a submitted bid again after the terms changed
// (SupplierBid.NeedsReconfirmation): the very content last submitted is
// sealed again as a resubmission, a new version with its own receipt,
// submitted after the change, so the bid answers the changed terms. The
// sealed box gives nobody, the supplier included, its submitted content back
// before the deadline, so it is taken from the working copy, which
// SubmitBid leaves holding what it submitted; if the supplier has changed
// the working copy since, it is refused: submitting the changed bid
// (SubmitBid) answers the changed terms as well. It is refused too when
// there is no submitted bid or nothing to confirm, and, like SubmitBid,
// with store.ErrConflict for a stale expectedVersion and at or after the
// deadline.
func (s *Service) ReconfirmBid(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID string, expectedVersion int) (sealed.Receipt, error) {
	var rc sealed.Receipt
	err := s.writeBid(ctx, actor, "competition.bid.reconfirm", competitionID, supplierOrgID, func(tx *gorm.DB, w bidWrite) error {
		var v validate.Errors
		st, err := w.sealed.StatusOf(ctx, w.box, supplierOrgID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if st.Version != expectedVersion {
			return store.ErrConflict
		}
		if st.Status != sealed.StatusSubmitted {
			v.Add(FieldBid, "Your organisation has no submitted bid to confirm")
			return v.Err()
		}
		receipts, err := w.sealed.Receipts(ctx, w.box, supplierOrgID)
		if err != nil {
			return err
		}
		last, _ := latestSubmission(receipts)
		changed, err := termsChangedIn(tx, w.c.ID, last.ReceivedAt)
		if err != nil {
			return err
		}
		if !changed {
			v.Add(FieldBid, "Your bid already answers the current terms: they have not changed since you submitted it at "+uktime.MomentSeconds(last.ReceivedAt)+" (UK time)")
			return v.Err()
		}
		content, err := submittable(ctx, tx, actor, w, supplierOrgID)
		if err != nil {
			return err
		}
		if sealed.Hash(content) != last.SHA256 {
			v.Add(FieldBid, "You have changed your bid since you submitted it, so it cannot be confirmed as it was; submit it again to answer the changed terms")
			return v.Err()
		}
		if rc, err = w.sealed.Submit(ctx, actor, w.box, supplierOrgID, content, expectedVersion); err != nil {
			return err
		}
		if err := keepWorkingCopy(ctx, actor, w, supplierOrgID, content); err != nil {
			return err
		}
		return s.appendAudit(tx, actor, "competition.bid.reconfirm", w.c.ID, map[string]any{
			"supplier_org_id": supplierOrgID, "submission_id": rc.SubmissionID, "number": rc.Number, "confirms": last.Number, "sha256": rc.SHA256,
		})
	})
	if err != nil {
		return sealed.Receipt{}, err
	}
	return rc, nil
}

// BidStatus is the supplier's own view of its bid: status, receipts,
// whether it needs confirming again after a change to the terms and, once
// the bids have been opened, whether it was opened or excluded and why.
// Only the supplier's own users see it (ErrForbidden, audited, for anyone
// else).
func (s *Service) BidStatus(ctx context.Context, actor audit.Actor, competitionID, supplierOrgID string) (SupplierBid, error) {
	if s.Sealed == nil {
		return SupplierBid{}, errors.New("competition: bids need the sealed box service")
	}
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return SupplierBid{}, err
	}
	if _, err := bidder(db, actor, c.ID, supplierOrgID); err != nil {
		return SupplierBid{}, s.refused(ctx, actor, "competition.bid.status", competitionID, err)
	}
	box := BidBox(c)
	var out SupplierBid
	st, err := s.Sealed.StatusOf(ctx, box, supplierOrgID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return SupplierBid{}, err
	default:
		out.Status, out.Version = st.Status, st.Version
	}
	if out.Receipts, err = s.Sealed.Receipts(ctx, box, supplierOrgID); err != nil {
		return SupplierBid{}, err
	}
	if last, ok := latestSubmission(out.Receipts); ok {
		at := last.ReceivedAt
		out.SubmittedAt = &at
		if out.Status == sealed.StatusSubmitted {
			if out.NeedsReconfirmation, err = termsChangedIn(db, c.ID, at); err != nil {
				return SupplierBid{}, err
			}
		}
	}
	var b Bid
	if err := db.Where("competition_id = ? AND supplier_org_id = ?", c.ID, supplierOrgID).Limit(1).Find(&b).Error; err != nil {
		return SupplierBid{}, fmt.Errorf("read opened bid: %w", err)
	}
	out.Opening, out.ExcludedReason = b.Status, b.ExcludedReason
	return out, nil
}

// BidCount is how many suppliers have a bid in (withdrawn ones not
// counted), never who: only for a trust lead of the lead trust, and only
// when the competition shows the count (ShowBidCount). Anyone else, or a
// competition that does not show it, is refused with ErrForbidden, audited.
func (s *Service) BidCount(ctx context.Context, actor audit.Actor, competitionID string) (int, error) {
	if s.Sealed == nil {
		return 0, errors.New("competition: counting bids needs the sealed box service")
	}
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return 0, err
	}
	reason := ""
	if err := requireLead(db, actor, c.LeadOrgID); errors.Is(err, ErrForbidden) {
		reason = "not a trust lead of the lead trust"
	} else if err != nil {
		return 0, err
	} else if !c.ShowBidCount {
		reason = "the competition does not show how many bids are in"
	}
	if reason != "" {
		return 0, s.deny(ctx, actor, "competition.bids.count", "competition", c.ID, reason, ErrForbidden, nil)
	}
	return s.Sealed.Count(ctx, BidBox(c))
}

// deny records a refusal with its reason (and extra facts, ids and times
// only) in the audit log, in a transaction of its own, and returns err.
func (s *Service) deny(ctx context.Context, actor audit.Actor, action, objectType, objectID, reason string, err error, extra map[string]any) error {
	d := map[string]any{"reason": reason}
	for k, v := range extra {
		d[k] = v
	}
	if aerr := s.Audit.Record(ctx, s.DB, actor, audit.Event{
		Action: action, ObjectType: objectType, ObjectID: objectID, Outcome: audit.Denied, Detail: d,
	}); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}
