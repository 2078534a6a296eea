// Package sealed is the portal's sealed electronic tender box, used for
// framework applications and mini-competition bids alike: callers describe
// the box (its type, the framework or competition id and its deadline) with
// a Box value, so this package imports neither.
//
// The rules (SECURITY.md, "Receiving tenders and applications"):
//   - a supplier submits, resubmits and withdraws before the deadline; each
//     gets a Receipt with the server's time of the commit and the SHA-256 of
//     the sealed content, and every version is kept;
//   - every write is refused when the request's time (the service clock,
//     read once at the start of the call) is at or after the deadline, with
//     a *DeadlineError naming both; no scheduler flips a status. The request
//     time decides: a request that reached the portal before the deadline is
//     accepted even if its commit finishes a moment after it, and its receipt
//     then shows the commit time (scenario 2's documented rule);
//   - concurrent writes are detected with a version check (store.ErrConflict),
//     never silently overwritten;
//   - content is encrypted at rest with a fresh data key per version,
//     wrapped by the master key (documents.Keyring), bound to its submission
//     and version number; the database never holds the plain content, and
//     the audit log holds only hashes and numbers;
//   - before the deadline nothing here returns anything about other
//     suppliers' submissions: the buyer side has Count and, once the deadline
//     has passed, Open (every submitted response in the box) and Read (one
//     of them). There is no listing of who applied.
//
// Who may act is split as follows. Submit, Withdraw, SaveDraft and Draft
// check that the actor is a supplier user of the supplier organisation
// (ErrForbidden otherwise). Receipts and Count take no actor: the caller must
// make sure the person acts for that supplier, or may see the count. Open
// and Read enforce only the deadline; who may open (for instance two different
// authorised people turning two keys, SECURITY.md scenario 6) is the
// caller's business and must be checked before Open is called.
package sealed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Box types.
const (
	TypeFrameworkApplication = "framework_application"
	TypeCompetitionBid       = "competition_bid"
)

// Submission statuses.
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
	StatusWithdrawn = "withdrawn"
)

// Version kinds, as shown on receipts.
const (
	KindSubmit   = "submit"
	KindResubmit = "resubmit"
	KindWithdraw = "withdraw"
)

// MaxContent is the largest sealed content accepted, in bytes. Large
// documents belong in the documents store; the sealed content is the
// response itself (answers, prices, document references).
const MaxContent = 16 << 20

// FieldContent names validation errors about the content.
const FieldContent = "content"

// supplierRole is authz.SupplierUser; the membership table stores the text.
const supplierRole = "supplier_user"

// Errors callers can test for with errors.Is.
var (
	// ErrDeadlinePassed: the box no longer accepts writes (see DeadlineError).
	ErrDeadlinePassed = errors.New("the deadline has passed")
	// ErrSealed: the box cannot be opened before its deadline.
	ErrSealed = errors.New("submissions stay sealed until the deadline has passed")
	// ErrForbidden: the actor does not act for the supplier organisation.
	ErrForbidden = errors.New("you cannot do this for that organisation")
	// ErrNotSubmitted: there is nothing submitted to withdraw.
	ErrNotSubmitted = errors.New("there is no submitted response to withdraw")
)

// DeadlineError refuses a write made at or after the deadline; its message
// names the deadline and the time the request reached the portal, in UK time.
type DeadlineError struct {
	Deadline time.Time
	Attempt  time.Time
}

func (e *DeadlineError) Error() string {
	return "The deadline was " + UKTime(e.Deadline) + " (UK time); your submission reached us at " +
		UKTimeSeconds(e.Attempt) + " (UK time), so it could not be accepted"
}

// Is makes errors.Is(err, ErrDeadlinePassed) true.
func (e *DeadlineError) Is(target error) bool { return target == ErrDeadlinePassed }

// UKTime writes a moment in UK time, with seconds when they are not zero:
// "midday on 1 February 2027", "12:00:01pm on 1 February 2027".
func UKTime(t time.Time) string { return uktime.Moment(t) }

// UKTimeSeconds writes a moment in UK time to the second:
// "12:00:01pm on 1 February 2027".
func UKTimeSeconds(t time.Time) string { return uktime.MomentSeconds(t) }

