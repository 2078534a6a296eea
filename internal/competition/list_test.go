package competition_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// A trust's competitions come a page at a time, newest first, the ones it
// only buys in among them; a page past the last is the last, and another
// trust's competitions never appear; a trust with none has one empty page.
func TestCompetitionsPageByPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		const total = competition.ListPageSize + 3
		var want []string
		created := map[string]competition.Competition{}
		start := x.clk.Now()
		for i := range total {
			x.clk.Set(start.Add(time.Duration(i) * time.Second))
			ref := fmt.Sprintf("SWL-EPR-2027-%02d", i+1)
			c, err := x.s.CreateCompetition(ctx, x.aisha, x.lot1.ID, x.rj7, input(ref))
			if err != nil {
				t.Fatal(err)
			}
			want = append([]string{c.Reference}, want...)
			created[c.Reference] = *c
			if i%2 == 0 {
				if _, err := x.s.AddBuyer(ctx, x.aisha, c.ID, competition.BuyerInput{OrganisationID: x.rj1}); err != nil {
					t.Fatal(err)
				}
			}
		}
		refs := func(l *competition.CompetitionList) []string {
			var out []string
			for _, c := range l.Competitions {
				out = append(out, c.Reference)
			}
			return out
		}
		for _, tc := range []struct {
			org          string
			page, shown  int
			matching     int
			first, count int
		}{
			{x.rj7, 0, 1, total, 0, competition.ListPageSize},
			{x.rj7, 2, 2, total, competition.ListPageSize, 3},
			{x.rj7, 9, 2, total, competition.ListPageSize, 3},
			{x.rj1, 1, 1, (total + 1) / 2, 0, (total + 1) / 2},
			{x.rj1, 3, 1, (total + 1) / 2, 0, (total + 1) / 2},
			{x.outsider, 1, 1, 0, 0, 0},
			{x.outsider, 4, 1, 0, 0, 0},
		} {
			l, err := x.s.Competitions(ctx, tc.org, tc.page)
			if err != nil {
				t.Fatal(err)
			}
			if l.Matching != tc.matching || l.Page != tc.shown || len(l.Competitions) != tc.count {
				t.Fatalf("page %d for %s: %d of %d shown as page %d of %d; want %d of %d as page %d",
					tc.page, tc.org, len(l.Competitions), l.Matching, l.Page, l.Pages, tc.count, tc.matching, tc.shown)
			}
			if tc.org == x.rj7 && !slices.Equal(refs(l), want[tc.first:tc.first+tc.count]) {
				t.Errorf("page %d: %v, want %v", tc.page, refs(l), want[tc.first:tc.first+tc.count])
			}
			// Each listed competition holds what its state is worked out from.
			for _, got := range l.Competitions {
				c := created[got.Reference]
				if got.ID != c.ID || got.Title != c.Title || got.LeadOrgID != c.LeadOrgID || got.Status != c.Status ||
					!got.SubmissionDeadline.Equal(c.SubmissionDeadline) || !got.QuestionDeadline.Equal(c.QuestionDeadline) ||
					!got.EvaluationEnd.Equal(c.EvaluationEnd) || !got.PlannedAward.Equal(c.PlannedAward) ||
					!got.CreatedAt.Equal(c.CreatedAt) || got.State(x.clk.Now()) != c.State(x.clk.Now()) || got.SubmissionDeadline.Location() != time.UTC {
					t.Fatalf("listed %+v, created %+v", got, c)
				}
			}
		}
	})
}
