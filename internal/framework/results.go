package framework

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/catalogue"
)

// Result is where one application stands in its lot's evaluation.
type Result struct {
	Application Application
	// Evaluators is how many evaluators are assigned; Submitted how many of
	// them have submitted their scores for this application. Only their
	// submitted scores count.
	Evaluators int
	Submitted  int
	// Passed is false once a pass/fail requirement has failed: marked fail
	// by at least half of the submitted evaluations. It is final only when
	// the evaluation is Complete.
	Passed bool
	Failed []LotRequirement
	// Score is the weighted score as a percentage to one decimal place: for
	// each scored, numeric or price schedule requirement, the mean of the
	// submitted marks out of 4 times its weight; summed, divided by the sum
	// of those weights, times 100. Pass/fail requirements carry no score.
	Score float64
	// Rank is the place among the lot's applications whose evaluation is
	// complete and passed, by Score, highest first; equal scores (to the
	// decimal place shown) share a rank and the next rank skips (1, 1, 3).
	// 0 means not ranked: failed, or not yet fully evaluated.
	Rank int
}

// Complete reports whether every assigned evaluator has submitted scores.
func (r Result) Complete() bool { return r.Evaluators > 0 && r.Submitted == r.Evaluators }

// LotResults returns the results of every application to a lot so far:
// ranked applications first, by rank and then supplier name, then the
// rest by supplier name. It shows everyone's marks in aggregate, so only
// the consortium lead may see it; the caller checks.
func (s *Service) LotResults(ctx context.Context, lotID string) ([]Result, error) {
	return lotResults(s.DB.WithContext(ctx), lotID)
}

func lotResults(tx *gorm.DB, lotID string) ([]Result, error) {
	var lot Lot
	if err := tx.Where("id = ?", lotID).First(&lot).Error; err != nil {
		return nil, notFound(err, "lot")
	}
	reqs, err := lotRequirements(tx, lotID)
	if err != nil {
		return nil, err
	}
	apps, err := applications(tx, "framework_applications.lot_id = ?", lotID)
	if err != nil {
		return nil, err
	}
	var evs []string
	if err := tx.Model(&evaluatorRow{}).Where("framework_id = ?", lot.FrameworkID).Pluck("user_id", &evs).Error; err != nil {
		return nil, fmt.Errorf("read evaluators: %w", err)
	}
	var done []evaluationRow
	var scores []Score
	if len(evs) > 0 {
		sub := tx.Model(&Application{}).Select("id").Where("lot_id = ?", lotID)
		if err := tx.Where("application_id IN (?) AND evaluator_user_id IN ?", sub, evs).Find(&done).Error; err != nil {
			return nil, fmt.Errorf("read evaluations: %w", err)
		}
		if err := tx.Where("application_id IN (?) AND evaluator_user_id IN ?", sub, evs).Find(&scores).Error; err != nil {
			return nil, fmt.Errorf("read scores: %w", err)
		}
	}
	submitted := map[string]map[string]bool{} // application -> evaluator
	for _, d := range done {
		if submitted[d.ApplicationID] == nil {
			submitted[d.ApplicationID] = map[string]bool{}
		}
		submitted[d.ApplicationID][d.EvaluatorUserID] = true
	}
	marks := map[string]map[string][]Score{} // application -> requirement -> submitted scores
	for _, sc := range scores {
		if !submitted[sc.ApplicationID][sc.EvaluatorUserID] {
			continue // drafts do not count
		}
		if marks[sc.ApplicationID] == nil {
			marks[sc.ApplicationID] = map[string][]Score{}
		}
		marks[sc.ApplicationID][sc.LotRequirementID] = append(marks[sc.ApplicationID][sc.LotRequirementID], sc)
	}
	var criteria []Criterion
	if err := tx.Where("framework_id = ?", lot.FrameworkID).Order("position").Find(&criteria).Error; err != nil {
		return nil, fmt.Errorf("read criteria: %w", err)
	}
	out := make([]Result, len(apps))
	for i, a := range apps {
		out[i] = result(a, reqs, criteria, len(evs), len(submitted[a.ID]), marks[a.ID])
	}
	rank(out)
	return out, nil
}

// result works out one application's outcome from its submitted scores.
// Each scored requirement counts towards its criterion (criterionOf): a
// criterion's result is the weighted mean of its requirements' mean marks
// out of 4, and the application's score is the criteria's results weighted
// by the criteria's weights, over the criteria the lot has requirements
// for, as a percentage. With one criterion this is simply the weighted
// mean of every scored requirement.
func result(a Application, reqs []LotRequirement, criteria []Criterion, evaluators, submitted int, marks map[string][]Score) Result {
	r := Result{Application: a, Evaluators: evaluators, Submitted: submitted, Passed: true}
	type part struct{ weighted, weights float64 }
	parts := map[string]*part{}
	for _, req := range reqs {
		list := marks[req.ID]
		if req.ResponseType == catalogue.PassFail {
			fails := 0
			for _, sc := range list {
				if sc.Pass != nil && !*sc.Pass {
					fails++
				}
			}
			if submitted > 0 && 2*fails >= submitted {
				r.Passed = false
				r.Failed = append(r.Failed, req)
			}
			continue
		}
		c := criterionOf(req, criteria)
		if parts[c] == nil {
			parts[c] = &part{}
		}
		parts[c].weights += float64(req.Weight)
		if len(list) == 0 {
			continue
		}
		sum := 0
		for _, sc := range list {
			if sc.Score != nil {
				sum += *sc.Score
			}
		}
		mean := float64(sum) / float64(len(list))
		parts[c].weighted += mean / MaxMark * float64(req.Weight)
	}
	var total, weights float64
	// In name order, so equal applications add up to exactly equal scores.
	for _, name := range slices.Sorted(maps.Keys(parts)) {
		p := parts[name]
		if p.weights == 0 {
			continue
		}
		w := criterionWeight(name, criteria)
		total += w * p.weighted / p.weights
		weights += w
	}
	if weights > 0 {
		r.Score = math.Round(total/weights*1000) / 10
	}
	return r
}

// criterionOf is the name of the criterion a requirement counts towards:
// its own, if the framework still has it, or else the first.
func criterionOf(r LotRequirement, criteria []Criterion) string {
	for _, c := range criteria {
		if c.Name == r.Criterion {
			return c.Name
		}
	}
	if len(criteria) > 0 {
		return criteria[0].Name
	}
	return ""
}

// criterionWeight is the named criterion's weight; with no criteria at
// all every requirement counts as one criterion of weight 1.
func criterionWeight(name string, criteria []Criterion) float64 {
	for _, c := range criteria {
		if c.Name == name {
			return float64(c.Weight)
		}
	}
	return 1
}

// rank sets the ranks and puts the results in their order (see Result.Rank
// and LotResults).
func rank(rs []Result) {
	ranked := func(r Result) bool { return r.Complete() && r.Passed }
	sort.SliceStable(rs, func(i, j int) bool {
		ri, rj := ranked(rs[i]), ranked(rs[j])
		switch {
		case ri != rj:
			return ri
		case ri && rs[i].Score != rs[j].Score:
			return rs[i].Score > rs[j].Score
		}
		return rs[i].Application.Supplier.Name < rs[j].Application.Supplier.Name
	})
	for i := range rs {
		switch {
		case !ranked(rs[i]):
			rs[i].Rank = 0
		case i > 0 && ranked(rs[i-1]) && rs[i-1].Score == rs[i].Score:
			rs[i].Rank = rs[i-1].Rank
		default:
			rs[i].Rank = i + 1
		}
	}
}
