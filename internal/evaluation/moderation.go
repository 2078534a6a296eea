package evaluation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// moderationRow records that the lead trust moderated a bid.
type moderationRow struct {
	BidID         string `gorm:"primaryKey"`
	CompetitionID string
	ModeratedBy   string
	ModeratedAt   time.Time
	Version       int
}

func (moderationRow) TableName() string { return "competition_moderations" }

// Consensus is the lead trust's consensus mark for one requirement of one
// bid (Pass for a pass/fail requirement, Score for the others) and the
// rationale for it.
type Consensus struct {
	BidID         string `gorm:"primaryKey"`
	RequirementID string `gorm:"primaryKey"`
	Pass          *bool
	Score         *int
	Rationale     string
}

// TableName tells GORM where consensus marks live.
func (Consensus) TableName() string { return "competition_consensus" }

// totalRow is a moderated bid's total price for one buying trust, in pence.
type totalRow struct {
	BidID          string `gorm:"primaryKey"`
	OrganisationID string `gorm:"primaryKey"`
	TotalPence     int64
}

func (totalRow) TableName() string { return "competition_bid_totals" }

func moderationsOf(db *gorm.DB, competitionID string) (map[string]moderationRow, error) {
	var list []moderationRow
	if err := db.Where("competition_id = ?", competitionID).Find(&list).Error; err != nil {
		return nil, fmt.Errorf("read moderations: %w", err)
	}
	out := make(map[string]moderationRow, len(list))
	for _, m := range list {
		m.ModeratedAt = m.ModeratedAt.UTC()
		out[m.BidID] = m
	}
	return out, nil
}

func moderatedAt(mods map[string]moderationRow, bidID string) *time.Time {
	if m, ok := mods[bidID]; ok {
		return &m.ModeratedAt
	}
	return nil
}

// consensusOf is the consensus marks of the bids by bid and requirement.
func consensusOf(db *gorm.DB, bidIDs []string) (map[string]map[string]Consensus, error) {
	out := map[string]map[string]Consensus{}
	if len(bidIDs) == 0 {
		return out, nil
	}
	var list []Consensus
	if err := db.Where("bid_id IN ?", bidIDs).Find(&list).Error; err != nil {
		return nil, fmt.Errorf("read consensus marks: %w", err)
	}
	for _, c := range list {
		if out[c.BidID] == nil {
			out[c.BidID] = map[string]Consensus{}
		}
		out[c.BidID][c.RequirementID] = c
	}
	return out, nil
}

// totalsOf is the moderated bids' total prices by bid and buying trust.
func totalsOf(db *gorm.DB, bidIDs []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	if len(bidIDs) == 0 {
		return out, nil
	}
	var list []totalRow
	if err := db.Where("bid_id IN ?", bidIDs).Find(&list).Error; err != nil {
		return nil, fmt.Errorf("read total prices: %w", err)
	}
	for _, t := range list {
		if out[t.BidID] == nil {
			out[t.BidID] = map[string]int64{}
		}
		out[t.BidID][t.OrganisationID] = t.TotalPence
	}
	return out, nil
}

// ScoredMark is one scorer's submitted mark, shown beside the consensus.
type ScoredMark struct {
	Evaluator competition.PanelMember
	Mark      Mark
}

// ModerationLine is one requirement of a bid under moderation: the
// scorers' marks beside the consensus (nil until recorded).
type ModerationLine struct {
	Requirement competition.Requirement
	Marks       []ScoredMark
	Consensus   *Consensus
}

// BidModeration is what the lead trust moderates a bid from, and what it
// recorded.
type BidModeration struct {
	Bid      competition.Bid
	Progress Progress
	// Lines are the competition's requirements in order.
	Lines []ModerationLine
	// ModeratedAt and ModeratedBy say when and by whom the moderation was
	// last saved; Version is 0 before the first save and is what
	// ModerationInput.Version must carry.
	ModeratedAt *time.Time
	ModeratedBy string
	Version     int
}

// ModerationInput is the consensus for a bid: a mark and rationale
// (MarkInput.Justification) per requirement. Every pass/fail requirement
// needs one; the weighted ones too, unless the bid fails a pass/fail
// requirement (it is then not ranked, so they may be left blank). Version
// is the BidModeration.Version it was made from.
type ModerationInput struct {
	Marks   []MarkInput
	Version int
}

