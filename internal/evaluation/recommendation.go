package evaluation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Approval quorum: how many approvals each buying trust's board must give.
const (
	MinQuorum     = 1
	MaxQuorum     = 5
	DefaultQuorum = 2
)

// MaxRationale is the longest recommendation rationale, in characters.
const MaxRationale = 5000

// Field names of RecommendationInput's errors.
const (
	FieldBid         = "bid"
	FieldRationale   = "rationale"
	FieldQuorum      = "quorum"
	FieldApprovalDue = "approval_due"
)

// Recommendation is the lead trust's award recommendation: the bid, why,
// how many approvals each buying trust's board must give and by when.
// Version goes up each time it is made again, so that board decisions can
// be tied to the recommendation they were made on.
type Recommendation struct {
	CompetitionID string `gorm:"primaryKey"`
	BidID         string
	SupplierOrgID string
	Rationale     string
	Quorum        int
	ApprovalDue   time.Time
	RecommendedBy string
	RecommendedAt time.Time
	Version       int
}

// TableName tells GORM where recommendations live.
func (Recommendation) TableName() string { return "competition_recommendations" }

func (r *Recommendation) utc() {
	r.ApprovalDue, r.RecommendedAt = r.ApprovalDue.UTC(), r.RecommendedAt.UTC()
}

// recommendationOf reads the recommendation through db; nil when none.
func recommendationOf(db *gorm.DB, competitionID string) (*Recommendation, error) {
	var r Recommendation
	if err := db.Where("competition_id = ?", competitionID).Limit(1).Find(&r).Error; err != nil {
		return nil, fmt.Errorf("read recommendation: %w", err)
	}
	if r.CompetitionID == "" {
		return nil, nil
	}
	r.utc()
	return &r, nil
}

// RecommendationInput is the lead's recommendation. Quorum 0 means
// DefaultQuorum. Version is 0 for the first recommendation and the
// current Recommendation.Version to make it again.
type RecommendationInput struct {
	CompetitionID string
	BidID         string
	Rationale     string
	Quorum        int
	ApprovalDue   time.Time
	Version       int
}

// Recommend records the award recommendation, in one transaction with its
// audit entry. Only a trust lead of the lead trust who declared no
// conflict with any bidder may (refusals audited), once moderation is
// complete, and only for the top-ranked bid or, when several are tied
// first, one of them: the rationale says why. The quorum is 1 to 5
// approvals per buying trust board, and the approval date must be in the
// future. Making it again (with the current version) replaces it until
// the award moves on; what board decisions then count is the award's
// business (they are tied to the version).
func (s *Service) Recommend(ctx context.Context, actor audit.Actor, in RecommendationInput) (*Recommendation, error) {
	const action = "evaluation.recommend"
	in.Rationale = strings.TrimSpace(in.Rationale)
	if in.Quorum == 0 {
		in.Quorum = DefaultQuorum
	}
	var out *Recommendation
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		b, err := s.lockAsLead(tx, actor, in.CompetitionID)
		if err != nil {
			return err
		}
		if err := b.mayView(tx, actor); err != nil {
			return err
		}
		var v validate.Errors
		if b.c.Status == competition.StatusCancelled {
			v.Add(FieldState, "The competition has been cancelled, so no award can be recommended")
			return v.Err()
		}
		if s.AwardSent != nil {
			sent, err := s.AwardSent(tx, b.c.ID)
			if err != nil {
				return err
			}
			if sent {
				v.Add(FieldState, "The award decision has been sent to the bidders, so the recommendation can no longer change")
				return v.Err()
			}
		}
		res, err := b.results(tx)
		if errors.Is(err, ErrNotModerated) {
			v.Add(FieldState, "Recommend the award once every opened bid has been moderated")
			return v.Err()
		}
		if err != nil {
			return err
		}
		top := res.Top()
		chosen, ok := res.For(in.BidID)
		switch {
		case len(top) == 0:
			v.Add(FieldBid, "No bid passed every pass/fail requirement, so there is no bid to recommend")
		case !ok:
			v.Add(FieldBid, "Choose one of the opened bids")
		case !chosen.Passed:
			v.Add(FieldBid, fmt.Sprintf("%s's bid failed a pass/fail requirement, so it cannot be recommended", chosen.Bid.Supplier.Name))
		case chosen.Rank != 1:
			names := make([]string, len(top))
			for i, t := range top {
				names[i] = t.Bid.Supplier.Name
			}
			v.Add(FieldBid, fmt.Sprintf("%s's bid ranks %d; recommend the top-ranked bid (%s)", chosen.Bid.Supplier.Name, chosen.Rank, strings.Join(names, " or ")))
		}
		switch {
		case in.Rationale == "" && chosen.Tied:
			v.Add(FieldRationale, "The top bids are tied: say why you recommend this one; the boards read it")
		case in.Rationale == "":
			v.Add(FieldRationale, "Say why this bid is recommended; the boards read it")
		case utf8.RuneCountInString(in.Rationale) > MaxRationale:
			v.Add(FieldRationale, "The rationale must be 5,000 characters or fewer")
		}
		if in.Quorum < MinQuorum || in.Quorum > MaxQuorum {
			v.Add(FieldQuorum, fmt.Sprintf("Enter how many approvals each buying trust's board must give, from %d to %d", MinQuorum, MaxQuorum))
		}
		now := s.now()
		switch {
		case in.ApprovalDue.IsZero():
			v.Add(FieldApprovalDue, "Enter the date by which the boards must approve the award")
		case !in.ApprovalDue.After(now):
			v.Add(FieldApprovalDue, "The approval date must be in the future, after "+uktime.Moment(now)+" (UK time)")
		}
		if err := v.Err(); err != nil {
			return err
		}
		old, err := recommendationOf(tx, b.c.ID)
		if err != nil {
			return err
		}
		if (old == nil && in.Version != 0) || (old != nil && old.Version != in.Version) {
			return fmt.Errorf("recommendation: %w", store.ErrConflict)
		}
		out = &Recommendation{CompetitionID: b.c.ID, BidID: chosen.Bid.ID, SupplierOrgID: chosen.Bid.SupplierOrgID, Rationale: in.Rationale,
			Quorum: in.Quorum, ApprovalDue: in.ApprovalDue.UTC().Truncate(time.Microsecond), RecommendedBy: actor.UserID, RecommendedAt: now, Version: in.Version + 1}
		if old == nil {
			err = tx.Create(out).Error
		} else {
			res := tx.Model(&Recommendation{}).Where("competition_id = ? AND version = ?", b.c.ID, old.Version).Updates(map[string]any{
				"bid_id": out.BidID, "supplier_org_id": out.SupplierOrgID, "rationale": out.Rationale, "quorum": out.Quorum,
				"approval_due": out.ApprovalDue, "recommended_by": out.RecommendedBy, "recommended_at": now, "version": out.Version,
			})
			if err = res.Error; err == nil && res.RowsAffected == 0 {
				err = store.ErrConflict
			}
		}
		if err != nil {
			return fmt.Errorf("record recommendation: %w", err)
		}
		if err := tx.Exec("UPDATE competitions SET recommended_at = ? WHERE id = ?", now, b.c.ID).Error; err != nil {
			return fmt.Errorf("mark recommended: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition", ObjectID: b.c.ID, Detail: map[string]any{
			"bid_id": out.BidID, "supplier_org_id": out.SupplierOrgID, "rank": chosen.Rank, "tied": chosen.Tied,
			"quorum": out.Quorum, "approval_due": out.ApprovalDue.Format(time.RFC3339), "version": out.Version,
		}})
	})
	if err != nil {
		return nil, s.refused(ctx, actor, action, "competition", in.CompetitionID, err)
	}
	return out, nil
}