// Box is the tender box a submission goes into, described by the caller
// from its own records (a framework, a competition).
type Box struct {
	Type     string // TypeFrameworkApplication or TypeCompetitionBid
	ID       string // the framework or competition id
	Deadline time.Time
	// Opens, when set, is the moment the box starts taking writes; before
	// it every write is refused with ErrNotOpenYet.
	Opens time.Time
}

// ErrNotOpenYet refuses a write before the box opens.
var ErrNotOpenYet = errors.New("submissions are not open yet")

func (b Box) check() error {
	if b.Type != TypeFrameworkApplication && b.Type != TypeCompetitionBid {
		return fmt.Errorf("sealed: unknown box type %q", b.Type)
	}
	if b.ID == "" {
		return errors.New("sealed: box needs an id")
	}
	if b.Deadline.IsZero() {
		return errors.New("sealed: box has no deadline")
	}
	return nil
}

// Submission is one supplier's entry in one box.
type Submission struct {
	ID             string    `gorm:"column:id;primaryKey"`
	BoxType        string    `gorm:"column:box_type"`
	BoxID          string    `gorm:"column:box_id"`
	SupplierOrgID  string    `gorm:"column:supplier_org_id"`
	Status         string    `gorm:"column:status"`
	CurrentVersion int       `gorm:"column:current_version"`
	Version        int       `gorm:"column:version"`
	CreatedAt      time.Time `gorm:"column:created_at"`
	UpdatedAt      time.Time `gorm:"column:updated_at"`
}

// TableName names the table.
func (Submission) TableName() string { return "sealed_submissions" }

// version is one stored, sealed version.
type version struct {
	ID           string    `gorm:"column:id;primaryKey"`
	SubmissionID string    `gorm:"column:submission_id"`
	Number       int       `gorm:"column:number"`
	Kind         string    `gorm:"column:kind"`
	ReceivedAt   time.Time `gorm:"column:received_at"`
	SHA256       string    `gorm:"column:sha256"`
	Content      []byte    `gorm:"column:content"`
	WrappedKey   []byte    `gorm:"column:wrapped_key"`
	SubmittedBy  string    `gorm:"column:submitted_by"`
}

func (version) TableName() string { return "sealed_versions" }

type draft struct {
	SubmissionID string    `gorm:"column:submission_id;primaryKey"`
	Content      []byte    `gorm:"column:content"`
	WrappedKey   []byte    `gorm:"column:wrapped_key"`
	SavedAt      time.Time `gorm:"column:saved_at"`
	Version      int       `gorm:"column:version"`
}

func (draft) TableName() string { return "sealed_drafts" }

// Receipt is what a supplier is given for each submit, resubmit and
// withdrawal, only after the version has been committed.
type Receipt struct {
	SubmissionID string
	Number       int       // the version number, from 1
	Kind         string    // KindSubmit, KindResubmit or KindWithdraw
	ReceivedAt   time.Time // server time of the commit, UTC, to the microsecond
	SHA256       string    // hex SHA-256 of the plain content (of nothing for a withdrawal)
}

// Opened is one supplier's latest submitted version, decrypted at opening.
type Opened struct {
	SubmissionID  string
	SupplierOrgID string
	Number        int
	Kind          string
	ReceivedAt    time.Time
	SHA256        string
	Content       []byte
}

