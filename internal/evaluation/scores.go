package evaluation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// MarkInput is a mark for one requirement of one bid: Pass for a pass/fail
// requirement, Score (framework.MinMark to MaxMark) for the others, and a
// justification written against the scale's descriptors (for a moderator,
// the rationale). An input with neither mark nor justification clears a
// saved draft. Marks are checked by framework.MarkProblem, the rule
// framework evaluations use.
type MarkInput struct {
	RequirementID string
	Pass          *bool
	Score         *int
	Justification string
}

func (in MarkInput) blank() bool { return framework.BlankMark(in.Pass, in.Score, in.Justification) }

// problem checks the mark against its requirement: the field and message,
// or "" when it is complete.
func (in MarkInput) problem(r competition.Requirement) (field, msg string) {
	return framework.MarkProblem(r.AsLotRequirement(), in.Pass, in.Score, in.Justification)
}

// FieldMark and FieldJustification are the form fields of a requirement's
// mark and its justification (or rationale), as framework evaluations
// name them.
func FieldMark(r competition.Requirement) string { return framework.FieldMark(r.AsLotRequirement()) }

// FieldJustification: see FieldMark.
func FieldJustification(r competition.Requirement) string {
	return framework.FieldJustification(r.AsLotRequirement())
}

// Mark is one evaluator's stored mark for one requirement of one bid.
type Mark struct {
	BidID           string `gorm:"primaryKey"`
	RequirementID   string `gorm:"primaryKey"`
	EvaluatorUserID string `gorm:"primaryKey"`
	Pass            *bool
	Score           *int
	Justification   string
	SavedAt         time.Time
}

// TableName tells GORM where marks live.
func (Mark) TableName() string { return "competition_scores" }

// submission records that an evaluator submitted their marks for a bid;
// they are final from then on.
type submission struct {
	BidID           string `gorm:"primaryKey"`
	EvaluatorUserID string `gorm:"primaryKey"`
	SubmittedAt     time.Time
}

func (submission) TableName() string { return "competition_evaluations" }

// Evaluation is one panel member's marks for one bid.
type Evaluation struct {
	BidID     string
	Evaluator competition.PanelMember
	// Requirements are those the member evaluates (their sections), in
	// order; Marks are their marks for them, in the same order, drafts
	// included until SubmittedAt.
	Requirements []competition.Requirement
	Marks        []Mark
	SubmittedAt  *time.Time
}

// Submitted reports whether the marks are submitted and final.
func (e Evaluation) Submitted() bool { return e.SubmittedAt != nil }

// For returns the mark for a requirement, if there is one.
func (e Evaluation) For(requirementID string) (Mark, bool) {
	for _, m := range e.Marks {
		if m.RequirementID == requirementID {
			return m, true
		}
	}
	return Mark{}, false
}

// Progress is how far a bid's evaluation has gone, in counts only.
type Progress struct {
	Bid competition.Bid
	// Scorers is how many panel members can score the bid (see scorers)
	// and Submitted how many of them have submitted their marks for it.
	Scorers   int
	Submitted int
	// Uncovered are requirements nobody who can score the bid evaluates
	// (every member who does declared a conflict with its supplier).
	Uncovered []competition.Requirement
	// Moderated is when the lead trust moderated the bid, nil before.
	Moderated *time.Time
}

// Complete reports whether all the marks for the bid are in: every panel
// member who can score it has submitted, and every requirement has
// someone to score it.
func (p Progress) Complete() bool {
	return p.Scorers > 0 && p.Submitted == p.Scorers && len(p.Uncovered) == 0
}

// marks are the stored marks for the bids by bid, then evaluator, then
// requirement.
type marks map[string]map[string]map[string]Mark

