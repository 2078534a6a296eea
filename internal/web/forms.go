package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func newErrors(field, message string) *validate.Errors {
	return &validate.Errors{List: []validate.FieldError{{Field: field, Message: message}}}
}

// dateInput reads an NHS.UK date input (name-day, name-month, name-year).
// ok is false when the fields are filled in but do not make a real date;
// a date left wholly blank gives the zero time and ok true.
func dateInput(form url.Values, name string) (t time.Time, ok bool) {
	d := strings.TrimSpace(form.Get(name + "-day"))
	m := strings.TrimSpace(form.Get(name + "-month"))
	y := strings.TrimSpace(form.Get(name + "-year"))
	if d == "" && m == "" && y == "" {
		return time.Time{}, true
	}
	day, err1 := strconv.Atoi(d)
	month, err2 := strconv.Atoi(m)
	year, err3 := strconv.Atoi(y)
	if err1 != nil || err2 != nil || err3 != nil || year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // e.g. 31 February
	}
	return t, true
}

// formInt reads a whole number, or 0 (also for one too big for an int,
// which strconv.Atoi would clamp).
func formInt(form url.Values, name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(form.Get(name)))
	if err != nil {
		return 0
	}
	return n
}

// setDateInput fills an NHS.UK date input (name-day, name-month,
// name-year) with t's UK date; nil leaves it blank.
func setDateInput(form url.Values, name string, t *time.Time) {
	if t == nil {
		return
	}
	u := t.In(uktime.Location)
	form.Set(name+"-day", strconv.Itoa(u.Day()))
	form.Set(name+"-month", strconv.Itoa(int(u.Month())))
	form.Set(name+"-year", strconv.Itoa(u.Year()))
}