// Service runs sealed boxes. Every write runs in one transaction with its
// audit entry.
type Service struct {
	DB    *store.DB
	Audit *audit.Log
	Clock clock.Clock
	Keys  *documents.Keyring

	// opening serialises openings in this process on SQLite (Exclusively).
	opening sync.Mutex
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

// Hash returns the hex SHA-256 of content, as shown on receipts.
func Hash(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// versionAD and draftAD bind a ciphertext and its wrapped key to one
// version of one submission (or to its draft), so stored bytes cannot be
// moved to another record without failing to decrypt.
func versionAD(submissionID string, number int) []byte {
	return []byte("sealed version\x00" + submissionID + "\x00" + strconv.Itoa(number))
}

// VersionAD is the associated data a sealed version's ciphertext is bound
// to, for a check that decrypts stored versions without opening the box
// (a backup's check).
func VersionAD(submissionID string, number int) []byte { return versionAD(submissionID, number) }

func draftAD(submissionID string) []byte {
	return []byte("sealed draft\x00" + submissionID)
}

func (s *Service) seal(plain, associated []byte) (ciphertext, wrappedKey []byte, err error) {
	var buf bytes.Buffer
	w, wrappedKey, err := s.Keys.Encrypt(&buf, associated)
	if err != nil {
		return nil, nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, nil, fmt.Errorf("sealed: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, nil, fmt.Errorf("sealed: encrypt: %w", err)
	}
	return buf.Bytes(), wrappedKey, nil
}

func (s *Service) unseal(ciphertext, wrappedKey, associated []byte) ([]byte, error) {
	r, err := s.Keys.Decrypt(bytes.NewReader(ciphertext), wrappedKey, associated)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// actsForSupplier reports whether the actor holds the supplier role in
// orgID, a supplier organisation.
func actsForSupplier(tx *gorm.DB, userID, orgID string) (bool, error) {
	if userID == "" || orgID == "" {
		return false, nil
	}
	var n int64
	err := tx.Table("memberships m").Joins("JOIN organisations o ON o.id = m.organisation_id").
		Where("m.user_id = ? AND m.organisation_id = ? AND m.role = ? AND o.kind = ?", userID, orgID, supplierRole, "supplier").
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check supplier membership: %w", err)
	}
	return n > 0, nil
}

func boxDetail(box Box, supplierOrgID string) map[string]any {
	return map[string]any{"box_type": box.Type, "box_id": box.ID, "organisation_id": supplierOrgID}
}

// refuse records a refused write (late, or for another organisation) in
// the audit log, then returns err.
func (s *Service) refuse(ctx context.Context, actor audit.Actor, action string, box Box, supplierOrgID string, err error) error {
	d := boxDetail(box, supplierOrgID)
	d["reason"] = err.Error()
	var de *DeadlineError
	if errors.As(err, &de) {
		d["attempt"] = de.Attempt.Format(time.RFC3339Nano)
	}
	if aerr := s.Audit.Record(ctx, s.DB, actor, audit.Event{
		Action: action, ObjectType: "sealed_box", ObjectID: box.Type + ":" + box.ID, Outcome: audit.Denied, Detail: d,
	}); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// checkWrite is the common start of every write: a valid box, the request
// time before the deadline.
func checkWrite(box Box, attempt time.Time) error {
	if err := box.check(); err != nil {
		return err
	}
	if !attempt.Before(box.Deadline) {
		return &DeadlineError{Deadline: box.Deadline, Attempt: attempt}
	}
	if !box.Opens.IsZero() && attempt.Before(box.Opens) {
		return fmt.Errorf("%w: they open at %s (UK time)", ErrNotOpenYet, UKTime(box.Opens))
	}
	return nil
}

func checkContent(content []byte) error {
	var v validate.Errors
	switch {
	case len(content) == 0:
		v.Add(FieldContent, "Your response is empty")
	case len(content) > MaxContent:
		v.Add(FieldContent, fmt.Sprintf("Your response must be %d MB or smaller", MaxContent>>20))
	}
	return v.Err()
}

// ensure makes the submission row for (box, supplier) exist, as a draft
// with version 0, without disturbing one that already does, and returns it.
// INSERT … ON CONFLICT DO NOTHING waits for a concurrent insert to commit
// instead of failing, on both engines.
func ensure(tx *gorm.DB, box Box, supplierOrgID string, now time.Time) (*Submission, error) {
	sub := &Submission{
		ID: uuid.NewString(), BoxType: box.Type, BoxID: box.ID, SupplierOrgID: supplierOrgID,
		Status: StatusDraft, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(sub).Error; err != nil {
		return nil, fmt.Errorf("create submission: %w", err)
	}
	return find(tx, box, supplierOrgID)
}

func find(tx *gorm.DB, box Box, supplierOrgID string) (*Submission, error) {
	var sub Submission
	err := tx.Where("box_type = ? AND box_id = ? AND supplier_org_id = ?", box.Type, box.ID, supplierOrgID).Limit(1).Find(&sub).Error
	if err != nil {
		return nil, fmt.Errorf("read submission: %w", err)
	}
	if sub.ID == "" {
		return nil, fmt.Errorf("submission: %w", store.ErrNotFound)
	}
	return &sub, nil
}

// AnyDraftVersion, as SaveDraftAt's seen version, saves whatever is there.
const AnyDraftVersion = -1

// SaveDraft keeps the supplier's working copy, encrypted, replacing the
// previous one whatever it was. A draft is never seen by the buyer and is
// not a submission. It is refused at or after the deadline like every
// write.
func (s *Service) SaveDraft(ctx context.Context, actor audit.Actor, box Box, supplierOrgID string, content []byte) error {
	return s.SaveDraftAt(ctx, actor, box, supplierOrgID, content, AnyDraftVersion)
}

// SaveDraftAt is SaveDraft for an editor who saw version seen of the
// working copy (0 when there was none): if it has moved on since (another
// tab or a colleague saved), nothing is written and the error is
// store.ErrConflict.
func (s *Service) SaveDraftAt(ctx context.Context, actor audit.Actor, box Box, supplierOrgID string, content []byte, seen int) error {
	attempt := s.now()
	if err := checkWrite(box, attempt); err != nil {
		if errors.Is(err, ErrDeadlinePassed) {
			return s.refuse(ctx, actor, "sealed.draft", box, supplierOrgID, err)
		}
		return err
	}
	if len(content) > MaxContent {
		return checkContent(content)
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := checkWrite(box, attempt); err != nil {
			return err
		}
		ok, err := actsForSupplier(tx, actor.UserID, supplierOrgID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrForbidden
		}
		sub, err := ensure(tx, box, supplierOrgID, attempt)
		if err != nil {
			return err
		}
		// A no-op update takes the submission's row lock on PostgreSQL
		// (SQLite's transactions are serialised already), so two saves of
		// the same working copy queue and the second sees the first.
		if err := tx.Model(&Submission{}).Where("id = ?", sub.ID).Update("updated_at", gorm.Expr("updated_at")).Error; err != nil {
			return fmt.Errorf("lock submission: %w", err)
		}
		var current draft
		if err := tx.Where("submission_id = ?", sub.ID).Limit(1).Find(&current).Error; err != nil {
			return fmt.Errorf("read draft: %w", err)
		}
		if seen != AnyDraftVersion && seen != current.Version {
			return store.ErrConflict
		}
		ct, wk, err := s.seal(content, draftAD(sub.ID))
		if err != nil {
			return err
		}
		d := draft{SubmissionID: sub.ID, Content: ct, WrappedKey: wk, SavedAt: attempt, Version: current.Version + 1}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "submission_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"content", "wrapped_key", "saved_at", "version"}),
		}).Create(&d).Error; err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "sealed.draft", ObjectType: "sealed_submission", ObjectID: sub.ID, Detail: boxDetail(box, supplierOrgID),
		})
	})
	if errors.Is(err, ErrForbidden) {
		return s.refuse(ctx, actor, "sealed.draft", box, supplierOrgID, err)
	}
	return err
}

