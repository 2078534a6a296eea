// Package evaluation evaluates the opened bids of a mini-competition and
// ends in the award recommendation the buying trusts' boards approve.
//
// The steps, each its own file:
//   - the panel's sections (panel.go): a trust lead of the lead trust may
//     restrict a panel member to some requirement sections; unrestricted,
//     a member evaluates them all;
//   - declarations of interest are the competition package's
//     (competition.Service.DeclareConflicts), since they gate its own
//     reading of bids; this package applies the same rule
//     (competition.Reader.MayRead) to marks and moderation;
//   - marks (scores.go): every panel member who can score a bid (assigned,
//     still entitled, no declared conflict with its supplier) marks each
//     requirement of their sections with a justification, saves drafts and
//     submits per bid; nobody sees another's marks until every one of them
//     has submitted for that bid;
//   - moderation (moderation.go): the lead trust records a consensus mark
//     and rationale per requirement, beside the individual marks, once all
//     are in, bid by bid;
//   - results (price.go, results.go): pass/fail gates, quality points, price
//     points by the competition's price formula from the bids' total
//     prices, and the rank with its recorded tie-break rule;
//   - the recommendation and its report (recommendation.go), and each
//     bidder's assessment summary for its award letter.
//
// Every change is one transaction with its audit entry (ids and counts, no
// marks or prices); every refused read of marks is audited as denied.
package evaluation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Service evaluates bids, moderates, ranks and recommends.
type Service struct {
	DB    *store.DB
	Audit *audit.Log
	Clock clock.Clock
	// Competitions reads the competition's set-up and its sealed bids
	// (BidContent, for the total prices at moderation).
	Competitions *competition.Service
	// AwardSent reports, inside the recommending transaction, whether the
	// award decision built on the recommendation has gone to the bidders
	// (award.DecisionSent): from then on the recommendation cannot change.
	// The award package builds on this one, so it is passed in; nil means
	// no award step is wired.
	AwardSent func(tx *gorm.DB, competitionID string) (bool, error)
}

// Errors callers can test for with errors.Is. Refusals for want of
// permission are competition.ErrForbidden or wrap it
// (competition.ErrUndeclared, competition.ErrConflicted).
var (
	// ErrScoresHidden: other people's marks for a bid stay hidden until
	// every panel member who can score it has submitted theirs.
	ErrScoresHidden = errors.New("the marks for this bid are hidden until every panel member who can score it has submitted theirs")
	// ErrNotModerated: results exist only once every opened bid has been
	// moderated.
	ErrNotModerated = errors.New("the results are worked out once every opened bid has been moderated")
	// ErrNoRecommendation: the award has not been recommended.
	ErrNoRecommendation = fmt.Errorf("no award has been recommended for this competition: %w", store.ErrNotFound)
	// ErrConflictedLead: a trust lead who declared a conflict with a bidder
	// may not see the results or recommend; another lead must.
	ErrConflictedLead = fmt.Errorf("%w: you declared a conflict of interest with a supplier that bid, so another trust lead of the lead trust must see the results and recommend the award", competition.ErrForbidden)
)

// Field names of errors about the competition's evaluation as a whole.
// Errors about one mark are keyed by framework.FieldMark and
// framework.FieldJustification of the requirement.
const (
	FieldState        = "evaluation"
	FieldSections     = "sections"
	FieldScores       = "scores"
	FieldModeration   = "moderation"
	FieldPriceFormula = "price_formula"
	FieldTieBreak     = "tie_break"
)

// now is the clock's time as the databases store it.
func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

// refused records a refusal for want of permission (competition.ErrForbidden
// and what wraps it) or a hidden read (ErrScoresHidden) in the audit log,
// in a transaction of its own after the refused one has rolled back, and
// returns err; other errors pass through unrecorded.
func (s *Service) refused(ctx context.Context, actor audit.Actor, action, objectType, objectID string, err error) error {
	return s.Audit.Refused(ctx, s.DB, actor, action, objectType, objectID, err, competition.ErrForbidden, ErrScoresHidden)
}

// Rules are the evaluation settings and milestones stored on the
// competition: its price formula and tie-break rule, and when moderation
// completed and the award was recommended (nil until then). They are
// columns of competitions rather than statuses, so the competition's
// stored status and derived State stay as they are.
type Rules struct {
	CompetitionID string `gorm:"column:id"`
	PriceFormula  string
	// TieBreak is "" until the lead records one (TieBreakQuality or
	// TieBreakPrice).
	TieBreak      string
	ModeratedAt   *time.Time
	RecommendedAt *time.Time
}

