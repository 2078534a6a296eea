// Package uktime writes moments the way the portal shows them to people: in
// UK time, GOV.UK style ("5pm", "5:30pm", "midday", "midnight"). Deadlines,
// receipts, emails and pages all use it, so one deadline reads the same
// everywhere.
package uktime

import (
	"strings"
	"time"
	_ "time/tzdata" // UK time must work on machines without a zone database
)

// Location is UK time (Europe/London, with summer time).
var Location = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // embedded by time/tzdata
	}
	return loc
}()

// Clock writes the time of day: "5pm", "5:30pm", "midday", "midnight", and
// the seconds when they are not zero ("12:00:01pm"), as on receipts and
// refused late submissions, where the second matters.
func Clock(t time.Time) string {
	t = t.In(Location)
	switch {
	case t.Second() != 0:
		return t.Format("3:04:05pm")
	case t.Hour() == 12 && t.Minute() == 0:
		return "midday"
	case t.Hour() == 0 && t.Minute() == 0:
		return "midnight"
	}
	return strings.Replace(t.Format("3:04pm"), ":00", "", 1)
}

// Date writes the UK date: "4 December 2026".
func Date(t time.Time) string { return t.In(Location).Format("2 January 2006") }

// DateWithDay writes the UK date with its weekday: "Friday 4 December 2026".
func DateWithDay(t time.Time) string { return t.In(Location).Format("Monday 2 January 2006") }

// Moment writes "5pm on 4 December 2026".
func Moment(t time.Time) string { return Clock(t) + " on " + Date(t) }

// MomentWithDay writes "5pm on Friday 4 December 2026".
func MomentWithDay(t time.Time) string { return Clock(t) + " on " + DateWithDay(t) }

// MomentSeconds writes a moment to the second, always showing the seconds
// ("12:00:00pm on 1 February 2027"): for the time a late submission arrived,
// where "midday" would hide that it came at the deadline exactly.
func MomentSeconds(t time.Time) string {
	return t.In(Location).Format("3:04:05pm") + " on " + Date(t)
}
