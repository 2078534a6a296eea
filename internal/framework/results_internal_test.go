package framework

import (
	"fmt"
	"testing"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/orgs"
)

func TestResultWeighsScoresAndFailsAtHalf(t *testing.T) {
	reqs := []LotRequirement{
		{ID: "a", Reference: "A", ResponseType: catalogue.Scored, Weight: 30},
		{ID: "b", Reference: "B", ResponseType: catalogue.PriceSchedule, Weight: 10},
		{ID: "c", Reference: "C", ResponseType: catalogue.PassFail, Weight: 50}, // carries no score
	}
	pass := func(ok bool) *bool { return &ok }
	score := func(n int) *int { return &n }
	marks := map[string][]Score{
		"a": {{Score: score(4)}, {Score: score(3)}, {Score: score(2)}}, // mean 3
		"b": {{Score: score(1)}, {Score: score(1)}, {Score: score(2)}}, // mean 4/3
		"c": {{Pass: pass(true)}, {Pass: pass(false)}, {Pass: pass(true)}},
	}
	r := result(Application{}, reqs, nil, 3, 3, marks)
	// (3/4 x 30 + (4/3)/4 x 10) / 40 x 100 = (22.5 + 3.333) / 40 x 100 = 64.58
	if r.Score != 64.6 || !r.Passed || !r.Complete() {
		t.Fatalf("result %+v", r)
	}
	marks["c"] = append(marks["c"], Score{Pass: pass(false)})
	if r := result(Application{}, reqs, nil, 4, 4, marks); r.Passed || len(r.Failed) != 1 {
		t.Fatalf("two fails of four submitted evaluations should fail: %+v", r)
	}
	if r := result(Application{}, reqs, nil, 2, 0, nil); !r.Passed || r.Complete() || r.Score != 0 {
		t.Fatalf("nothing submitted yet: %+v", r)
	}
}

// TestResultWeighsCriteria: Quality 60 and Price 40; the quality
// requirements' weighted mean and the price requirement's mark are
// weighted by their criteria, whatever the requirements' own weights
// across criteria. A requirement linked to a criterion the framework no
// longer has counts towards the first.
func TestResultWeighsCriteria(t *testing.T) {
	criteria := []Criterion{{Name: "Quality", Weight: 60, Position: 1}, {Name: "Price", Weight: 40, Position: 2}}
	reqs := []LotRequirement{
		{ID: "q1", ResponseType: catalogue.Scored, Weight: 30, Criterion: "Quality"},
		{ID: "q2", ResponseType: catalogue.Scored, Weight: 10, Criterion: "Gone"},
		{ID: "p", ResponseType: catalogue.PriceSchedule, Weight: 5, Criterion: "Price"},
	}
	score := func(n int) *int { return &n }
	marks := map[string][]Score{
		"q1": {{Score: score(4)}}, // 1.0
		"q2": {{Score: score(2)}}, // 0.5, counted as Quality
		"p":  {{Score: score(1)}}, // 0.25
	}
	r := result(Application{}, reqs, criteria, 1, 1, marks)
	// Quality (30 x 1 + 10 x 0.5) / 40 = 0.875; Price 0.25;
	// (60 x 0.875 + 40 x 0.25) / 100 = 0.625
	if r.Score != 62.5 {
		t.Fatalf("score %.1f, want 62.5", r.Score)
	}
	// A lot with no price requirement is scored on quality alone.
	if r := result(Application{}, reqs[:2], criteria, 1, 1, marks); r.Score != 87.5 {
		t.Fatalf("quality only: %.1f, want 87.5", r.Score)
	}
}

func TestRankSharesTies(t *testing.T) {
	res := func(name string, score float64, passed, complete bool) Result {
		r := Result{Application: Application{Supplier: orgs.Organisation{Name: name}}, Score: score, Passed: passed, Evaluators: 2, Submitted: 2}
		if !complete {
			r.Submitted = 1
		}
		return r
	}
	rs := []Result{
		res("Delta", 70, true, true), res("Alpha", 81.5, true, true), res("Echo", 90, false, true),
		res("Charlie", 81.5, true, true), res("Bravo", 95, true, false), res("Foxtrot", 60, true, true),
	}
	rank(rs)
	var got string
	for _, r := range rs {
		got += fmt.Sprintf("%s:%d ", r.Application.Supplier.Name, r.Rank)
	}
	if want := "Alpha:1 Charlie:1 Delta:3 Foxtrot:4 Bravo:0 Echo:0 "; got != want {
		t.Fatalf("ranks %s, want %s", got, want)
	}
}
