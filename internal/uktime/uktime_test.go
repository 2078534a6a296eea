package uktime_test

import (
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/uktime"
)

func TestFormats(t *testing.T) {
	cases := []struct {
		utc  time.Time
		want string
	}{
		{time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC), "5pm on Friday 4 December 2026"},  // GMT
		{time.Date(2026, 6, 4, 16, 30, 0, 0, time.UTC), "5:30pm on Thursday 4 June 2026"}, // BST
		{time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC), "midday on Monday 1 February 2027"},
		{time.Date(2027, 2, 1, 12, 0, 1, 0, time.UTC), "12:00:01pm on Monday 1 February 2027"},
		{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), "midnight on Thursday 31 December 2026"},
		{time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), "12:30am on Sunday 29 March 2026"}, // before the clocks go forward
	}
	for _, c := range cases {
		if got := uktime.MomentWithDay(c.utc); got != c.want {
			t.Errorf("MomentWithDay(%v) = %q, want %q", c.utc, got, c.want)
		}
	}
	if got := uktime.Moment(time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)); got != "5pm on 4 December 2026" {
		t.Errorf("Moment = %q", got)
	}
}
