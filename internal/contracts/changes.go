package contracts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// DetailsInput is what a trust lead completes or corrects on the buying
// trust's contract. Every field is written as given; Version is the
// version the person saw.
type DetailsInput struct {
	ValuePence int64
	// Start and End are dates; the time of day is ignored (the UK date is
	// kept).
	Start, End         time.Time
	ExtensionOptions   string
	MaxExtensionMonths int
	// SignedAt is the signature date, nil while unsigned. A signed
	// contract stays signed: the date may be corrected, not removed.
	SignedAt            *time.Time
	NationalContractRef string
	DeploymentsNote     string
	// DeploymentIDs are the national deployments the contract replaces,
	// all of them (see Service.Replacements); ignored without an exit
	// tracker.
	DeploymentIDs []string
	Version       int
}

func (in *DetailsInput) normalise() {
	in.ExtensionOptions = strings.TrimSpace(in.ExtensionOptions)
	in.NationalContractRef = strings.TrimSpace(in.NationalContractRef)
	in.DeploymentsNote = strings.TrimSpace(in.DeploymentsNote)
	if !in.Start.IsZero() {
		in.Start = ukDate(in.Start)
	}
	if !in.End.IsZero() {
		in.End = ukDate(in.End)
	}
	if in.SignedAt != nil {
		d := ukDate(*in.SignedAt)
		in.SignedAt = &d
	}
}

// check is what can be said of the input alone.
func (in *DetailsInput) check() *validate.Errors {
	var v validate.Errors
	checkTerm(&v, in.ValuePence, in.Start, in.End)
	if in.MaxExtensionMonths < 0 || in.MaxExtensionMonths > MaxExtensionMonths {
		v.Add(FieldMaxExtensionMonths, fmt.Sprintf("Enter the total extension the contract allows as a number of months from 0 to %d", MaxExtensionMonths))
	}
	checkText(&v, FieldExtensionOptions, in.ExtensionOptions, MaxText, "The extension options must be 5,000 characters or fewer")
	checkText(&v, FieldNationalContract, in.NationalContractRef, MaxReference, "The national contract reference must be 100 characters or fewer")
	checkText(&v, FieldDeploymentsNote, in.DeploymentsNote, MaxText, "The deployments it replaces must be described in 5,000 characters or fewer")
	return &v
}

// Update completes or corrects a contract's details: value, term,
// extension options, signature date and what it replaces. Only a trust
// lead of the buying trust may, and only while the contract has neither
// ended nor been terminated. The total extension allowed cannot fall
// below what has been exercised. The audit entry records each changed
// field's old and new value. A stale version is store.ErrConflict; nothing
// is saved in part.
func (s *Service) Update(ctx context.Context, actor audit.Actor, id string, in DetailsInput) error {
	const action = "contract.update"
	in.normalise()
	if err := in.check().Err(); err != nil {
		return err
	}
	return s.change(ctx, actor, id, action, "its details can no longer be changed", func(tx *gorm.DB, c *Contract, now time.Time) error {
		var v validate.Errors
		checkNotEnded(&v, in.End, c.ExtendedMonths, now)
		if in.MaxExtensionMonths < c.ExtendedMonths {
			v.Add(FieldMaxExtensionMonths, fmt.Sprintf("%d months of extension have already been exercised; enter %d or more", c.ExtendedMonths, c.ExtendedMonths))
		}
		switch {
		case in.SignedAt != nil:
			checkSignature(&v, c, *in.SignedAt, now)
		case c.SignedAt != nil:
			v.Add(FieldSignedAt, fmt.Sprintf("The contract was signed on %s; enter the date it was signed", uktime.Date(*c.SignedAt)))
		}
		if err := v.Err(); err != nil {
			return err
		}
		var ref *string
		if in.NationalContractRef != "" {
			ref = &in.NationalContractRef
		}
		changed := map[string]any{}
		set := map[string]any{}
		field := func(column string, old, new any) {
			if old != new {
				changed[column] = map[string]any{"old": old, "new": new}
			}
		}
		field("value_pence", c.ValuePence, in.ValuePence)
		field("start_date", dateValue(c.StartDate), dateValue(in.Start))
		field("end_date", dateValue(c.EndDate), dateValue(in.End))
		field("extension_options", c.ExtensionOptions, in.ExtensionOptions)
		field("max_extension_months", c.MaxExtensionMonths, in.MaxExtensionMonths)
		field("signed_at", optionalDate(c.SignedAt), optionalDate(in.SignedAt))
		field("national_contract_ref", optionalText(c.NationalContractRef), in.NationalContractRef)
		field("deployments_note", c.DeploymentsNote, in.DeploymentsNote)
		set["value_pence"], set["start_date"], set["end_date"] = in.ValuePence, in.Start, in.End
		set["extension_options"], set["max_extension_months"], set["signed_at"] = in.ExtensionOptions, in.MaxExtensionMonths, in.SignedAt
		set["national_contract_ref"], set["deployments_note"] = ref, in.DeploymentsNote
		if err := s.save(tx, c, in.Version, set); err != nil {
			return err
		}
		if err := s.appendAudit(tx, actor, action, c.ID, map[string]any{"reference": c.Reference, "changes": changed}); err != nil {
			return err
		}
		if s.Replacements == nil {
			return nil
		}
		c.ValuePence, c.StartDate, c.EndDate, c.SignedAt = in.ValuePence, in.Start, in.End, in.SignedAt
		c.NationalContractRef, c.DeploymentsNote = ref, in.DeploymentsNote
		return s.Replacements.Replace(tx, actor, *c, in.DeploymentIDs)
	})
}

