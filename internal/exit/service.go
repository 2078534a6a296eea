package exit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Service keeps the national contracts, deployments, exit plans, rules and
// snapshots. Every change runs in one transaction with its audit entry.
type Service struct {
	DB    *store.DB
	Audit *audit.Log
	Clock clock.Clock
}

// Errors of permission: checked on the stored records, never the request.
var (
	// ErrNotAdmin: only a platform administrator keeps the national
	// contracts, the deployments and the rules.
	ErrNotAdmin = errors.New("only a platform administrator can change the national contracts, deployments and rating rules")
	// ErrNotTrustLead: only a trust lead of the deployment's trust keeps
	// its exit plan.
	ErrNotTrustLead = errors.New("only a trust lead of the deployment's trust can change its exit plan")
)

func newID() string { return uuid.NewString() }

// now is the clock's time as the databases store it.
func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// requireAdmin refuses unless the actor is a platform administrator of the
// organisation they act for.
func requireAdmin(tx *gorm.DB, actor audit.Actor) error {
	ok, err := competition.HasRole(tx, actor.UserID, actor.OrgID, authz.PlatformAdmin)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotAdmin
	}
	return nil
}

// refused records a refusal for want of permission in the audit log and
// returns err; other errors pass through unrecorded.
func (s *Service) refused(ctx context.Context, actor audit.Actor, action, objType, objID string, err error) error {
	return s.Audit.Refused(ctx, s.DB, actor, action, objType, objID, err, ErrNotAdmin, ErrNotTrustLead)
}

// ruleRow is one row of exit_rules.
type ruleRow struct {
	Kind      string `gorm:"primaryKey"`
	Name      string `gorm:"primaryKey"`
	Months    int
	UpdatedBy string
	UpdatedAt time.Time
}

func (ruleRow) TableName() string { return "exit_rules" }

// Rules reads the rating rules: the defaults, with what administrators
// have changed applied.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	return loadRules(s.DB.WithContext(ctx))
}

func loadRules(db *gorm.DB) (Rules, error) {
	r := DefaultRules().clone()
	var rows []ruleRow
	if err := db.Find(&rows).Error; err != nil {
		return r, fmt.Errorf("read rating rules: %w", err)
	}
	for _, row := range rows {
		r.set(row.Kind, row.Name, row.Months)
	}
	return r, nil
}

// SaveRules replaces the rating rules. Rules that are out of range or
// contradict each other (an amber threshold not above the red; a
// national contract whose 'procurement complete by' date leaves less time
// than a system type deployed under it needs to migrate) are refused with
// every problem named and nothing saved. The audit entry records each
// changed rule's old and new months.
func (s *Service) SaveRules(ctx context.Context, actor audit.Actor, r Rules) error {
	const action = "exit.rules.update"
	var v validate.Errors
	r.check(v.Add)
	if err := v.Err(); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := requireAdmin(tx, actor); err != nil {
			return err
		}
		old, err := loadRules(tx)
		if err != nil {
			return err
		}
		if err := checkCompleteBy(tx, r, "", nil, time.Time{}, v.Add); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		diff := changes(old, r)
		if len(diff) == 0 {
			return nil
		}
		now := s.now()
		for k, m := range r.rows() {
			row := ruleRow{Kind: k[0], Name: k[1], Months: m, UpdatedBy: actor.UserID, UpdatedAt: now}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
				return fmt.Errorf("save rating rule: %w", err)
			}
		}
		detail := map[string]any{}
		for k, d := range diff {
			detail[k] = map[string]int{"old": d[0], "new": d[1]}
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "exit_rules", ObjectID: "rules", Detail: detail})
	})
	return s.refused(ctx, actor, action, "exit_rules", "rules", err)
}

// FieldCompleteBy names the 'procurement complete by' field of the national
// contract form; a contradiction the rules form finds is reported there
// against the migration lead time instead.
const FieldCompleteBy = "procurement_complete_by"

// checkCompleteBy finds national contracts whose 'procurement complete
// by' date leaves less time before expiry than a system type deployed
// under them needs to migrate: two rules that cannot both be met. When
// ncID is set, that contract is checked with completeBy and expires in
// place of its stored dates (a change being made to it), and any
// contradiction is reported against FieldCompleteBy; otherwise every
// contract is checked against r and contradictions are reported against
// the system type's migration field.
func checkCompleteBy(tx *gorm.DB, r Rules, ncID string, completeBy *time.Time, expires time.Time, add func(field, message string)) error {
	type pair struct {
		ID, Reference, SystemType string
		ExpiresOn                 time.Time
		ProcurementCompleteBy     *time.Time
	}
	q := tx.Table("national_contracts n").Select("DISTINCT n.id, n.reference, d.system_type, n.expires_on, n.procurement_complete_by").
		Joins("JOIN deployments d ON d.national_contract_id = n.id")
	if ncID != "" {
		q = q.Where("n.id = ?", ncID)
	} else {
		q = q.Where("n.procurement_complete_by IS NOT NULL")
	}
	var pairs []pair
	if err := q.Order("n.reference, d.system_type").Scan(&pairs).Error; err != nil {
		return fmt.Errorf("read national contracts' deployments: %w", err)
	}
	for _, p := range pairs {
		field := migrationField(p.SystemType)
		if ncID != "" {
			p.ProcurementCompleteBy, p.ExpiresOn, field = completeBy, expires, FieldCompleteBy
		}
		if p.ProcurementCompleteBy == nil {
			continue
		}
		need := r.MigrationMonths[p.SystemType]
		ends := dayEnd(p.ExpiresOn)
		if addMonths(dayEnd(*p.ProcurementCompleteBy), need).After(ends) {
			add(field, fmt.Sprintf("The rules contradict each other: %s asks for procurement to be complete by %s, but %s migration needs %s and the contract ends on %s. Move the date earlier or shorten the lead time",
				p.Reference, uktime.Date(*p.ProcurementCompleteBy), SystemShort(p.SystemType), months(need), uktime.Date(p.ExpiresOn)))
		}
	}
	return nil
}