func marksOf(db *gorm.DB, bidIDs []string) (marks, map[string]map[string]time.Time, error) {
	out := marks{}
	done := map[string]map[string]time.Time{}
	if len(bidIDs) == 0 {
		return out, done, nil
	}
	var list []Mark
	if err := db.Where("bid_id IN ?", bidIDs).Find(&list).Error; err != nil {
		return nil, nil, fmt.Errorf("read marks: %w", err)
	}
	for _, m := range list {
		m.SavedAt = m.SavedAt.UTC()
		if out[m.BidID] == nil {
			out[m.BidID] = map[string]map[string]Mark{}
		}
		if out[m.BidID][m.EvaluatorUserID] == nil {
			out[m.BidID][m.EvaluatorUserID] = map[string]Mark{}
		}
		out[m.BidID][m.EvaluatorUserID][m.RequirementID] = m
	}
	var subs []submission
	if err := db.Where("bid_id IN ?", bidIDs).Find(&subs).Error; err != nil {
		return nil, nil, fmt.Errorf("read submissions: %w", err)
	}
	for _, sb := range subs {
		if done[sb.BidID] == nil {
			done[sb.BidID] = map[string]time.Time{}
		}
		done[sb.BidID][sb.EvaluatorUserID] = sb.SubmittedAt.UTC()
	}
	return out, done, nil
}

// evaluation is the member's evaluation of the bid from what marksOf read.
func (b *book) evaluation(bid *competition.Bid, m competition.PanelMember, ms marks, done map[string]map[string]time.Time) Evaluation {
	e := Evaluation{BidID: bid.ID, Evaluator: m, Requirements: b.scope(m.UserID)}
	for _, r := range e.Requirements {
		if mk, ok := ms[bid.ID][m.UserID][r.ID]; ok {
			e.Marks = append(e.Marks, mk)
		}
	}
	if at, ok := done[bid.ID][m.UserID]; ok {
		e.SubmittedAt = &at
	}
	return e
}

// progress is the bid's progress from what marksOf read.
func (b *book) progress(bid *competition.Bid, done map[string]map[string]time.Time, moderated *time.Time) Progress {
	p := Progress{Bid: *bid, Moderated: moderated}
	scorers := b.scorers(bid)
	p.Scorers = len(scorers)
	for _, m := range scorers {
		if _, ok := done[bid.ID][m.UserID]; ok {
			p.Submitted++
		}
	}
	for _, r := range b.reqs {
		covered := false
		for _, m := range scorers {
			covered = covered || b.evaluates(m.UserID, r)
		}
		if !covered {
			p.Uncovered = append(p.Uncovered, r)
		}
	}
	return p
}

// bidProgress reads the progress of one bid.
func (b *book) bidProgress(db *gorm.DB, bid *competition.Bid) (Progress, error) {
	_, done, err := marksOf(db, []string{bid.ID})
	if err != nil {
		return Progress{}, err
	}
	mods, err := moderationsOf(db, b.c.ID)
	if err != nil {
		return Progress{}, err
	}
	return b.progress(bid, done, moderatedAt(mods, bid.ID)), nil
}

