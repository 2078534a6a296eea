package competition

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/paging"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
)

// DefaultMinimumPeriod is the shortest time from publication to the
// submission deadline when Service.MinimumPeriod says nothing for a regime.
const DefaultMinimumPeriod = 10 * 24 * time.Hour

// Service sets up, publishes, changes and cancels mini-competitions. Every
// change runs in one transaction with its audit entry and notifications.
type Service struct {
	DB    *store.DB
	Audit *audit.Log
	Clock clock.Clock
	// Frameworks answers whether a trust may buy under the framework
	// (EligibleBuyer).
	Frameworks *framework.Service
	// Sealed holds the bid boxes; it tells whether any bid exists before a
	// deadline is moved earlier.
	Sealed *sealed.Service
	// Notify records invitations and change notices for portal users in
	// the caller's transaction (*notify.Notifier).
	Notify Notifier
	// MinimumPeriod is the shortest time allowed from publication to the
	// submission deadline, keyed by framework.RegimePCR2015 and
	// framework.RegimePA2023. Neither regime fixes one for call-offs (both
	// ask for a time limit long enough for the bids asked for), so it is a
	// policy the app configures; a regime without an entry gets
	// DefaultMinimumPeriod.
	MinimumPeriod map[string]time.Duration
}

// Errors callers can test for with errors.Is.
var (
	// ErrForbidden: the actor may not do this to this competition (not a
	// trust lead of its lead trust, or not acting for the supplier).
	ErrForbidden = errors.New("you cannot do this for that competition")
	// ErrNotDraft: the change is part of the set-up, which ends at
	// publication; after it only the changes in changes.go are possible.
	ErrNotDraft = errors.New("the competition has been published, so its set-up can no longer be changed")
)

func newID() string { return uuid.NewString() }

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// now is the clock's time as the databases store it.
func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

// minimumPeriod is the configured minimum period for a regime.
func (s *Service) minimumPeriod(regime string) time.Duration {
	if d, ok := s.MinimumPeriod[regime]; ok && d > 0 {
		return d
	}
	return DefaultMinimumPeriod
}

// load reads a competition through db.
func load(db *gorm.DB, id string) (*Competition, error) {
	var c Competition
	if err := db.Where("id = ?", id).First(&c).Error; err != nil {
		return nil, notFound(err, "competition")
	}
	c.utc()
	return &c, nil
}

