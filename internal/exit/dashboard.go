package exit

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
)

// Count is how many deployments of one group are red, amber and green.
type Count struct {
	// Key is the group's code (a region code, system type, path, stage or
	// trust ID); Label its name.
	Key, Label        string
	Red, Amber, Green int
}

// Total is the group's number of deployments.
func (c Count) Total() int { return c.Red + c.Amber + c.Green }

// Of returns the count of one rating.
func (c Count) Of(rating string) int {
	switch rating {
	case Red:
		return c.Red
	case Amber:
		return c.Amber
	}
	return c.Green
}

func (c *Count) add(rating string) {
	switch rating {
	case Red:
		c.Red++
	case Amber:
		c.Amber++
	default:
		c.Green++
	}
}

// TrendPoint is one snapshot's counts.
type TrendPoint struct {
	Week    string
	TakenAt time.Time
	Count
}

// Filter narrows the dashboard's list of deployments (the drill-down);
// empty fields do not filter. The counts always cover the whole scope.
type Filter struct {
	Rating, Region, System, Path, Stage, TrustID string
}

// Matches reports whether a rated deployment passes the filter.
func (f Filter) Matches(r Rated) bool {
	return (f.Rating == "" || r.Rating == f.Rating) &&
		(f.Region == "" || r.Organisation.Region == f.Region) &&
		(f.System == "" || r.SystemType == f.System) &&
		(f.Path == "" || (f.Path == "none" && r.Path == PathNone) || r.Path == f.Path) &&
		(f.Stage == "" || r.Stage == f.Stage) &&
		(f.TrustID == "" || r.OrganisationID == f.TrustID)
}

// Empty reports whether the filter filters nothing.
func (f Filter) Empty() bool { return f == Filter{} }

// Dashboard is a scope's exit picture: counts by rating overall and by
// region, system type, path, stage and trust; the trend over the weekly
// snapshots; and the deployments the filter picks, each with its rating
// and reason.
type Dashboard struct {
	Scope    Scope
	At       time.Time
	Rules    Rules
	Total    Count
	ByRegion []Count
	BySystem []Count
	ByPath   []Count
	ByStage  []Count
	ByTrust  []Count
	// Trend is the snapshots of the last TrendWeeks weeks, oldest first,
	// then the counts now.
	Trend []TrendPoint
	// Deployments are those the filter picks, worst first (red, amber,
	// green; then by trust and product).
	Deployments []Rated
}

// TrendWeeks is how many weeks of snapshots the trend shows.
const TrendWeeks = 26

// Dashboard computes the scope's dashboard now, in three queries whatever
// the number of deployments: the rules, the deployments with their
// national contracts and trusts, and the snapshots' counts.
func (s *Service) Dashboard(ctx context.Context, sc Scope, f Filter) (*Dashboard, error) {
	now := s.Clock.Now()
	db := s.DB.WithContext(ctx)
	rules, err := loadRules(db)
	if err != nil {
		return nil, err
	}
	list, err := deploymentsIn(db, sc)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{Scope: sc, At: now, Rules: rules}
	regions, systems, paths, stages, trusts := groups(), groups(), groups(), groups(), groups()
	for _, r := range RateAll(list, rules, now) {
		d.Total.add(r.Rating)
		regions.add(r.Organisation.Region, orgs.RegionName(r.Organisation.Region), r.Rating)
		systems.add(r.SystemType, SystemLabel(r.SystemType), r.Rating)
		path := r.Path
		if path == PathNone {
			path = "none"
		}
		paths.add(path, PathLabel(r.Path), r.Rating)
		stages.add(r.Stage, StageLabel(r.Stage), r.Rating)
		trusts.add(r.OrganisationID, r.Organisation.Name, r.Rating)
		if f.Matches(r) {
			d.Deployments = append(d.Deployments, r)
		}
	}
	d.ByRegion = regions.ordered(regionOrder())
	d.BySystem = systems.ordered(SystemTypes)
	d.ByPath = paths.ordered(append([]string{"none"}, Paths...))
	d.ByStage = stages.ordered(Stages)
	d.ByTrust = trusts.worstFirst()
	sort.SliceStable(d.Deployments, func(i, j int) bool {
		return ratingRank(d.Deployments[i].Rating) < ratingRank(d.Deployments[j].Rating)
	})
	if d.Trend, err = s.trend(ctx, sc, now); err != nil {
		return nil, err
	}
	d.Trend = append(d.Trend, TrendPoint{Week: Week(now), TakenAt: now, Count: Count{Key: "now", Label: "Now", Red: d.Total.Red, Amber: d.Total.Amber, Green: d.Total.Green}})
	return d, nil
}

