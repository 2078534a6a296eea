package framework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Application statuses: opened at the deadline, then decided.
const (
	ApplicationOpened       = "opened"
	ApplicationAppointed    = "appointed"
	ApplicationUnsuccessful = "unsuccessful"
)

// Application is a supplier's application to one lot, as opened after the
// deadline. It pins the sealed version that was opened (number and
// SHA-256); the content itself stays in the sealed box and is read with
// ApplicationContent.
type Application struct {
	ID            string
	FrameworkID   string
	LotID         string
	Lot           Lot `gorm:"foreignKey:LotID"`
	SupplierOrgID string
	Supplier      orgs.Organisation `gorm:"foreignKey:SupplierOrgID"`
	SubmissionID  string
	VersionNumber int
	SHA256        string `gorm:"column:sha256"`
	ReceivedAt    time.Time
	Status        string
	// Reason is the lead's reason for the decision, sent in the award letter.
	Reason    string
	DecidedAt *time.Time
	DecidedBy string
	OpenedAt  time.Time
	OpenedBy  string
	// AppointmentStatus is "" for a current appointment (or none),
	// AppointmentSuspended or AppointmentEnded; see SetAppointment.
	AppointmentStatus    string
	AppointmentReason    string
	AppointmentChangedAt *time.Time
}

// TableName tells GORM where applications live.
func (Application) TableName() string { return "framework_applications" }

// Decided reports whether the lead has decided the application.
func (a Application) Decided() bool { return a.Status != ApplicationOpened }

// openable refuses unless the framework's applications may be opened now:
// the deadline has passed (state evaluation) and they have not been opened.
func openable(f *Framework, now time.Time) error {
	var v validate.Errors
	switch st := f.State(now); {
	case f.OpenedAt != nil:
		v.Add(FieldState, "The applications have already been opened, at "+uktime.Moment(*f.OpenedAt)+" (UK time)")
	case st == StateScheduled || st == StateOpen:
		v.Add(FieldApplicationDeadline, "Applications stay sealed until the deadline at "+uktime.Moment(f.ApplicationDeadline)+" (UK time); open them after it")
	case st != StateEvaluation:
		v.Add(FieldState, fmt.Sprintf("Applications cannot be opened while the framework is %s", strings.ToLower(StateLabel(st))))
	}
	return v.Err()
}

// Opening is what turning an opening key achieved.
type Opening struct {
	// Keys are the keys turned so far, oldest first.
	Keys []OpeningKey
	// Opened is true when this key was the second and the applications
	// were opened; Applications is then how many were recorded.
	Opened       bool
	Applications int
}

// OpeningKey is one lead's turned key.
type OpeningKey struct {
	UserID   string
	Name     string
	TurnedAt time.Time
}

func openingScope(frameworkID string) string { return "framework:" + frameworkID }

// errSameKeyholder is a lead turning a second key while the other is
// still missing.
var errSameKeyholder = errors.New("the same lead turned a second key")

// OpeningKeys lists the opening keys turned for a framework so far.
func (s *Service) OpeningKeys(ctx context.Context, frameworkID string) ([]OpeningKey, error) {
	return openingKeys(s.DB.WithContext(ctx), frameworkID)
}

// openingKeys lists the keys that count: those turned by people who are
// still consortium leads of the framework's consortium and not disabled.
// A lead who lost the role since turning a key no longer makes up the pair.
func openingKeys(db *gorm.DB, frameworkID string) ([]OpeningKey, error) {
	var f Framework
	if err := db.Where("id = ?", frameworkID).First(&f).Error; err != nil {
		return nil, notFound(err, "framework")
	}
	keys, err := sealed.Keys(db, openingScope(frameworkID))
	if err != nil {
		return nil, err
	}
	leads, err := orgs.UsersWithRole(db, authz.ConsortiumLead, f.ConsortiumID)
	if err != nil {
		return nil, err
	}
	out := make([]OpeningKey, 0, len(keys))
	for _, k := range keys {
		if !slices.Contains(leads, k.UserID) {
			continue
		}
		var name string
		if err := db.Table("users").Select("name").Where("id = ?", k.UserID).Scan(&name).Error; err != nil {
			return nil, fmt.Errorf("read keyholder: %w", err)
		}
		out = append(out, OpeningKey{UserID: k.UserID, Name: name, TurnedAt: k.TurnedAt})
	}
	return out, nil
}