// WorkingCopy is a supplier's saved draft.
type WorkingCopy struct {
	Content []byte
	SavedAt time.Time
	// Version moves on with every save; pass it to SaveDraftAt.
	Version int
}

// Draft returns the supplier's saved working copy, or store.ErrNotFound.
// Only a supplier user of supplierOrgID may read it, at any time.
func (s *Service) Draft(ctx context.Context, actor audit.Actor, box Box, supplierOrgID string) ([]byte, time.Time, error) {
	wc, err := s.WorkingCopy(ctx, actor, box, supplierOrgID)
	return wc.Content, wc.SavedAt, err
}

// WorkingCopy is Draft with the draft's version.
func (s *Service) WorkingCopy(ctx context.Context, actor audit.Actor, box Box, supplierOrgID string) (WorkingCopy, error) {
	if err := box.check(); err != nil {
		return WorkingCopy{}, err
	}
	db := s.DB.WithContext(ctx)
	ok, err := actsForSupplier(db, actor.UserID, supplierOrgID)
	if err != nil {
		return WorkingCopy{}, err
	}
	if !ok {
		return WorkingCopy{}, ErrForbidden
	}
	sub, err := find(db, box, supplierOrgID)
	if err != nil {
		return WorkingCopy{}, err
	}
	var d draft
	if err := db.Where("submission_id = ?", sub.ID).Limit(1).Find(&d).Error; err != nil {
		return WorkingCopy{}, fmt.Errorf("read draft: %w", err)
	}
	if d.SubmissionID == "" {
		return WorkingCopy{}, fmt.Errorf("draft: %w", store.ErrNotFound)
	}
	plain, err := s.unseal(d.Content, d.WrappedKey, draftAD(sub.ID))
	if err != nil {
		return WorkingCopy{}, err
	}
	return WorkingCopy{Content: plain, SavedAt: d.SavedAt, Version: d.Version}, nil
}