// moderating checks everything about a moderation before it is written
// (and, outside the transaction, before the sealed bid is read for its
// prices): the actor a trust lead of the lead trust who may read the bid
// (no conflict with its supplier; declared, if on the panel), the
// competition being evaluated, every mark in, the consensus complete,
// the version current and, when this is the last bid to be moderated, a
// tie-break rule recorded. It returns the consensus to store, whether the
// bid passed its gates and whether moderation is then complete.
func (b *book) moderating(db *gorm.DB, actor audit.Actor, bid *competition.Bid, in ModerationInput) ([]Consensus, bool, bool, error) {
	r, err := b.reader(db, actor)
	if err != nil {
		return nil, false, false, err
	}
	if err := requireLead(r); err != nil {
		return nil, false, false, err
	}
	if err := r.MayRead(bid.SupplierOrgID); err != nil {
		return nil, false, false, err
	}
	if err := b.evaluating(FieldModeration); err != nil {
		return nil, false, false, err
	}
	p, err := b.bidProgress(db, bid)
	if err != nil {
		return nil, false, false, err
	}
	var v validate.Errors
	switch {
	case len(p.Uncovered) > 0:
		refs := make([]string, len(p.Uncovered))
		for i, r := range p.Uncovered {
			refs[i] = r.Reference
		}
		v.Add(FieldModeration, fmt.Sprintf("Nobody who can score this bid evaluates %s (those who do declared a conflict of interest with its supplier), so there are no marks to moderate it from",
			strings.Join(refs, ", ")))
	case !p.Complete():
		v.Add(FieldModeration, fmt.Sprintf("Moderate this bid once all its marks are in: %d of the %d panel members who can score it have submitted theirs", p.Submitted, p.Scorers))
	}
	if err := v.Err(); err != nil {
		return nil, false, false, err
	}
	mods, err := moderationsOf(db, b.c.ID)
	if err != nil {
		return nil, false, false, err
	}
	if mods[bid.ID].Version != in.Version {
		return nil, false, false, fmt.Errorf("moderation of the bid: %w", store.ErrConflict)
	}

	given := map[string]MarkInput{}
	for _, m := range in.Marks {
		r, ok := b.requirement(m.RequirementID)
		switch {
		case !ok:
			v.Add(FieldModeration, "One of the marks is for a requirement that is not part of this competition; reload the page and moderate again")
		case given[r.ID].RequirementID != "":
			v.Add(FieldMark(r), fmt.Sprintf("%s is marked twice; give one consensus mark", r.Reference))
		case m.blank():
		default:
			if field, msg := m.problem(r); msg != "" {
				v.Add(field, msg)
			}
			given[r.ID] = m
		}
	}
	passed := true
	for _, r := range b.reqs {
		if m, ok := given[r.ID]; ok && !r.Weighted() && m.Pass != nil && !*m.Pass {
			passed = false
		}
	}
	var out []Consensus
	for _, r := range b.reqs {
		m, ok := given[r.ID]
		switch {
		case ok:
			out = append(out, Consensus{BidID: bid.ID, RequirementID: r.ID, Pass: m.Pass, Score: m.Score, Rationale: strings.TrimSpace(m.Justification)})
		case !r.Weighted():
			v.Add(FieldMark(r), fmt.Sprintf("Record the panel's consensus for %s: pass or fail", r.Reference))
		case passed:
			v.Add(FieldMark(r), fmt.Sprintf("Record the panel's consensus mark for %s", r.Reference))
		}
	}
	done := len(mods)
	if _, again := mods[bid.ID]; !again {
		done++
	}
	complete := done == len(b.bids)
	if complete && b.rules.TieBreak == "" {
		v.Add(FieldTieBreak, "Record the tie-break rule (higher quality points or lower total price) before moderating the last bid")
	}
	if err := v.Err(); err != nil {
		return nil, false, false, err
	}
	return out, passed, complete, nil
}

