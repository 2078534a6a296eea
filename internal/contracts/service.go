package contracts

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Service keeps the contracts. Every change runs in one transaction with
// its audit entry; a refusal for want of permission is audited on its own.
type Service struct {
	DB    *store.DB
	Audit *audit.Log
	Clock clock.Clock
	// Notify tells trusts of contracts nearing their end (nil: nobody is
	// told).
	Notify *notify.Notifier
	// Replacements links contracts to the national deployments they
	// replace (nil: no exit tracker).
	Replacements Replacements
}

// Replacements is the exit tracker as the contracts see it: told, inside
// a contract's transaction, which deployments the contract replaces, so
// their exit plans follow the contract.
type Replacements interface {
	// Replace records that c replaces exactly the deployments ids (of c's
	// buying trust; a validate error otherwise).
	Replace(tx *gorm.DB, actor audit.Actor, c Contract, ids []string) error
	// Refresh brings the deployments c replaces up to date with c.
	Refresh(tx *gorm.DB, actor audit.Actor, c Contract) error
	// Replaced lists the ids of the deployments contractID replaces.
	Replaced(db *gorm.DB, contractID string) ([]string, error)
}

// ErrForbidden: the actor is not a trust lead of the contract's buying
// trust, the only people who may change it.
var ErrForbidden = errors.New("only a trust lead of the buying trust can change this contract")

// Field names of the errors, as the forms name their fields. Start and end
// are spelt as the award confirmation's (award.FieldStart, award.FieldEnd),
// so its form shows CreateFromAward's errors beside its own fields.
const (
	FieldValue              = "value"
	FieldStart              = "start"
	FieldEnd                = "end"
	FieldExtensionOptions   = "extension_options"
	FieldMaxExtensionMonths = "max_extension_months"
	FieldExtensionMonths    = "extension_months"
	FieldSignedAt           = "signed_at"
	FieldNationalContract   = "national_contract_ref"
	FieldDeploymentsNote    = "deployments_note"
	FieldReason             = "reason"
	FieldDocument           = "document"
	FieldContract           = "contract"
)

// Lengths of the free text.
const (
	MaxText      = 5000 // extension options, deployments note, termination reason
	MaxReference = 100  // national contract reference
)

// now is the clock's time as the databases store it.
func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// load reads a contract through db.
func load(db *gorm.DB, id string) (*Contract, error) {
	var c Contract
	if err := db.Where("id = ?", id).First(&c).Error; err != nil {
		return nil, notFound(err, "contract")
	}
	c.utc()
	return &c, nil
}

// lockAsLead is the start of every change: the contract marked changed (so
// concurrent changes queue behind one another), read, and the actor checked
// to be a trust lead of its buying trust, taken from the stored contract,
// never from the request.
func (s *Service) lockAsLead(tx *gorm.DB, actor audit.Actor, id string) (*Contract, error) {
	res := tx.Model(&Contract{}).Where("id = ?", id).Update("updated_at", s.now())
	if res.Error != nil {
		return nil, fmt.Errorf("lock contract: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("contract: %w", store.ErrNotFound)
	}
	c, err := load(tx, id)
	if err != nil {
		return nil, err
	}
	ok, err := competition.HasRole(tx, actor.UserID, c.OrganisationID, authz.TrustLead)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrForbidden
	}
	return c, nil
}

// change runs one change to a contract in one transaction: the contract
// locked and the actor checked (lockAsLead); when ended says what cannot
// be done to a contract that has ended, a terminated or expired one
// refused with it; then fn, which writes the change and its audit entry.
// A refusal for want of permission is audited afterwards.
func (s *Service) change(ctx context.Context, actor audit.Actor, id, action, ended string, fn func(tx *gorm.DB, c *Contract, now time.Time) error) error {
	now := s.now()
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockAsLead(tx, actor, id)
		if err != nil {
			return err
		}
		if ended != "" {
			var v validate.Errors
			if !changeable(&v, c, now, ended) {
				return v.Err()
			}
		}
		return fn(tx, c, now)
	})
	return s.refused(ctx, actor, action, id, err)
}