// scoring starts every change to the actor's marks for a bid, in the
// transaction: the competition locked, the actor a panel member who may
// read the bid (declared, no conflict with its supplier: otherwise the
// refusal from competition.Reader.MayRead, audited by the caller), the
// competition being evaluated and the marks not yet submitted.
func (s *Service) scoring(tx *gorm.DB, actor audit.Actor, bidID string) (*book, *competition.Bid, error) {
	b, bid, err := lockBid(tx, bidID)
	if err != nil {
		return nil, nil, err
	}
	r, err := b.reader(tx, actor)
	if err != nil {
		return nil, nil, err
	}
	if err := r.MayRead(bid.SupplierOrgID); err != nil {
		return nil, nil, err
	}
	if !r.Panel {
		return nil, nil, competition.ErrForbidden // a lead who is not on the panel moderates; they do not score
	}
	if err := b.evaluating(FieldScores); err != nil {
		return nil, nil, err
	}
	var v validate.Errors
	var done submission
	if err := tx.Where("bid_id = ? AND evaluator_user_id = ?", bid.ID, actor.UserID).Limit(1).Find(&done).Error; err != nil {
		return nil, nil, fmt.Errorf("read submission: %w", err)
	}
	switch {
	case done.BidID != "":
		v.Add(FieldScores, "You submitted your marks for this bid at "+uktime.Moment(done.SubmittedAt)+" (UK time); they can no longer be changed")
	case len(b.scope(actor.UserID)) == 0:
		v.Add(FieldScores, "You do not evaluate any section of this competition's requirements")
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	return b, bid, nil
}

// SaveScores saves the actor's draft marks for a bid: any number of the
// requirements they evaluate at a time. Every mark given must be complete
// (pass or fail, or 0 to 4, with a justification of at most
// framework.MaxJustification characters); otherwise nothing is saved and
// each problem is reported against its requirement's field. Only a panel
// member who has declared and has no conflict with the bid's supplier may
// score (refusals audited), and only until they submit.
func (s *Service) SaveScores(ctx context.Context, actor audit.Actor, bidID string, in []MarkInput) error {
	const action = "evaluation.scores.save"
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		b, bid, err := s.scoring(tx, actor, bidID)
		if err != nil {
			return err
		}
		var v validate.Errors
		seen := map[string]bool{}
		for _, m := range in {
			r, ok := b.requirement(m.RequirementID)
			switch {
			case !ok:
				v.Add(FieldScores, "One of the marks is for a requirement that is not part of this competition; reload the page and mark again")
			case !b.evaluates(actor.UserID, r):
				v.Add(FieldMark(r), fmt.Sprintf("%s is in %s, which you do not evaluate", r.Reference, sectionName(r.SectionTitle)))
			case seen[r.ID]:
				v.Add(FieldMark(r), fmt.Sprintf("%s is marked twice; give one mark", r.Reference))
			case !m.blank():
				if field, msg := m.problem(r); msg != "" {
					v.Add(field, msg)
				}
			}
			seen[m.RequirementID] = true
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
		saved, cleared := 0, 0
		for _, m := range in {
			if m.blank() {
				res := tx.Where("bid_id = ? AND requirement_id = ? AND evaluator_user_id = ?", bid.ID, m.RequirementID, actor.UserID).Delete(&Mark{})
				if res.Error != nil {
					return fmt.Errorf("clear mark: %w", res.Error)
				}
				cleared += int(res.RowsAffected)
				continue
			}
			row := Mark{BidID: bid.ID, RequirementID: m.RequirementID, EvaluatorUserID: actor.UserID,
				Pass: m.Pass, Score: m.Score, Justification: strings.TrimSpace(m.Justification), SavedAt: now}
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "bid_id"}, {Name: "requirement_id"}, {Name: "evaluator_user_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"pass", "score", "justification", "saved_at"}),
			}).Create(&row).Error; err != nil {
				return fmt.Errorf("save mark: %w", err)
			}
			saved++
		}
		// Counts only: marks and justifications stay out of the audit log.
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition_bid", ObjectID: bid.ID,
			Detail: map[string]any{"competition_id": b.c.ID, "saved": saved, "cleared": cleared}})
	})
	return s.refused(ctx, actor, action, "competition_bid", bidID, err)
}

// SubmitScores makes the actor's marks for a bid final. It refuses, naming
// each requirement, unless every requirement they evaluate has a complete
// mark. Once every panel member who can score the bid has submitted, each
// of them may see the others' marks (Scores) and the lead trust may
// moderate.
func (s *Service) SubmitScores(ctx context.Context, actor audit.Actor, bidID string) error {
	const action = "evaluation.scores.submit"
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		b, bid, err := s.scoring(tx, actor, bidID)
		if err != nil {
			return err
		}
		ms, _, err := marksOf(tx, []string{bid.ID})
		if err != nil {
			return err
		}
		mine := ms[bid.ID][actor.UserID]
		scope := b.scope(actor.UserID)
		var v validate.Errors
		for _, r := range scope {
			m, ok := mine[r.ID]
			if !ok {
				v.Add(FieldMark(r), fmt.Sprintf("Mark %s before submitting", r.Reference))
				continue
			}
			in := MarkInput{RequirementID: r.ID, Pass: m.Pass, Score: m.Score, Justification: m.Justification}
			if field, msg := in.problem(r); msg != "" {
				v.Add(field, msg)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Create(&submission{BidID: bid.ID, EvaluatorUserID: actor.UserID, SubmittedAt: s.now()}).Error; err != nil {
			return fmt.Errorf("submit marks: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition_bid", ObjectID: bid.ID,
			Detail: map[string]any{"competition_id": b.c.ID, "requirements": len(scope)}})
	})
	return s.refused(ctx, actor, action, "competition_bid", bidID, err)
}