func rulesOf(db *gorm.DB, competitionID string) (Rules, error) {
	var r Rules
	err := db.Table("competitions").Select("id, price_formula, tie_break, moderated_at, recommended_at").
		Where("id = ?", competitionID).Limit(1).Scan(&r).Error
	if err != nil {
		return r, fmt.Errorf("read evaluation rules: %w", err)
	}
	if r.CompetitionID == "" {
		return r, fmt.Errorf("competition: %w", store.ErrNotFound)
	}
	for _, t := range []**time.Time{&r.ModeratedAt, &r.RecommendedAt} {
		if *t != nil {
			u := (**t).UTC()
			*t = &u
		}
	}
	return r, nil
}

// Rules returns the competition's evaluation rules and milestones.
func (s *Service) Rules(ctx context.Context, competitionID string) (*Rules, error) {
	r, err := rulesOf(s.DB.WithContext(ctx), competitionID)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// book is what every evaluation decision reads about a competition: the
// competition, its rules and requirements, the panel members still
// entitled to sit on it with their sections, everyone's declared
// conflicts and the opened (not excluded) bids by supplier name.
type book struct {
	c     *competition.Competition
	rules Rules
	reqs  []competition.Requirement
	panel []competition.PanelMember
	// sections are the sections of the members restricted to some.
	sections map[string][]string
	// conflicts[user][supplier] is true for a declared conflict.
	conflicts map[string]map[string]bool
	bids      []competition.Bid
}

// read reads the book through db.
func read(db *gorm.DB, competitionID string) (*book, error) {
	c, err := competition.Load(db, competitionID)
	if err != nil {
		return nil, err
	}
	b := &book{c: c, sections: map[string][]string{}, conflicts: map[string]map[string]bool{}}
	if b.rules, err = rulesOf(db, c.ID); err != nil {
		return nil, err
	}
	if b.reqs, err = competition.RequirementsOf(db, c.ID); err != nil {
		return nil, err
	}
	members, err := competition.PanelOf(db, c)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.OrganisationID != "" {
			b.panel = append(b.panel, m)
		}
	}
	var rows []sectionRow
	if err := db.Where("competition_id = ?", c.ID).Order("section_title").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read panel sections: %w", err)
	}
	for _, r := range rows {
		b.sections[r.UserID] = append(b.sections[r.UserID], r.SectionTitle)
	}
	decls, err := competition.DeclarationsOf(db, c.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range decls {
		if d.Conflict {
			if b.conflicts[d.UserID] == nil {
				b.conflicts[d.UserID] = map[string]bool{}
			}
			b.conflicts[d.UserID][d.SupplierOrgID] = true
		}
	}
	bids, err := competition.OpenedBidsOf(db, c.ID)
	if err != nil {
		return nil, err
	}
	b.bids = slices.DeleteFunc(bids, func(x competition.Bid) bool { return x.Status != competition.BidOpened })
	return b, nil
}