// SaveModeration records the lead trust's consensus for a bid, with the
// bid's total price per buying trust worked out from the sealed bid
// (competition.TotalPrices), all in one transaction with its audit entry:
// it replaces the bid's previous moderation, if any, until the award is
// recommended. It is refused with a clear message until every panel
// member who can score the bid has submitted their marks; nothing is saved
// in part. Only a trust lead of the lead trust with no conflict with the
// bid's supplier moderates (refusals audited). The moderation that leaves
// every opened bid moderated completes the moderation (Rules.ModeratedAt).
func (s *Service) SaveModeration(ctx context.Context, actor audit.Actor, bidID string, in ModerationInput) error {
	const action = "evaluation.moderation.save"
	db := s.DB.WithContext(ctx)
	b, bid, err := readBid(db, bidID)
	if err == nil {
		_, _, _, err = b.moderating(db, actor, bid, in)
	}
	if err != nil {
		return s.refused(ctx, actor, action, "competition_bid", bidID, err)
	}
	// The sealed box is read on connections of its own, before the
	// transaction; the checks are made again inside it.
	content, err := s.Competitions.BidContent(ctx, actor, bid.ID)
	if err != nil {
		return err
	}
	scheds, err := s.Competitions.PriceSchedules(ctx, b.c.ID)
	if err != nil {
		return err
	}
	totals, err := competition.TotalPrices(content, scheds)
	if err != nil {
		return fmt.Errorf("total price of the bid: %w", err)
	}
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		b, bid, err := lockBid(tx, bidID)
		if err != nil {
			return err
		}
		marks, passed, complete, err := b.moderating(tx, actor, bid, in)
		if err != nil {
			return err
		}
		now := s.now()
		version := in.Version + 1
		if in.Version == 0 {
			err = tx.Create(&moderationRow{BidID: bid.ID, CompetitionID: b.c.ID, ModeratedBy: actor.UserID, ModeratedAt: now, Version: version}).Error
		} else {
			res := tx.Model(&moderationRow{}).Where("bid_id = ? AND version = ?", bid.ID, in.Version).
				Updates(map[string]any{"moderated_by": actor.UserID, "moderated_at": now, "version": version})
			if err = res.Error; err == nil && res.RowsAffected == 0 {
				err = store.ErrConflict
			}
		}
		if err != nil {
			return fmt.Errorf("record moderation: %w", err)
		}
		if err := tx.Where("bid_id = ?", bid.ID).Delete(&Consensus{}).Error; err != nil {
			return fmt.Errorf("replace consensus: %w", err)
		}
		for i := range marks {
			if err := tx.Create(&marks[i]).Error; err != nil {
				return fmt.Errorf("record consensus: %w", err)
			}
		}
		if err := tx.Where("bid_id = ?", bid.ID).Delete(&totalRow{}).Error; err != nil {
			return fmt.Errorf("replace total prices: %w", err)
		}
		for org, pence := range totals {
			if err := tx.Create(&totalRow{BidID: bid.ID, OrganisationID: org, TotalPence: pence}).Error; err != nil {
				return fmt.Errorf("record total price: %w", err)
			}
		}
		if complete && b.rules.ModeratedAt == nil {
			if err := tx.Exec("UPDATE competitions SET moderated_at = ? WHERE id = ?", now, b.c.ID).Error; err != nil {
				return fmt.Errorf("complete moderation: %w", err)
			}
		}
		// Counts only: marks, rationales and prices stay out of the audit log.
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition_bid", ObjectID: bid.ID,
			Detail: map[string]any{"competition_id": b.c.ID, "requirements": len(marks), "passed": passed, "version": version, "complete": complete}})
	})
	return s.refused(ctx, actor, action, "competition_bid", bidID, err)
}

// Moderation returns a bid's moderation: each requirement with the
// scorers' submitted marks beside the consensus recorded so far. For a
// trust lead of the lead trust who may read the bid, once every mark is in
// (ErrScoresHidden before); refusals are audited.
func (s *Service) Moderation(ctx context.Context, actor audit.Actor, bidID string) (*BidModeration, error) {
	const action = "evaluation.moderation.read"
	db, b, bid, err := s.readBidAs(ctx, actor, action, bidID, func(r competition.Reader, _ *book, bid *competition.Bid) error {
		if err := requireLead(r); err != nil {
			return err
		}
		return r.MayRead(bid.SupplierOrgID)
	})
	if err != nil {
		return nil, err
	}
	sc, err := b.scores(db, bid)
	if err != nil {
		return nil, err
	}
	if !sc.Progress.Complete() {
		return nil, s.refused(ctx, actor, action, "competition_bid", bidID, ErrScoresHidden)
	}
	cons, err := consensusOf(db, []string{bid.ID})
	if err != nil {
		return nil, err
	}
	out := &BidModeration{Bid: *bid, Progress: sc.Progress}
	mods, err := moderationsOf(db, b.c.ID)
	if err != nil {
		return nil, err
	}
	if m, ok := mods[bid.ID]; ok {
		out.ModeratedAt, out.ModeratedBy, out.Version = &m.ModeratedAt, m.ModeratedBy, m.Version
	}
	for _, r := range b.reqs {
		line := ModerationLine{Requirement: r}
		for _, e := range sc.Evaluations {
			if mk, ok := e.For(r.ID); ok {
				line.Marks = append(line.Marks, ScoredMark{Evaluator: e.Evaluator, Mark: mk})
			}
		}
		if c, ok := cons[bid.ID][r.ID]; ok {
			line.Consensus = &c
		}
		out.Lines = append(out.Lines, line)
	}
	return out, nil
}
