package framework

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Service changes and reads frameworks. Every change runs in one
// transaction with its audit entry.
type Service struct {
	DB        *store.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Catalogue *catalogue.Service
	// Orgs creates supplier organisations and grants roles when a supplier
	// registers from an invitation.
	Orgs *orgs.Service
	// Mail emails invitations to supplier contacts who may not use the
	// portal yet (*notify.Notifier).
	Mail AddressMailer
	// Sealed holds the lots' sealed application boxes; opening and reading
	// applications goes through it.
	Sealed *sealed.Service
	// Notify records award letters and framework updates for portal users
	// in the caller's transaction (*notify.Notifier).
	Notify Notifier
}

// ErrNotDraft reports a change that only a draft framework allows.
var ErrNotDraft = errors.New("the framework has been published and can no longer be changed")

func newID() string { return uuid.NewString() }

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// now is the clock's time as the databases store it.
func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

// day is the date of t (midnight UTC).
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Field names of FrameworkInput's errors.
const (
	FieldReference             = "reference"
	FieldTitle                 = "title"
	FieldRegime                = "regime"
	FieldKind                  = "kind"
	FieldTermStart             = "term_start"
	FieldTermEnd               = "term_end"
	FieldApplicationsOpen      = "applications_open"
	FieldClarificationDeadline = "clarification_deadline"
	FieldApplicationDeadline   = "application_deadline"
)

// FrameworkInput is what a form submits to create or edit a framework.
// Zero times mean the field was left empty.
type FrameworkInput struct {
	Reference             string
	Title                 string
	Description           string
	Regime                string
	Kind                  string
	TermStart             time.Time
	TermEnd               time.Time
	ApplicationsOpen      time.Time
	ClarificationDeadline time.Time
	ApplicationDeadline   time.Time
	Version               int // the version the editor saw; 0 when creating
}

var referencePattern = regexp.MustCompile(`^[A-Z0-9]+(?:[-/][A-Z0-9]+)*$`)

func (in *FrameworkInput) normalise() {
	in.Reference = strings.ToUpper(strings.TrimSpace(in.Reference))
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Description = strings.TrimSpace(in.Description)
	in.Regime = strings.TrimSpace(in.Regime)
	in.Kind = strings.TrimSpace(in.Kind)
	if !in.TermStart.IsZero() {
		in.TermStart = day(in.TermStart)
	}
	if !in.TermEnd.IsZero() {
		in.TermEnd = day(in.TermEnd)
	}
	in.ApplicationsOpen = in.ApplicationsOpen.UTC().Truncate(time.Microsecond)
	in.ClarificationDeadline = in.ClarificationDeadline.UTC().Truncate(time.Microsecond)
	in.ApplicationDeadline = in.ApplicationDeadline.UTC().Truncate(time.Microsecond)
}

// check applies every rule that needs no database, reporting all problems.
func (in *FrameworkInput) check(now time.Time) *validate.Errors {
	var v validate.Errors
	if v.Required(FieldReference, in.Reference, "Enter a reference, such as SLCSC-EPR-2027") {
		if len(in.Reference) < 3 || len(in.Reference) > 40 || !referencePattern.MatchString(in.Reference) {
			v.Add(FieldReference, "Reference must be 3 to 40 letters, digits and hyphens, such as SLCSC-EPR-2027")
		}
	}
	if v.Required(FieldTitle, in.Title, "Enter a title") && len(in.Title) > 200 {
		v.Add(FieldTitle, "Title must be 200 characters or fewer")
	}
	switch in.Regime {
	case RegimePCR2015, RegimePA2023:
	case "":
		v.Add(FieldRegime, "Choose the regime: Public Contracts Regulations 2015 or Procurement Act 2023")
	default:
		v.Add(FieldRegime, "Regime must be Public Contracts Regulations 2015 or Procurement Act 2023")
	}
	switch in.Kind {
	case KindClosed:
	case KindOpen:
		if in.Regime == RegimePCR2015 {
			v.Add(FieldKind, "Open frameworks exist only under the Procurement Act 2023")
		}
	case "":
		v.Add(FieldKind, "Choose whether the framework is closed or open")
	default:
		v.Add(FieldKind, "A framework must be closed or open")
	}

	termOK := true
	if in.TermStart.IsZero() {
		v.Add(FieldTermStart, "Enter the date the term starts")
		termOK = false
	}
	if in.TermEnd.IsZero() {
		v.Add(FieldTermEnd, "Enter the date the term ends")
		termOK = false
	}
	if termOK {
		if !in.TermEnd.After(in.TermStart) {
			v.Add(FieldTermEnd, "The term must end after it starts")
		} else if years, ok := MaxTermYears[in.Kind]; ok && in.TermEnd.After(in.TermStart.AddDate(years, 0, 0)) {
			v.Add(FieldTermEnd, fmt.Sprintf("%s framework can last at most %d years; this term ends after %s",
				map[string]string{KindClosed: "A closed", KindOpen: "An open"}[in.Kind], years, in.TermStart.AddDate(years, 0, 0).Format("2 January 2006")))
		}
	}

	open, clar, deadline := in.ApplicationsOpen, in.ClarificationDeadline, in.ApplicationDeadline
	if open.IsZero() {
		v.Add(FieldApplicationsOpen, "Enter when applications open")
	}
	if clar.IsZero() {
		v.Add(FieldClarificationDeadline, "Enter the deadline for clarification questions")
	}
	if deadline.IsZero() {
		v.Add(FieldApplicationDeadline, "Enter the application deadline")
	}
	if !open.IsZero() && !clar.IsZero() && !clar.After(open) {
		v.Add(FieldClarificationDeadline, "The clarification deadline must be after applications open")
	}
	if !deadline.IsZero() {
		switch {
		case !clar.IsZero() && !deadline.After(clar):
			v.Add(FieldApplicationDeadline, "The application deadline must be after the clarification deadline")
		case !open.IsZero() && !deadline.After(open):
			v.Add(FieldApplicationDeadline, "The application deadline must be after applications open")
		case !deadline.After(now):
			v.Add(FieldApplicationDeadline, "The application deadline must be in the future")
		case !in.TermStart.IsZero() && !deadline.Before(in.TermStart):
			v.Add(FieldApplicationDeadline, "The application deadline must be before the term starts")
		}
	}
	return &v
}