// Sign records the date the contract was signed: today or earlier, and not
// before the contract was made. Once signed, the contract is active from
// its start date. A contract already signed is refused (correct its date
// with Update), as is one that has ended or been terminated.
func (s *Service) Sign(ctx context.Context, actor audit.Actor, id string, signedAt time.Time, version int) error {
	const action = "contract.sign"
	return s.change(ctx, actor, id, action, "it can no longer be signed", func(tx *gorm.DB, c *Contract, now time.Time) error {
		var v validate.Errors
		if c.SignedAt != nil {
			v.Add(FieldSignedAt, fmt.Sprintf("The contract was signed on %s; to correct the date, change the contract's details", uktime.Date(*c.SignedAt)))
			return v.Err()
		}
		checkSignature(&v, c, signedAt, now)
		if err := v.Err(); err != nil {
			return err
		}
		day := ukDate(signedAt)
		if err := s.save(tx, c, version, map[string]any{"signed_at": day}); err != nil {
			return err
		}
		if err := s.appendAudit(tx, actor, action, c.ID, map[string]any{"reference": c.Reference, "signed_at": dateValue(day)}); err != nil {
			return err
		}
		if s.Replacements == nil {
			return nil
		}
		c.SignedAt = &day
		return s.Replacements.Refresh(tx, actor, *c)
	})
}

// ExerciseExtension extends the contract by months, within what its
// extension options allow in total; the contract then expires that many
// calendar months later (Contract.Expires). A contract that has ended or
// been terminated cannot be extended.
func (s *Service) ExerciseExtension(ctx context.Context, actor audit.Actor, id string, months, version int) error {
	const action = "contract.extend"
	if months < 1 {
		var v validate.Errors
		v.Add(FieldExtensionMonths, "Enter the number of months of extension to exercise, 1 or more")
		return v.Err()
	}
	return s.change(ctx, actor, id, action, "it can no longer be extended", func(tx *gorm.DB, c *Contract, now time.Time) error {
		var v validate.Errors
		switch left := c.ExtensionLeft(); {
		case left <= 0:
			v.Add(FieldExtensionMonths, "The contract has no extension left to exercise; change its extension options first if it allows more")
		case months > left:
			v.Add(FieldExtensionMonths, fmt.Sprintf("The contract allows %d more months of extension; enter %d or fewer", left, left))
		}
		if err := v.Err(); err != nil {
			return err
		}
		oldLast := c.LastDay()
		c.ExtendedMonths += months
		if err := s.save(tx, c, version, map[string]any{"extended_months": c.ExtendedMonths}); err != nil {
			return err
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{
			"reference": c.Reference, "months": months, "extended_months": c.ExtendedMonths,
			"old_last_day": dateValue(oldLast), "new_last_day": dateValue(c.LastDay()),
		})
	})
}

// Terminate ends a pending or active contract early, with the reason
// recorded; an expired contract has ended already and is refused.
func (s *Service) Terminate(ctx context.Context, actor audit.Actor, id, reason string, version int) error {
	const action = "contract.terminate"
	reason = strings.TrimSpace(reason)
	var v validate.Errors
	if v.Required(FieldReason, reason, "Say why the contract is being terminated") {
		checkText(&v, FieldReason, reason, MaxText, "The reason must be 5,000 characters or fewer")
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.change(ctx, actor, id, action, "it cannot be terminated", func(tx *gorm.DB, c *Contract, now time.Time) error {
		was := c.State(now)
		if err := s.save(tx, c, version, map[string]any{"status": StatusTerminated, "terminated_at": now, "termination_reason": reason}); err != nil {
			return err
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"reference": c.Reference, "was": was, "reason": reason})
	})
}

// optionalDate is a nullable date as audit details write it ("" for none).
func optionalDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return dateValue(*t)
}

// optionalText is a nullable text ("" for none).
func optionalText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