// Submit seals content as the supplier's response: the first time as a
// submission, later as a resubmission replacing it (earlier versions are
// kept). expectedVersion is the submission's Version the supplier last saw
// (0 before the first submission); if it has changed since, the call fails
// with store.ErrConflict and nothing is written. At or after the deadline it
// fails with a *DeadlineError. The receipt is returned only after commit.
func (s *Service) Submit(ctx context.Context, actor audit.Actor, box Box, supplierOrgID string, content []byte, expectedVersion int) (Receipt, error) {
	attempt := s.now()
	if err := checkWrite(box, attempt); err != nil {
		if errors.Is(err, ErrDeadlinePassed) {
			return Receipt{}, s.refuse(ctx, actor, "sealed.submit", box, supplierOrgID, err)
		}
		return Receipt{}, err
	}
	if err := checkContent(content); err != nil {
		return Receipt{}, err
	}
	return s.write(ctx, actor, box, supplierOrgID, content, expectedVersion, attempt, false)
}

// Withdraw withdraws the supplier's submitted response before the deadline.
// The withdrawal is kept as a version of its own (kind withdraw, the hash of
// empty content) and the supplier gets a receipt for it. It needs the same
// expectedVersion as Submit, and fails with ErrNotSubmitted when nothing is
// submitted.
func (s *Service) Withdraw(ctx context.Context, actor audit.Actor, box Box, supplierOrgID string, expectedVersion int) (Receipt, error) {
	attempt := s.now()
	if err := checkWrite(box, attempt); err != nil {
		if errors.Is(err, ErrDeadlinePassed) {
			return Receipt{}, s.refuse(ctx, actor, "sealed.withdraw", box, supplierOrgID, err)
		}
		return Receipt{}, err
	}
	return s.write(ctx, actor, box, supplierOrgID, nil, expectedVersion, attempt, true)
}