func (in *FrameworkInput) apply(f *Framework) {
	f.Reference = in.Reference
	f.Title = in.Title
	f.Description = in.Description
	f.Regime = in.Regime
	f.Kind = in.Kind
	f.TermStart = in.TermStart
	f.TermEnd = in.TermEnd
	f.ApplicationsOpen = in.ApplicationsOpen
	f.ClarificationDeadline = in.ClarificationDeadline
	f.ApplicationDeadline = in.ApplicationDeadline
}

func referenceTaken(tx *gorm.DB, reference, selfID string) (bool, error) {
	var n int64
	q := tx.Model(&Framework{}).Where("reference = ?", reference)
	if selfID != "" {
		q = q.Where("id <> ?", selfID)
	}
	if err := q.Count(&n).Error; err != nil {
		return false, fmt.Errorf("check reference: %w", err)
	}
	return n > 0, nil
}

// CreateFramework creates a draft framework for a consortium.
func (s *Service) CreateFramework(ctx context.Context, actor audit.Actor, consortiumID string, in FrameworkInput) (*Framework, error) {
	in.normalise()
	now := s.now()
	if err := in.check(now).Err(); err != nil {
		return nil, err
	}
	f := &Framework{ID: newID(), ConsortiumID: consortiumID, Status: StatusDraft, Version: 1, CreatedAt: now, UpdatedAt: now}
	in.apply(f)
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var c orgs.Organisation
		if err := tx.Where("id = ? AND kind = ?", consortiumID, orgs.KindConsortium).First(&c).Error; err != nil {
			return notFound(err, "consortium")
		}
		if taken, err := referenceTaken(tx, f.Reference, ""); err != nil {
			return err
		} else if taken {
			var v validate.Errors
			v.Add(FieldReference, fmt.Sprintf("Reference %s is already used by another framework", f.Reference))
			return v.Err()
		}
		if err := tx.Create(f).Error; err != nil {
			return fmt.Errorf("create framework: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.create", ObjectType: "framework", ObjectID: f.ID,
			Detail: map[string]any{"reference": f.Reference, "title": f.Title, "consortium_id": consortiumID, "regime": f.Regime, "kind": f.Kind}})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// lockDraft marks the framework changed at the start of a transaction (so
// concurrent changes queue) and loads it, refusing unless it is a draft.
func (s *Service) lockDraft(tx *gorm.DB, id string) (*Framework, error) {
	f, err := s.lock(tx, id)
	if err != nil {
		return nil, err
	}
	if f.Status != StatusDraft {
		return nil, ErrNotDraft
	}
	return f, nil
}

func (s *Service) lock(tx *gorm.DB, id string) (*Framework, error) {
	res := tx.Model(&Framework{}).Where("id = ?", id).Update("updated_at", s.now())
	if res.Error != nil {
		return nil, fmt.Errorf("lock framework: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("framework: %w", store.ErrNotFound)
	}
	var f Framework
	if err := tx.Where("id = ?", id).First(&f).Error; err != nil {
		return nil, notFound(err, "framework")
	}
	return &f, nil
}

// UpdateFramework changes a draft framework's details. in.Version must be
// the version the editor saw, or store.ErrConflict is returned.
func (s *Service) UpdateFramework(ctx context.Context, actor audit.Actor, id string, in FrameworkInput) error {
	in.normalise()
	now := s.now()
	if err := in.check(now).Err(); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lockDraft(tx, id)
		if err != nil {
			return err
		}
		if f.Version != in.Version {
			return store.ErrConflict
		}
		if taken, err := referenceTaken(tx, in.Reference, id); err != nil {
			return err
		} else if taken {
			var v validate.Errors
			v.Add(FieldReference, fmt.Sprintf("Reference %s is already used by another framework", in.Reference))
			return v.Err()
		}
		in.apply(f)
		res := tx.Model(&Framework{}).Where("id = ? AND version = ?", id, in.Version).Updates(map[string]any{
			"reference": f.Reference, "title": f.Title, "description": f.Description, "regime": f.Regime, "kind": f.Kind,
			"term_start": f.TermStart, "term_end": f.TermEnd, "applications_open": f.ApplicationsOpen,
			"clarification_deadline": f.ClarificationDeadline, "application_deadline": f.ApplicationDeadline,
			"version": in.Version + 1, "updated_at": now,
		})
		if res.Error != nil {
			return fmt.Errorf("update framework: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.update", ObjectType: "framework", ObjectID: id,
			Detail: map[string]any{"reference": f.Reference, "title": f.Title}})
	})
}

// Framework returns one framework.
func (s *Service) Framework(ctx context.Context, id string) (*Framework, error) {
	var f Framework
	if err := s.DB.WithContext(ctx).Where("id = ?", id).First(&f).Error; err != nil {
		return nil, notFound(err, "framework")
	}
	return &f, nil
}

// Frameworks lists a consortium's frameworks by reference.
func (s *Service) Frameworks(ctx context.Context, consortiumID string) ([]Framework, error) {
	var out []Framework
	if err := s.DB.WithContext(ctx).Where("consortium_id = ?", consortiumID).Order("reference").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list frameworks: %w", err)
	}
	return out, nil
}