// trend reads the counts of the scope's snapshots over the last
// TrendWeeks weeks, in one query.
func (s *Service) trend(ctx context.Context, sc Scope, now time.Time) ([]TrendPoint, error) {
	type row struct {
		Week    string
		TakenAt time.Time
		Rating  string
		N       int
	}
	var rows []row
	q := s.DB.WithContext(ctx).Table("exit_snapshot_ratings r").
		Select("s.week, s.taken_at, r.rating, COUNT(*) AS n").
		Joins("JOIN exit_snapshots s ON s.id = r.snapshot_id").
		Joins("JOIN deployments ON deployments.id = r.deployment_id").
		Where("s.taken_at >= ?", now.AddDate(0, 0, -7*TrendWeeks)).
		Group("s.week, s.taken_at, r.rating").Order("s.taken_at, r.rating")
	if err := sc.where(q).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read snapshots: %w", err)
	}
	var out []TrendPoint
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Week != r.Week {
			out = append(out, TrendPoint{Week: r.Week, TakenAt: r.TakenAt.UTC(), Count: Count{Key: r.Week, Label: weekLabel(r.TakenAt)}})
		}
		c := &out[len(out)-1].Count
		switch r.Rating {
		case Red:
			c.Red = r.N
		case Amber:
			c.Amber = r.N
		case Green:
			c.Green = r.N
		}
	}
	return out, nil
}

// weekLabel names a snapshot by the date it was taken ("7 Dec 2026").
func weekLabel(t time.Time) string { return t.In(uktime.Location).Format("2 Jan 2006") }

// groupCounts gathers counts by key, remembering each key's label.
type groupCounts map[string]*Count

func groups() groupCounts { return groupCounts{} }

func (g groupCounts) add(key, label, rating string) {
	c, ok := g[key]
	if !ok {
		c = &Count{Key: key, Label: label}
		g[key] = c
	}
	c.add(rating)
}

// ordered lists the groups in the order of keys, then any others by label;
// groups with no deployments are left out.
func (g groupCounts) ordered(keys []string) []Count {
	var out []Count
	seen := map[string]bool{}
	for _, k := range keys {
		if c, ok := g[k]; ok {
			out = append(out, *c)
			seen[k] = true
		}
	}
	var rest []Count
	for k, c := range g {
		if !seen[k] {
			rest = append(rest, *c)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Label < rest[j].Label })
	return append(out, rest...)
}

// worstFirst lists the groups with the most red first, then the most
// amber, then by label.
func (g groupCounts) worstFirst() []Count {
	out := make([]Count, 0, len(g))
	for _, c := range g {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Red != b.Red {
			return a.Red > b.Red
		}
		if a.Amber != b.Amber {
			return a.Amber > b.Amber
		}
		return a.Label < b.Label
	})
	return out
}

func regionOrder() []string {
	out := make([]string, len(orgs.Regions))
	for i, r := range orgs.Regions {
		out[i] = r.Code
	}
	return out
}

func ratingRank(r string) int {
	for i, x := range Ratings {
		if x == r {
			return i
		}
	}
	return len(Ratings)
}