func (s *Service) write(ctx context.Context, actor audit.Actor, box Box, supplierOrgID string, content []byte, expectedVersion int, attempt time.Time, withdraw bool) (Receipt, error) {
	var rc Receipt
	action := "sealed.submit"
	if withdraw {
		action = "sealed.withdraw"
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		// The same request time against the same deadline, inside the
		// transaction that commits the version.
		if err := checkWrite(box, attempt); err != nil {
			return err
		}
		ok, err := actsForSupplier(tx, actor.UserID, supplierOrgID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrForbidden
		}
		var sub *Submission
		if withdraw {
			sub, err = find(tx, box, supplierOrgID)
			if errors.Is(err, store.ErrNotFound) {
				return ErrNotSubmitted
			}
		} else {
			sub, err = ensure(tx, box, supplierOrgID, attempt)
		}
		if err != nil {
			return err
		}
		if withdraw && sub.Status != StatusSubmitted {
			if sub.Version != expectedVersion {
				return store.ErrConflict
			}
			return ErrNotSubmitted
		}
		status := StatusSubmitted
		if withdraw {
			status = StatusWithdrawn
		}
		// The optimistic lock: only one writer moves the version on from
		// expectedVersion; on PostgreSQL a concurrent one waits for it and
		// then finds the version changed.
		res := tx.Model(&Submission{}).Where("id = ? AND version = ?", sub.ID, expectedVersion).Updates(map[string]any{
			"status":          status,
			"current_version": gorm.Expr("current_version + 1"),
			"version":         gorm.Expr("version + 1"),
			"updated_at":      attempt,
		})
		if res.Error != nil {
			return fmt.Errorf("update submission: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return store.ErrConflict
		}
		number := sub.CurrentVersion + 1
		kind := KindSubmit
		switch {
		case withdraw:
			kind = KindWithdraw
		case sub.CurrentVersion > 0:
			kind = KindResubmit
		}
		ct, wk, err := s.seal(content, versionAD(sub.ID, number))
		if err != nil {
			return err
		}
		v := version{
			ID: uuid.NewString(), SubmissionID: sub.ID, Number: number, Kind: kind,
			ReceivedAt: s.now(), SHA256: Hash(content), Content: ct, WrappedKey: wk, SubmittedBy: actor.UserID,
		}
		if err := tx.Create(&v).Error; err != nil {
			return fmt.Errorf("record version: %w", err)
		}
		d := boxDetail(box, supplierOrgID)
		d["number"] = number
		d["kind"] = kind
		d["sha256"] = v.SHA256
		d["received_at"] = v.ReceivedAt.Format(time.RFC3339Nano)
		// The request's time decided that it was on time (scenario 2's
		// rule): kept beside the commit time, so a receipt after the
		// deadline shows why it counted.
		d["attempt"] = attempt.Format(time.RFC3339Nano)
		if err := s.Audit.Append(tx, actor, audit.Event{
			Action: "sealed." + kind, ObjectType: "sealed_submission", ObjectID: sub.ID, Detail: d,
		}); err != nil {
			return err
		}
		if !withdraw {
			// The draft has become the submission.
			if err := tx.Where("submission_id = ?", sub.ID).Delete(&draft{}).Error; err != nil {
				return fmt.Errorf("clear draft: %w", err)
			}
		}
		rc = Receipt{SubmissionID: sub.ID, Number: number, Kind: kind, ReceivedAt: v.ReceivedAt, SHA256: v.SHA256}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrForbidden) || errors.Is(err, ErrDeadlinePassed) {
			return Receipt{}, s.refuse(ctx, actor, action, box, supplierOrgID, err)
		}
		return Receipt{}, err
	}
	return rc, nil
}

// Status is what a supplier sees of its own submission.
type Status struct {
	SubmissionID string
	Status       string // StatusDraft, StatusSubmitted or StatusWithdrawn
	Version      int    // pass as expectedVersion to the next Submit or Withdraw
}

// StatusOf returns the supplier's own submission state in the box, or
// store.ErrNotFound when it has none. The caller must check the person acts
// for supplierOrgID.
func (s *Service) StatusOf(ctx context.Context, box Box, supplierOrgID string) (Status, error) {
	if err := box.check(); err != nil {
		return Status{}, err
	}
	sub, err := find(s.DB.WithContext(ctx), box, supplierOrgID)
	if err != nil {
		return Status{}, err
	}
	return Status{SubmissionID: sub.ID, Status: sub.Status, Version: sub.Version}, nil
}

// Receipts returns the supplier's own receipts in the box, oldest first, at
// any time (none when it has submitted nothing). The caller must check the
// person acts for supplierOrgID.
func (s *Service) Receipts(ctx context.Context, box Box, supplierOrgID string) ([]Receipt, error) {
	if err := box.check(); err != nil {
		return nil, err
	}
	var vs []version
	err := s.DB.WithContext(ctx).Select("v.submission_id, v.number, v.kind, v.received_at, v.sha256").
		Table("sealed_versions v").Joins("JOIN sealed_submissions s ON s.id = v.submission_id").
		Where("s.box_type = ? AND s.box_id = ? AND s.supplier_org_id = ?", box.Type, box.ID, supplierOrgID).
		Order("v.number").Find(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	out := make([]Receipt, len(vs))
	for i, v := range vs {
		out[i] = Receipt{SubmissionID: v.SubmissionID, Number: v.Number, Kind: v.Kind, ReceivedAt: v.ReceivedAt.UTC(), SHA256: v.SHA256}
	}
	return out, nil
}

// Count returns how many suppliers currently have a submitted response in
// the box (withdrawn ones and drafts are not counted). It reveals no
// identities; whether the person may see even the count is the caller's
// business.
func (s *Service) Count(ctx context.Context, box Box) (int, error) {
	if err := box.check(); err != nil {
		return 0, err
	}
	var n int64
	err := s.DB.WithContext(ctx).Model(&Submission{}).
		Where("box_type = ? AND box_id = ? AND status = ?", box.Type, box.ID, StatusSubmitted).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count submissions: %w", err)
	}
	return int(n), nil
}