// MyScores returns the actor's own marks for a bid, drafts included, with
// the requirements they evaluate. Only a panel member who may read the bid
// may (refusals audited).
func (s *Service) MyScores(ctx context.Context, actor audit.Actor, bidID string) (*Evaluation, error) {
	db, b, bid, err := s.readBidAs(ctx, actor, "evaluation.scores.read", bidID, func(r competition.Reader, b *book, bid *competition.Bid) error {
		if _, ok := b.member(r.UserID); !ok {
			return competition.ErrForbidden
		}
		return r.MayRead(bid.SupplierOrgID)
	})
	if err != nil {
		return nil, err
	}
	m, _ := b.member(actor.UserID)
	ms, done, err := marksOf(db, []string{bid.ID})
	if err != nil {
		return nil, err
	}
	e := b.evaluation(bid, m, ms, done)
	return &e, nil
}

// BidScores is every scorer's marks for one bid, with its progress.
type BidScores struct {
	Bid      competition.Bid
	Progress Progress
	// Evaluations are the scorers' evaluations, by name.
	Evaluations []Evaluation
}

// Scores returns every scorer's marks for a bid once all are in: to the
// panel members and the lead trust's trust leads who may read the bid. Before
// every scorer has submitted it is ErrScoresHidden, for evaluators and
// leads alike (Progress gives the counts), so nobody marks, or moderates,
// with part of the marks in view. Every refusal is audited.
func (s *Service) Scores(ctx context.Context, actor audit.Actor, bidID string) (*BidScores, error) {
	const action = "evaluation.scores.read"
	db, b, bid, err := s.readBidAs(ctx, actor, action, bidID, func(r competition.Reader, _ *book, bid *competition.Bid) error {
		return r.MayRead(bid.SupplierOrgID)
	})
	if err != nil {
		return nil, err
	}
	out, err := b.scores(db, bid)
	if err != nil {
		return nil, err
	}
	if !out.Progress.Complete() {
		return nil, s.refused(ctx, actor, action, "competition_bid", bidID, ErrScoresHidden)
	}
	return out, nil
}

// scores is the bid's marks and progress, whoever is asking.
func (b *book) scores(db *gorm.DB, bid *competition.Bid) (*BidScores, error) {
	ms, done, err := marksOf(db, []string{bid.ID})
	if err != nil {
		return nil, err
	}
	mods, err := moderationsOf(db, b.c.ID)
	if err != nil {
		return nil, err
	}
	out := &BidScores{Bid: *bid, Progress: b.progress(bid, done, moderatedAt(mods, bid.ID))}
	for _, m := range b.scorers(bid) {
		out.Evaluations = append(out.Evaluations, b.evaluation(bid, m, ms, done))
	}
	return out, nil
}

// Progress lists, for every opened bid by supplier name, how many panel
// members can score it and how many have submitted, and whether it is
// moderated: counts only, never marks. For the panel and the lead trust's
// trust leads (ErrForbidden, audited, for anyone else).
func (s *Service) Progress(ctx context.Context, actor audit.Actor, competitionID string) ([]Progress, error) {
	db, b, err := s.readAs(ctx, actor, "evaluation.progress.read", competitionID, func(db *gorm.DB, b *book) error {
		r, err := b.reader(db, actor)
		if err == nil && !r.Lead && !r.Panel {
			err = competition.ErrForbidden
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	_, done, err := marksOf(db, b.bidIDs())
	if err != nil {
		return nil, err
	}
	mods, err := moderationsOf(db, b.c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Progress, len(b.bids))
	for i := range b.bids {
		out[i] = b.progress(&b.bids[i], done, moderatedAt(mods, b.bids[i].ID))
	}
	return out, nil
}
