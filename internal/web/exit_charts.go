package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nhsprocure/portal/internal/exit"
)

// The exit dashboard's charts: stacked bars of red, amber and green per
// group, and the trend of the weekly snapshots as three lines. Each is an
// SVG with a title and a description that reads out every figure, drawn
// beside a table of the same figures, so nothing depends on seeing colour
// or running JavaScript. Coordinates are in the SVG's own units: 1000
// wide.

// ragColours are the NHS.UK palette's red, warm yellow and green.
var ragColours = map[string]string{exit.Red: "#d5281b", exit.Amber: "#ffb81c", exit.Green: "#007f3b"}

// barSegment is one rating's part of a bar.
type barSegment struct {
	X, Width int
	Fill     string
	Rating   string
	N        int
}

// chartBarRow is one group's stacked bar.
type chartBarRow struct {
	Label, Href         string
	Y, TextY            int
	Segments            []barSegment
	Total, TotalX       int
	Red, Amber, Green   int
	RedHref, AmberHref  string
	GreenHref, KeyValue string
}

// ragChart is a stacked bar chart of counts by rating, one bar per group.
type ragChart struct {
	ID, Title, Group string
	Height           int
	Rows             []chartBarRow
}

// Desc reads out every bar's figures for the SVG's description.
func (c ragChart) Desc() string {
	parts := make([]string, len(c.Rows))
	for i, r := range c.Rows {
		parts[i] = fmt.Sprintf("%s: %d red, %d amber, %d green", r.Label, r.Red, r.Amber, r.Green)
	}
	return strings.Join(parts, "; ") + ". The table gives the same figures."
}

// Chart geometry: labels to the left of x 320, bars from there to 900,
// counts after the bar.
const (
	barLeft   = 320
	barSpan   = 560
	barHeight = 28
	barStep   = 40
)

// newRAGChart draws counts as stacked bars scaled to the largest group,
// each label linking to the dashboard filtered by param=key.
func newRAGChart(id, title, group, param string, counts []exit.Count, link func(kv ...string) string) ragChart {
	max := 0
	for _, c := range counts {
		if c.Total() > max {
			max = c.Total()
		}
	}
	ch := ragChart{ID: id, Title: title, Group: group, Height: 10 + barStep*len(counts)}
	for i, c := range counts {
		y := 10 + i*barStep
		row := chartBarRow{Label: shorten(c.Label, 34), Y: y, TextY: y + 20, Total: c.Total(), Red: c.Red, Amber: c.Amber, Green: c.Green,
			Href: link(param, c.Key), KeyValue: c.Key,
			RedHref: link(param, c.Key, "rating", exit.Red), AmberHref: link(param, c.Key, "rating", exit.Amber), GreenHref: link(param, c.Key, "rating", exit.Green)}
		x := barLeft
		for _, r := range exit.Ratings {
			n := c.Of(r)
			if n == 0 || max == 0 {
				continue
			}
			w := n * barSpan / max
			if w < 2 {
				w = 2
			}
			row.Segments = append(row.Segments, barSegment{X: x, Width: w, Fill: ragColours[r], Rating: r, N: n})
			x += w
		}
		row.TotalX = x + 8
		ch.Rows = append(ch.Rows, row)
	}
	return ch
}

// shorten cuts a label to n characters with an ellipsis; the table
// beside the chart gives it in full.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// trendChart is the snapshots' counts as three lines.
type trendChart struct {
	Height  int
	Lines   []trendLine
	Ticks   []trendTick
	Points  []exit.TrendPoint
	Max     int
	YLabels []trendTick
}

type trendLine struct {
	Rating, Fill, Points string
	Dots                 []trendDot
}

type trendDot struct{ X, Y, N int }

type trendTick struct {
	X, Y  int
	Label string
}

// Desc reads out every point for the SVG's description.
func (c trendChart) Desc() string {
	parts := make([]string, len(c.Points))
	for i, p := range c.Points {
		parts[i] = fmt.Sprintf("%s: %d red, %d amber, %d green", p.Label, p.Red, p.Amber, p.Green)
	}
	return strings.Join(parts, "; ") + ". The table gives the same figures."
}

// Trend chart geometry: the plot from x 80 to 960 and y 20 to 280.
const (
	trendLeft, trendRight = 80, 960
	trendTop, trendBottom = 20, 280
)

func newTrendChart(points []exit.TrendPoint) trendChart {
	ch := trendChart{Height: trendBottom + 50, Points: points}
	for _, p := range points {
		for _, r := range exit.Ratings {
			if p.Of(r) > ch.Max {
				ch.Max = p.Of(r)
			}
		}
	}
	top := ch.Max
	if top == 0 {
		top = 1
	}
	x := func(i int) int {
		if len(points) == 1 {
			return (trendLeft + trendRight) / 2
		}
		return trendLeft + i*(trendRight-trendLeft)/(len(points)-1)
	}
	y := func(n int) int { return trendBottom - n*(trendBottom-trendTop)/top }
	for _, r := range exit.Ratings {
		l := trendLine{Rating: r, Fill: ragColours[r]}
		var pts []string
		for i, p := range points {
			l.Dots = append(l.Dots, trendDot{X: x(i), Y: y(p.Of(r)), N: p.Of(r)})
			pts = append(pts, fmt.Sprintf("%d,%d", x(i), y(p.Of(r))))
		}
		l.Points = strings.Join(pts, " ")
		ch.Lines = append(ch.Lines, l)
	}
	// Label at most eight dates along the axis, always the last ("Now").
	step := (len(points) + 7) / 8
	for i, p := range points {
		if i%step == 0 || i == len(points)-1 {
			ch.Ticks = append(ch.Ticks, trendTick{X: x(i), Y: trendBottom + 28, Label: p.Label})
		}
	}
	for _, n := range []int{0, top / 2, top} {
		ch.YLabels = append(ch.YLabels, trendTick{X: trendLeft - 12, Y: y(n) + 6, Label: fmt.Sprint(n)})
	}
	return ch
}

// exitLink builds links to the dashboard's list of deployments, keeping
// the scope, filtered by the pairs of parameter and value given.
func exitLink(scope url.Values) func(kv ...string) string {
	return func(kv ...string) string {
		q := url.Values{}
		for k, v := range scope {
			q[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return "/exit?" + q.Encode() + "#deployments"
	}
}