// OpenApplications turns the actor's opening key. Applications are opened
// only when two different consortium leads have turned theirs after the
// deadline (SECURITY.md: four eyes; one person twice does not count, and
// is refused). Each key is audited. The second key opens every lot's
// sealed box and records each eligible submitted application, so that
// evaluation can start. Eligible means the supplier accepted an
// invitation to the framework or, for an open framework, any supplier; an
// ineligible supplier's response stays unread and gets no application.
//
// The boxes are decrypted first (sealed.Open checks every response against
// its receipt's SHA-256 and audits each opening), so a tampered response
// stops the opening before anything is recorded; then one transaction
// records the applications, marks the framework opened and writes the
// audit entry, which holds counts only. If that fails, either keyholder
// may try again.
func (s *Service) OpenApplications(ctx context.Context, actor audit.Actor, frameworkID string) (Opening, error) {
	if s.Sealed == nil {
		return Opening{}, errors.New("framework: opening applications needs the sealed box service")
	}
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return Opening{}, err
	}
	if err := requireLead(s.DB.WithContext(ctx), actor, f); err != nil {
		return Opening{}, s.refused(ctx, actor, "framework.applications.open", "framework", frameworkID, err)
	}
	if err := openable(f, s.now()); err != nil {
		return Opening{}, err
	}
	var keys []OpeningKey
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lockAsLead(tx, actor, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := openable(f, now); err != nil {
			return err
		}
		var turned bool
		keys, turned, err = sealed.TurnCountedKey(tx, openingScope(frameworkID), actor.UserID, now,
			func(tx *gorm.DB) ([]OpeningKey, error) { return openingKeys(tx, frameworkID) })
		switch {
		case errors.Is(err, sealed.ErrSameKeyholder):
			return errSameKeyholder
		case err != nil:
			return err
		case !turned:
			return nil // the second key was turned before: the opening is being tried again
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.applications.key", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"keys": len(keys), "needed": sealed.KeysNeeded}})
	})
	if errors.Is(err, errSameKeyholder) {
		// Refused and audited: one person turning both keys is exactly
		// what the two keys are there to stop.
		if aerr := s.Audit.Record(ctx, s.DB, actor, audit.Event{Action: "framework.applications.key", ObjectType: "framework", ObjectID: frameworkID,
			Outcome: audit.Denied, Detail: map[string]any{"reason": "the same lead turned a second key"}}); aerr != nil {
			return Opening{}, aerr
		}
		var v validate.Errors
		v.Add(FieldState, "You have already turned your key; the applications open when a second consortium lead turns theirs")
		return Opening{}, v.Err()
	}
	if err != nil {
		return Opening{}, s.refused(ctx, actor, "framework.applications.key", "framework", frameworkID, err)
	}
	if len(keys) < sealed.KeysNeeded {
		return Opening{Keys: keys}, nil
	}
	n, err := s.open(ctx, actor, frameworkID)
	if err != nil {
		return Opening{Keys: keys}, err
	}
	return Opening{Keys: keys, Opened: true, Applications: n}, nil
}

// open decrypts every lot's box and records the applications (see
// OpenApplications, which has checked the two keys). One opening of the
// framework runs at a time across every instance (sealed.Exclusively): an
// opener that waited for another is told the applications have already
// been opened, without decrypting them again.
func (s *Service) open(ctx context.Context, actor audit.Actor, frameworkID string) (recorded int, err error) {
	err = s.Sealed.Exclusively(ctx, openingScope(frameworkID), func() error {
		recorded, err = s.openOnce(ctx, actor, frameworkID)
		return err
	})
	return recorded, err
}