// save writes the changed columns of a contract at the version the person
// saw, moving the version on; a stale version is store.ErrConflict.
func (s *Service) save(tx *gorm.DB, c *Contract, version int, changes map[string]any) error {
	if c.Version != version {
		return store.ErrConflict
	}
	changes["version"] = version + 1
	changes["updated_at"] = s.now()
	res := tx.Model(&Contract{}).Where("id = ? AND version = ?", c.ID, version).Updates(changes)
	if res.Error != nil {
		return fmt.Errorf("update contract: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return store.ErrConflict
	}
	return nil
}

// appendAudit writes the audit entry of a change to a contract.
func (s *Service) appendAudit(tx *gorm.DB, actor audit.Actor, action, contractID string, detail map[string]any) error {
	return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "contract", ObjectID: contractID, Detail: detail})
}

// refused records a refusal for want of permission in the audit log (in a
// transaction of its own, after the refused one has rolled back) and
// returns err; other errors pass through unrecorded.
func (s *Service) refused(ctx context.Context, actor audit.Actor, action, contractID string, err error) error {
	return s.Audit.Refused(ctx, s.DB, actor, action, "contract", contractID, err, ErrForbidden)
}

// changeable refuses a change to the terms of a contract that has ended:
// a terminated or expired contract is kept as it was.
func changeable(v *validate.Errors, c *Contract, now time.Time, what string) bool {
	switch c.State(now) {
	case StateTerminated:
		v.Add(FieldContract, fmt.Sprintf("The contract was terminated on %s, so %s", uktime.Date(*c.TerminatedAt), what))
		return false
	case StateExpired:
		v.Add(FieldContract, fmt.Sprintf("The contract ended on %s, so %s", uktime.Date(c.LastDay()), what))
		return false
	}
	return true
}

// checkTerm checks a contract's value and dates, as the award confirmation
// and later edits give them.
func checkTerm(v *validate.Errors, valuePence int64, start, end time.Time) {
	if valuePence < 0 {
		v.Add(FieldValue, "Enter the contract value as an amount of £0 or more")
	}
	if start.IsZero() {
		v.Add(FieldStart, "Enter the date the contract starts")
	}
	if end.IsZero() {
		v.Add(FieldEnd, "Enter the date the contract ends")
	}
	if !start.IsZero() && !end.IsZero() && ukDate(end).Before(ukDate(start)) {
		v.Add(FieldEnd, fmt.Sprintf("The end date must be on or after the start date, %s", uktime.Date(ukDate(start))))
	}
}

// checkNotEnded refuses an end date that, with months of extension, has
// passed already: a contract made or changed to have ended would be
// expired at once and could not be changed back. An end date already
// refused is not refused twice.
func checkNotEnded(v *validate.Errors, end time.Time, months int, now time.Time) {
	if !end.IsZero() && !v.Has(FieldEnd) && !now.Before(expiry(end, months)) {
		v.Add(FieldEnd, fmt.Sprintf("The end date has passed; enter today (%s) or a later date", uktime.Date(now)))
	}
}

// checkText refuses free text longer than limit characters with message.
func checkText(v *validate.Errors, field, text string, limit int, message string) {
	if utf8.RuneCountInString(text) > limit {
		v.Add(field, message)
	}
}

// checkSignature checks a signature date: not after today (a contract
// cannot be recorded as signed on a day still to come) and not before the
// contract was made (it did not exist, and the award was not yet
// confirmed, so signing would have broken the standstill).
func checkSignature(v *validate.Errors, c *Contract, signed time.Time, now time.Time) {
	switch {
	case signed.IsZero():
		v.Add(FieldSignedAt, "Enter the date the contract was signed")
	case ukDate(signed).After(ukDate(now)):
		v.Add(FieldSignedAt, fmt.Sprintf("The signature date cannot be in the future; enter the date it was signed, today (%s) or earlier", uktime.Date(now)))
	case ukDate(signed).Before(ukDate(c.CreatedAt)):
		v.Add(FieldSignedAt, fmt.Sprintf("The signature date cannot be before %s, when the award was confirmed and the contract made", uktime.Date(c.CreatedAt)))
	}
}