// latestRow is the latest version of a submitted response, as stored.
type latestRow struct {
	SubmissionID  string    `gorm:"column:submission_id"`
	SupplierOrgID string    `gorm:"column:supplier_org_id"`
	Number        int       `gorm:"column:number"`
	Kind          string    `gorm:"column:kind"`
	ReceivedAt    time.Time `gorm:"column:received_at"`
	SHA256        string    `gorm:"column:sha256"`
	Content       []byte    `gorm:"column:content"`
	WrappedKey    []byte    `gorm:"column:wrapped_key"`
}

// latest selects the latest version of every submitted response in box.
func latest(db *gorm.DB, box Box) *gorm.DB {
	return db.Select("v.submission_id, s.supplier_org_id, v.number, v.kind, v.received_at, v.sha256, v.content, v.wrapped_key").
		Table("sealed_versions v").Joins("JOIN sealed_submissions s ON s.id = v.submission_id AND v.number = s.current_version").
		Where("s.box_type = ? AND s.box_id = ? AND s.status = ?", box.Type, box.ID, StatusSubmitted)
}

// unsealChecked decrypts a stored version and checks it against the
// SHA-256 on its receipt.
func (s *Service) unsealChecked(r latestRow) ([]byte, error) {
	plain, err := s.unseal(r.Content, r.WrappedKey, versionAD(r.SubmissionID, r.Number))
	if err == nil && Hash(plain) != r.SHA256 {
		err = fmt.Errorf("%w: the content does not match the SHA-256 on its receipt", documents.ErrTampered)
	}
	return plain, err
}

// refuseEarly audits an attempt to open or read the box before its
// deadline and returns ErrSealed.
func (s *Service) refuseEarly(ctx context.Context, actor audit.Actor, action string, box Box, attempt time.Time, extra map[string]any) error {
	d := map[string]any{"box_type": box.Type, "box_id": box.ID, "reason": "before the deadline",
		"deadline": box.Deadline.UTC().Format(time.RFC3339), "attempt": attempt.Format(time.RFC3339Nano)}
	for k, v := range extra {
		d[k] = v
	}
	err := s.Audit.Record(ctx, s.DB, actor, audit.Event{
		Action: action, ObjectType: "sealed_box", ObjectID: box.Type + ":" + box.ID, Outcome: audit.Denied, Detail: d,
	})
	return errors.Join(ErrSealed, err)
}

// CountIn is Count summed over several boxes of one type (such as a
// framework's lots), in one query.
func (s *Service) CountIn(ctx context.Context, boxType string, boxIDs []string) (int, error) {
	if len(boxIDs) == 0 {
		return 0, nil
	}
	var n int64
	err := s.DB.WithContext(ctx).Model(&Submission{}).
		Where("box_type = ? AND box_id IN ? AND status = ?", boxType, boxIDs, StatusSubmitted).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count submissions: %w", err)
	}
	return int(n), nil
}