// lock queues the transaction behind every other change to the
// competition's evaluation (a no-op update takes the row lock on
// PostgreSQL; SQLite transactions take the write lock when they begin)
// and reads the book through it.
func lock(tx *gorm.DB, competitionID string) (*book, error) {
	res := tx.Exec("UPDATE competitions SET version = version WHERE id = ?", competitionID)
	if res.Error != nil {
		return nil, fmt.Errorf("lock competition: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("competition: %w", store.ErrNotFound)
	}
	return read(tx, competitionID)
}

// bidIn finds an opened bid of the competition. A bid excluded at the
// opening is competition.ErrExcluded; any other id store.ErrNotFound.
func bidIn(db *gorm.DB, bidID string) (*competition.Bid, error) {
	b, err := competition.BidOf(db, bidID)
	if err != nil {
		return nil, err
	}
	if b.Status == competition.BidExcluded {
		return nil, competition.ErrExcluded
	}
	return b, nil
}

// lockBid is lock for a change to one bid's evaluation: the bid, which
// must be opened, and the book of its competition.
func lockBid(tx *gorm.DB, bidID string) (*book, *competition.Bid, error) {
	bid, err := bidIn(tx, bidID)
	if err != nil {
		return nil, nil, err
	}
	b, err := lock(tx, bid.CompetitionID)
	if err != nil {
		return nil, nil, err
	}
	return b, bid, nil
}

// readBid is lockBid without the lock, for reads.
func readBid(db *gorm.DB, bidID string) (*book, *competition.Bid, error) {
	bid, err := bidIn(db, bidID)
	if err != nil {
		return nil, nil, err
	}
	b, err := read(db, bid.CompetitionID)
	if err != nil {
		return nil, nil, err
	}
	return b, bid, nil
}

// readBidAs starts a read of one bid's evaluation for the actor: the bid,
// the book of its competition and how the actor stands towards it, refused
// (and the refusal audited as action) when check says so.
func (s *Service) readBidAs(ctx context.Context, actor audit.Actor, action, bidID string,
	check func(r competition.Reader, b *book, bid *competition.Bid) error) (*gorm.DB, *book, *competition.Bid, error) {
	db := s.DB.WithContext(ctx)
	b, bid, err := readBid(db, bidID)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := b.reader(db, actor)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := check(r, b, bid); err != nil {
		return nil, nil, nil, s.refused(ctx, actor, action, "competition_bid", bidID, err)
	}
	return db, b, bid, nil
}

// readAs is readBidAs for a read of the whole competition's evaluation.
func (s *Service) readAs(ctx context.Context, actor audit.Actor, action, competitionID string,
	check func(db *gorm.DB, b *book) error) (*gorm.DB, *book, error) {
	db := s.DB.WithContext(ctx)
	b, err := read(db, competitionID)
	if err != nil {
		return nil, nil, err
	}
	if err := check(db, b); err != nil {
		return nil, nil, s.refused(ctx, actor, action, "competition", competitionID, err)
	}
	return db, b, nil
}

// evaluating refuses a change to marks or moderation unless the
// competition is being evaluated: opened, not cancelled, not yet
// recommended.
func (b *book) evaluating(field string) error {
	var v validate.Errors
	switch {
	case b.c.Status == competition.StatusCancelled:
		v.Add(field, "The competition has been cancelled, so its bids are no longer evaluated")
	case b.c.OpenedAt == nil:
		v.Add(field, "The bids have not been opened yet")
	case b.rules.RecommendedAt != nil:
		v.Add(field, "The award has been recommended, so the evaluation can no longer change")
	}
	return v.Err()
}

// restricted reports whether the member is restricted to some sections.
func (b *book) restricted(userID string) bool { return len(b.sections[userID]) > 0 }

// evaluates reports whether the member evaluates the requirement: one of
// their sections, or every requirement when they have none.
func (b *book) evaluates(userID string, r competition.Requirement) bool {
	return !b.restricted(userID) || slices.Contains(b.sections[userID], r.SectionTitle)
}

// scope is the requirements the member evaluates, in order.
func (b *book) scope(userID string) []competition.Requirement {
	var out []competition.Requirement
	for _, r := range b.reqs {
		if b.evaluates(userID, r) {
			out = append(out, r)
		}
	}
	return out
}

// conflicted reports whether the user declared a conflict with the
// supplier.
func (b *book) conflicted(userID, supplierOrgID string) bool {
	return b.conflicts[userID][supplierOrgID]
}

// scorers are the panel members who can score the bid: still entitled,
// evaluating at least one requirement, with no declared conflict with its
// supplier. Those who have not declared yet count: they have still to
// declare and score.
func (b *book) scorers(bid *competition.Bid) []competition.PanelMember {
	var out []competition.PanelMember
	for _, m := range b.panel {
		if len(b.scope(m.UserID)) > 0 && !b.conflicted(m.UserID, bid.SupplierOrgID) {
			out = append(out, m)
		}
	}
	return out
}

// member returns the entitled panel member with the user ID.
func (b *book) member(userID string) (competition.PanelMember, bool) {
	i := slices.IndexFunc(b.panel, func(m competition.PanelMember) bool { return m.UserID == userID })
	if i < 0 {
		return competition.PanelMember{}, false
	}
	return b.panel[i], true
}

// requirement returns the competition's requirement with the ID.
func (b *book) requirement(id string) (competition.Requirement, bool) {
	i := slices.IndexFunc(b.reqs, func(r competition.Requirement) bool { return r.ID == id })
	if i < 0 {
		return competition.Requirement{}, false
	}
	return b.reqs[i], true
}

// reader is how the actor stands towards the competition's bids.
func (b *book) reader(db *gorm.DB, actor audit.Actor) (competition.Reader, error) {
	return competition.ReaderOf(db, b.c, actor.UserID)
}

// requireLead refuses unless the actor is a trust lead of the lead trust.
func requireLead(r competition.Reader) error {
	if !r.Lead {
		return competition.ErrForbidden
	}
	return nil
}

// bidIDs are the IDs of the opened bids.
func (b *book) bidIDs() []string {
	out := make([]string, len(b.bids))
	for i, x := range b.bids {
		out[i] = x.ID
	}
	return out
}