// Recommendation returns the competition's award recommendation, or
// ErrNoRecommendation (which is store.ErrNotFound) when there is none. The
// caller checks who is asking.
func (s *Service) Recommendation(ctx context.Context, competitionID string) (*Recommendation, error) {
	r, err := recommendationOf(s.DB.WithContext(ctx), competitionID)
	if err == nil && r == nil {
		err = ErrNoRecommendation
	}
	return r, err
}

// ValuePerBuyer is the recommended bid's total price for each buying trust
// (organisation ID), in pence: the value of each trust's contract. It is
// ErrNoRecommendation before the recommendation. The caller checks who is
// asking.
func (s *Service) ValuePerBuyer(ctx context.Context, competitionID string) (map[string]int64, error) {
	db := s.DB.WithContext(ctx)
	r, err := s.Recommendation(ctx, competitionID)
	if err != nil {
		return nil, err
	}
	totals, err := totalsOf(db, []string{r.BidID})
	if err != nil {
		return nil, err
	}
	out := totals[r.BidID]
	if out == nil {
		out = map[string]int64{}
	}
	return out, nil
}

// BuyerValue is what one buying trust would pay under the recommended bid.
type BuyerValue struct {
	Buyer      competition.Buyer
	TotalPence int64
}

// Report is the printable award report: the competition, its rules,
// requirements and panel, the results (scores, ranking and the
// moderation's consensus marks and rationales), the recommendation with
// the value per buying trust, and every conflict of interest declared.
type Report struct {
	Competition  competition.Competition
	Rules        Rules
	Requirements []competition.Requirement
	Panel        []PanelMember
	Results      Results
	// Recommendation is nil until the award is recommended; then
	// RecommendedByName names who made it and Values are the recommended
	// bid's total prices per buying trust, the lead first.
	Recommendation    *Recommendation
	RecommendedByName string
	Values            []BuyerValue
	// Conflicts are the declared conflicts (who, which supplier, the
	// details, when), by declarer's name; Declared is how many people
	// declared at all.
	Conflicts []competition.Declaration
	Declared  int
}

// Value is the recommended bid's total over every buying trust, in pence.
func (r *Report) Value() int64 {
	var total int64
	for _, v := range r.Values {
		total += v.TotalPence
	}
	return total
}