// Open decrypts the box: for each supplier whose response is submitted, its
// latest version, checked against the SHA-256 on its receipt. Before the
// deadline (by the service clock) it fails with ErrSealed and the attempt is
// audited as denied; a successful opening is audited with what was opened,
// and a failed one (documents.ErrTampered, a hash mismatch) as a failure.
//
// Open does not decide who may open: the caller must have checked that the
// actor is authorised (and, where two keys are required, that two different
// authorised people have agreed) before calling it.
func (s *Service) Open(ctx context.Context, actor audit.Actor, box Box) ([]Opened, error) {
	attempt := s.now()
	if err := box.check(); err != nil {
		return nil, err
	}
	object := box.Type + ":" + box.ID
	if attempt.Before(box.Deadline) {
		return nil, s.refuseEarly(ctx, actor, "sealed.open", box, attempt, nil)
	}
	var rows []latestRow
	err := latest(s.DB.WithContext(ctx), box).Order("v.received_at, v.id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read submissions: %w", err)
	}
	out := make([]Opened, 0, len(rows))
	opened := make([]string, 0, len(rows))
	for _, r := range rows {
		plain, err := s.unsealChecked(r)
		if err != nil {
			err = fmt.Errorf("sealed: open submission %s version %d: %w", r.SubmissionID, r.Number, err)
			aerr := s.Audit.Record(ctx, s.DB, actor, audit.Event{
				Action: "sealed.open", ObjectType: "sealed_box", ObjectID: object, Outcome: audit.Failure,
				Detail: map[string]any{"box_type": box.Type, "box_id": box.ID, "submission_id": r.SubmissionID,
					"number": r.Number, "reason": err.Error()},
			})
			return nil, errors.Join(err, aerr)
		}
		out = append(out, Opened{
			SubmissionID: r.SubmissionID, SupplierOrgID: r.SupplierOrgID, Number: r.Number, Kind: r.Kind,
			ReceivedAt: r.ReceivedAt.UTC(), SHA256: r.SHA256, Content: plain,
		})
		opened = append(opened, r.SubmissionID+"#"+strconv.Itoa(r.Number)+":"+r.SHA256)
	}
	if err := s.Audit.Record(ctx, s.DB, actor, audit.Event{
		Action: "sealed.open", ObjectType: "sealed_box", ObjectID: object,
		Detail: map[string]any{"box_type": box.Type, "box_id": box.ID, "count": len(out), "opened": strings.Join(opened, ",")},
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// Read decrypts one submission in the box after the deadline: its latest
// submitted version, checked against the SHA-256 on its receipt, for an
// evaluator or lead looking at one response after the box was opened. A
// submission that is not in the box, or not submitted (a draft, a
// withdrawal), is store.ErrNotFound. Before the deadline it fails with
// ErrSealed and the attempt is audited as denied, as Open's is; every read
// is audited ("sealed.read", with hashes and numbers only) and a tampered
// version fails with documents.ErrTampered, audited as a failure.
//
// Like Open, Read does not decide who may read: the caller must.
func (s *Service) Read(ctx context.Context, actor audit.Actor, box Box, submissionID string) (Opened, error) {
	attempt := s.now()
	if err := box.check(); err != nil {
		return Opened{}, err
	}
	if attempt.Before(box.Deadline) {
		return Opened{}, s.refuseEarly(ctx, actor, "sealed.read", box, attempt, map[string]any{"submission_id": submissionID})
	}
	var r latestRow
	err := latest(s.DB.WithContext(ctx), box).Where("s.id = ?", submissionID).Limit(1).Find(&r).Error
	if err != nil {
		return Opened{}, fmt.Errorf("read submission: %w", err)
	}
	if r.SHA256 == "" {
		return Opened{}, fmt.Errorf("submitted response %s: %w", submissionID, store.ErrNotFound)
	}
	plain, err := s.unsealChecked(r)
	if err != nil {
		err = fmt.Errorf("sealed: read submission %s version %d: %w", submissionID, r.Number, err)
		aerr := s.Audit.Record(ctx, s.DB, actor, audit.Event{
			Action: "sealed.read", ObjectType: "sealed_submission", ObjectID: submissionID, Outcome: audit.Failure,
			Detail: map[string]any{"box_type": box.Type, "box_id": box.ID, "number": r.Number, "reason": err.Error()},
		})
		return Opened{}, errors.Join(err, aerr)
	}
	if err := s.Audit.Record(ctx, s.DB, actor, audit.Event{
		Action: "sealed.read", ObjectType: "sealed_submission", ObjectID: submissionID,
		Detail: map[string]any{"box_type": box.Type, "box_id": box.ID, "organisation_id": r.SupplierOrgID, "number": r.Number, "sha256": r.SHA256},
	}); err != nil {
		return Opened{}, err
	}
	return Opened{
		SubmissionID: submissionID, SupplierOrgID: r.SupplierOrgID, Number: r.Number, Kind: r.Kind,
		ReceivedAt: r.ReceivedAt.UTC(), SHA256: r.SHA256, Content: plain,
	}, nil
}