// lock marks the competition changed at the start of a transaction (so
// concurrent changes queue behind one another) and loads it.
func (s *Service) lock(tx *gorm.DB, id string) (*Competition, error) {
	res := tx.Model(&Competition{}).Where("id = ?", id).Update("updated_at", s.now())
	if res.Error != nil {
		return nil, fmt.Errorf("lock competition: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("competition: %w", store.ErrNotFound)
	}
	return load(tx, id)
}

// lockAsLead is the start of every change the buying side makes: the
// competition locked for the transaction, and the actor checked to be a
// trust lead of its lead trust.
func (s *Service) lockAsLead(tx *gorm.DB, actor audit.Actor, id string) (*Competition, error) {
	c, err := s.lock(tx, id)
	if err != nil {
		return nil, err
	}
	if err := requireLead(tx, actor, c.LeadOrgID); err != nil {
		return nil, err
	}
	return c, nil
}

// lockDraft is lockAsLead for the set-up, which only a draft allows.
func (s *Service) lockDraft(tx *gorm.DB, actor audit.Actor, id string) (*Competition, error) {
	c, err := s.lockAsLead(tx, actor, id)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusDraft {
		return nil, ErrNotDraft
	}
	return c, nil
}

// hasRole reports whether the user holds role in the organisation. The web
// layer checks roles through casbin too; these checks are the domain's own,
// made on the stored lead trust, never on one named in the request.
func hasRole(tx *gorm.DB, userID, orgID string, role authz.Role) (bool, error) {
	if userID == "" || orgID == "" {
		return false, nil
	}
	var held bool
	if err := tx.Raw("SELECT "+roleHeld, userID, orgID, string(role)).Scan(&held).Error; err != nil {
		return false, fmt.Errorf("check role: %w", err)
	}
	return held, nil
}

// roleHeld is SQL true when the user (first argument) holds the role
// (third) in the organisation (second) and is not disabled: hasRole, and a
// query guarded by it (OpenedBidList).
const roleHeld = "EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id " +
	"WHERE m.user_id = ? AND m.organisation_id = ? AND m.role = ? AND u.disabled_at IS NULL)"

// requireLead refuses unless the actor is a trust lead of the lead trust:
// the trust running the competition answers for it, not the other buying
// trusts.
func requireLead(tx *gorm.DB, actor audit.Actor, leadOrgID string) error {
	ok, err := hasRole(tx, actor.UserID, leadOrgID, authz.TrustLead)
	if err != nil {
		return err
	}
	if !ok {
		return ErrForbidden
	}
	return nil
}

// refused records a refusal for want of permission in the audit log (in a
// transaction of its own, after the refused one has rolled back) and
// returns err; other errors pass through unrecorded.
func (s *Service) refused(ctx context.Context, actor audit.Actor, action, objectID string, err error) error {
	return s.refusedOn(ctx, actor, action, "competition", objectID, err)
}

// refusedOn is refused for an object other than a competition.
func (s *Service) refusedOn(ctx context.Context, actor audit.Actor, action, objectType, objectID string, err error) error {
	return s.Audit.Refused(ctx, s.DB, actor, action, objectType, objectID, err, ErrForbidden)
}

// appendAudit writes the audit entry of a change to a competition.
func (s *Service) appendAudit(tx *gorm.DB, actor audit.Actor, action, competitionID string, detail map[string]any) error {
	return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition", ObjectID: competitionID, Detail: detail})
}

// eligible reports, for each organisation, whether it may buy under the
// framework (framework.Service.EligibleBuyer). It is called before a
// transaction opens, never inside one: EligibleBuyer reads on a connection
// of its own, and a transaction waiting for a second connection can starve
// SQLite's small pool.
func (s *Service) eligible(ctx context.Context, frameworkID string, orgIDs ...string) (map[string]bool, error) {
	if s.Frameworks == nil {
		return nil, errors.New("competition: checking buyers needs the framework service")
	}
	out := make(map[string]bool, len(orgIDs))
	for _, id := range orgIDs {
		if _, done := out[id]; done {
			continue
		}
		ok, err := s.Frameworks.EligibleBuyer(ctx, frameworkID, id)
		if err != nil {
			return nil, fmt.Errorf("check buyer %s: %w", id, err)
		}
		out[id] = ok
	}
	return out, nil
}

// orgName is an organisation's name, read through db.
func orgName(db *gorm.DB, id string) (string, error) {
	var name string
	if err := db.Table("organisations").Select("name").Where("id = ?", id).Scan(&name).Error; err != nil {
		return "", fmt.Errorf("read organisation: %w", err)
	}
	return name, nil
}

// Competition returns one competition.
func (s *Service) Competition(ctx context.Context, id string) (*Competition, error) {
	return load(s.DB.WithContext(ctx), id)
}

// ListPageSize is how many competitions a page of a trust's list shows.
const ListPageSize = 25

// CompetitionList is one page of the competitions a trust buys in.
type CompetitionList struct {
	Competitions []Competition
	// Pager says which page of them this is.
	paging.Pager
}

// listColumns are what a list shows of a competition and what its state
// (Competition.State) is worked out from; a list reads nothing else, half
// the work of reading whole rows.
const listColumns = "c.id, c.reference, c.title, c.lead_org_id, c.status, c.question_deadline, c.submission_deadline, " +
	"c.evaluation_end, c.planned_award, c.created_at, c.updated_at"

// Competitions lists, a page at a time, the competitions an organisation
// buys in, as lead or as one of the buying trusts, drafts included: the
// ones it joined most recently first (for the lead, the ones it created),
// with the columns in listColumns only. A page past the last is the last.
// A page takes one query that reads only its own rows (the index
// competition_buyers_listed gives the order) and counts the whole list in
// the same round trip; a page past the last takes two more.
func (s *Service) Competitions(ctx context.Context, orgID string, page int) (*CompetitionList, error) {
	db := s.DB.WithContext(ctx)
	page = max(page, 1)
	rows, n, err := listPage(db, orgID, page)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 && n > 0 {
		// Past the last page, which the count now says.
		page = paging.Of(int(n), ListPageSize, page).Page
		if rows, n, err = listPage(db, orgID, page); err != nil {
			return nil, err
		}
	}
	return &CompetitionList{Pager: paging.Of(int(n), ListPageSize, page), Competitions: rows}, nil
}

// listPage reads page (from 1) of orgID's list and how many the whole
// list holds; when the page is past the last it has no rows, but the
// count is still read. The rows are scanned column by column, in
// listColumns' order: GORM's mapping of each row onto the whole
// Competition was most of the work of the page.
func listPage(db *gorm.DB, orgID string, page int) (list []Competition, matching int64, err error) {
	rows, err := db.Table("competition_buyers b").Joins("JOIN competitions c ON c.id = b.competition_id").
		Select(listColumns+", (SELECT count(*) FROM competition_buyers n WHERE n.organisation_id = ?)", orgID).
		Where("b.organisation_id = ?", orgID).Order("b.added_at DESC, b.id DESC").
		Limit(ListPageSize).Offset((page - 1) * ListPageSize).Rows()
	if err != nil {
		return nil, 0, fmt.Errorf("list competitions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Competition
		if err := rows.Scan(&c.ID, &c.Reference, &c.Title, &c.LeadOrgID, &c.Status, &c.QuestionDeadline, &c.SubmissionDeadline,
			&c.EvaluationEnd, &c.PlannedAward, &c.CreatedAt, &c.UpdatedAt, &matching); err != nil {
			return nil, 0, fmt.Errorf("read listed competition: %w", err)
		}
		c.utc()
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list competitions: %w", err)
	}
	if len(list) > 0 {
		return list, matching, nil
	}
	if err := db.Model(&Buyer{}).Where("organisation_id = ?", orgID).Count(&matching).Error; err != nil {
		return nil, 0, fmt.Errorf("count competitions: %w", err)
	}
	return nil, matching, nil
}

// IsBuyer reports whether the organisation is one of the competition's
// buying trusts (the lead included).
func (s *Service) IsBuyer(ctx context.Context, competitionID, orgID string) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&Buyer{}).Where("competition_id = ? AND organisation_id = ?", competitionID, orgID).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check buyer: %w", err)
	}
	return n > 0, nil
}