// openOnce is open's work, under its lock.
func (s *Service) openOnce(ctx context.Context, actor audit.Actor, frameworkID string) (int, error) {
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return 0, err
	}
	if err := openable(f, s.now()); err != nil {
		return 0, err
	}
	lots, err := s.Lots(ctx, frameworkID)
	if err != nil {
		return 0, err
	}
	opened := make(map[string][]sealed.Opened, len(lots))
	for _, l := range lots {
		o, err := s.Sealed.Open(ctx, actor, ApplicationBox(f, l.ID))
		if err != nil {
			return 0, fmt.Errorf("open lot %d: %w", l.Number, err)
		}
		opened[l.ID] = o
	}
	recorded := 0
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lockAsLead(tx, actor, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := openable(f, now); err != nil {
			return err
		}
		eligible, err := invitedSuppliers(tx, frameworkID)
		if err != nil {
			return err
		}
		perLot := map[string]int{}
		ineligible := 0
		for _, l := range lots {
			for _, o := range opened[l.ID] {
				if f.Kind != KindOpen && !eligible[o.SupplierOrgID] {
					ineligible++
					continue
				}
				a := Application{
					ID: newID(), FrameworkID: frameworkID, LotID: l.ID, SupplierOrgID: o.SupplierOrgID, SubmissionID: o.SubmissionID,
					VersionNumber: o.Number, SHA256: o.SHA256, ReceivedAt: o.ReceivedAt, Status: ApplicationOpened,
					OpenedAt: now, OpenedBy: actor.UserID,
				}
				if err := tx.Omit("Lot", "Supplier").Create(&a).Error; err != nil {
					return fmt.Errorf("record application: %w", err)
				}
				perLot[fmt.Sprintf("lot%d", l.Number)]++
				recorded++
			}
		}
		res := tx.Model(&Framework{}).Where("id = ? AND opened_at IS NULL", frameworkID).
			Updates(map[string]any{"opened_at": now, "opened_by": actor.UserID, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("mark applications opened: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			var v validate.Errors
			v.Add(FieldState, "The applications have already been opened")
			return v.Err()
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.applications.open", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"applications": recorded, "per_lot": perLot, "ineligible": ineligible}})
	})
	if err != nil {
		return 0, err
	}
	return recorded, nil
}

// invitedSuppliers is the set of suppliers that accepted an invitation to
// the framework.
func invitedSuppliers(tx *gorm.DB, frameworkID string) (map[string]bool, error) {
	var ids []string
	if err := tx.Model(&Invitation{}).Where("framework_id = ? AND status = ? AND supplier_org_id IS NOT NULL", frameworkID, InvitationAccepted).
		Pluck("supplier_org_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("read accepted invitations: %w", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// Applications lists a framework's opened applications by lot and
// supplier name, with their lots and suppliers. Before the opening there
// are none. Only the consortium lead and the framework's evaluators may
// see it; the caller checks (IsEvaluator).
func (s *Service) Applications(ctx context.Context, frameworkID string) ([]Application, error) {
	return applications(s.DB.WithContext(ctx), "framework_applications.framework_id = ?", frameworkID)
}

func applications(db *gorm.DB, where string, args ...any) ([]Application, error) {
	var out []Application
	err := db.Preload("Lot").Preload("Supplier").
		Joins("JOIN framework_lots l ON l.id = framework_applications.lot_id").
		Joins("JOIN organisations o ON o.id = framework_applications.supplier_org_id").
		Where(where, args...).Order("l.number, o.name, framework_applications.id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return out, nil
}

// Application returns one opened application with its lot and supplier.
func (s *Service) Application(ctx context.Context, applicationID string) (*Application, error) {
	return loadApplication(s.DB.WithContext(ctx), applicationID)
}

func loadApplication(db *gorm.DB, id string) (*Application, error) {
	var a Application
	if err := db.Preload("Lot").Preload("Supplier").Where("id = ?", id).First(&a).Error; err != nil {
		return nil, notFound(err, "application")
	}
	return &a, nil
}

// ApplicationContent decrypts an opened application for the consortium
// lead or one of the framework's evaluators (ErrForbidden, audited, for
// anyone else). The sealed box is read afresh (sealed.Read, audited) and
// must still hold the very version opened, with the same SHA-256.
func (s *Service) ApplicationContent(ctx context.Context, actor audit.Actor, applicationID string) (ApplicationContent, error) {
	if s.Sealed == nil {
		return ApplicationContent{}, errors.New("framework: reading applications needs the sealed box service")
	}
	db := s.DB.WithContext(ctx)
	a, err := loadApplication(db, applicationID)
	if err != nil {
		return ApplicationContent{}, err
	}
	f, err := s.Framework(ctx, a.FrameworkID)
	if err != nil {
		return ApplicationContent{}, err
	}
	if err := s.mayEvaluate(db, actor, f); err != nil {
		return ApplicationContent{}, s.refused(ctx, actor, "framework.application.read", "framework_application", applicationID, err)
	}
	o, err := s.Sealed.Read(ctx, actor, ApplicationBox(f, a.LotID), a.SubmissionID)
	if err != nil {
		return ApplicationContent{}, fmt.Errorf("read application: %w", err)
	}
	if o.Number != a.VersionNumber || o.SHA256 != a.SHA256 {
		return ApplicationContent{}, fmt.Errorf("read application %s: %w: the sealed box holds version %d (%s), but version %d (%s) was opened",
			applicationID, documents.ErrTampered, o.Number, o.SHA256, a.VersionNumber, a.SHA256)
	}
	return DecodeApplication(a.LotID, o.Content)
}

// mayEvaluate refuses unless the actor is the framework's consortium lead
// or one of its evaluators.
func (s *Service) mayEvaluate(db *gorm.DB, actor audit.Actor, f *Framework) error {
	if err := requireLead(db, actor, f); !errors.Is(err, ErrForbidden) {
		return err
	}
	ok, err := assigned(db, f, actor.UserID, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return ErrForbidden
	}
	return nil
}