// Report returns the award report once moderation is complete
// (ErrNotModerated before), to those who may see the results (see Results;
// refusals audited).
func (s *Service) Report(ctx context.Context, actor audit.Actor, competitionID string) (*Report, error) {
	db, b, err := s.readAs(ctx, actor, "evaluation.report.read", competitionID, func(db *gorm.DB, b *book) error { return b.mayView(db, actor) })
	if err != nil {
		return nil, err
	}
	res, err := b.results(db)
	if err != nil {
		return nil, err
	}
	out := &Report{Competition: *b.c, Rules: b.rules, Requirements: b.reqs, Results: *res}
	if out.Panel, err = s.Panel(ctx, competitionID); err != nil {
		return nil, err
	}
	decls, err := competition.DeclarationsOf(db, competitionID)
	if err != nil {
		return nil, err
	}
	people := map[string]bool{}
	for _, d := range decls {
		people[d.UserID] = true
		if d.Conflict {
			out.Conflicts = append(out.Conflicts, d)
		}
	}
	out.Declared = len(people)
	if out.Recommendation, err = recommendationOf(db, competitionID); err != nil || out.Recommendation == nil {
		return out, err
	}
	if err := db.Table("users").Select("name").Where("id = ?", out.Recommendation.RecommendedBy).Scan(&out.RecommendedByName).Error; err != nil {
		return nil, fmt.Errorf("read recommender: %w", err)
	}
	buyers, err := competition.BuyersOf(db, competitionID)
	if err != nil {
		return nil, err
	}
	rec, _ := res.For(out.Recommendation.BidID)
	for _, by := range buyers {
		out.Values = append(out.Values, BuyerValue{Buyer: by, TotalPence: rec.Prices[by.OrganisationID]})
	}
	return out, nil
}

// SummaryPoints are one bid's points in an assessment summary.
type SummaryPoints struct {
	Passed  bool
	Quality float64
	Price   float64
	Total   float64
}

// SummaryMark is a consensus mark without its rationale: Pass for a
// pass/fail requirement, Score for the others; both nil when the
// requirement was not marked (a bid that failed a gate may have weighted
// requirements unmarked).
type SummaryMark struct {
	Pass  *bool
	Score *int
}

// SummaryLine is one requirement (criterion) of an assessment summary with
// the supplier's own consensus mark and the winning bid's.
type SummaryLine struct {
	Reference string
	Text      string
	Section   string
	Weight    int
	PassFail  bool
	Own       SummaryMark
	Winner    SummaryMark
}

// AssessmentSummary is what a bidder's award letter tells it: its own
// consensus marks and points against the winning bid's, per requirement,
// and the winner's name; nothing about any other bidder.
type AssessmentSummary struct {
	CompetitionID string
	Reference     string
	Title         string
	SupplierOrgID string
	SupplierName  string
	WinnerName    string
	// Successful is true for the winner's own summary.
	Successful    bool
	QualityWeight int
	PriceWeight   int
	Own           SummaryPoints
	Winner        SummaryPoints
	Lines         []SummaryLine
}

// AssessmentSummary returns the supplier's assessment summary once the
// award is recommended (ErrNoRecommendation before); store.ErrNotFound
// when the supplier has no opened bid. The caller checks who is asking
// (the supplier's own users, or the award letters being sent).
func (s *Service) AssessmentSummary(ctx context.Context, competitionID, supplierOrgID string) (*AssessmentSummary, error) {
	db := s.DB.WithContext(ctx)
	rec, err := s.Recommendation(ctx, competitionID)
	if err != nil {
		return nil, err
	}
	b, err := read(db, competitionID)
	if err != nil {
		return nil, err
	}
	res, err := b.results(db)
	if err != nil {
		return nil, err
	}
	win, _ := res.For(rec.BidID)
	var own BidResult
	found := false
	for _, r := range res.Bids {
		if r.Bid.SupplierOrgID == supplierOrgID {
			own, found = r, true
		}
	}
	if !found {
		return nil, fmt.Errorf("bid of the supplier: %w", store.ErrNotFound)
	}
	points := func(r BidResult) SummaryPoints {
		return SummaryPoints{Passed: r.Passed, Quality: r.Quality, Price: r.Price, Total: r.Total}
	}
	mark := func(r BidResult, reqID string) SummaryMark {
		for _, c := range r.Consensus {
			if c.RequirementID == reqID {
				return SummaryMark{Pass: c.Pass, Score: c.Score}
			}
		}
		return SummaryMark{}
	}
	out := &AssessmentSummary{CompetitionID: b.c.ID, Reference: b.c.Reference, Title: b.c.Title,
		SupplierOrgID: supplierOrgID, SupplierName: own.Bid.Supplier.Name, WinnerName: win.Bid.Supplier.Name,
		Successful: own.Bid.ID == win.Bid.ID, QualityWeight: b.c.QualityWeight, PriceWeight: b.c.PriceWeight,
		Own: points(own), Winner: points(win)}
	for _, r := range b.reqs {
		out.Lines = append(out.Lines, SummaryLine{Reference: r.Reference, Text: r.Text, Section: r.SectionTitle, Weight: r.Weight,
			PassFail: !r.Weighted(), Own: mark(own, r.ID), Winner: mark(win, r.ID)})
	}
	return out, nil
}
