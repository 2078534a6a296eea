// Package standstill works out when a standstill period ends: the time
// after an award decision during which the contract (or framework
// agreement) must not be entered into, so that an unsuccessful supplier can
// challenge the decision first. Each regime counts it differently:
//
//   - Public Contracts Regulations 2015, regulation 87: when the decision
//     notices are sent by fax or electronic means (the portal always sends
//     them electronically), the period ends at midnight at the end of the
//     10th day after the day they were sent. Days are calendar days, but the
//     period may not end on a day that is not a working day: when the 10th
//     day is a Saturday, Sunday or bank holiday, it runs to midnight at the
//     end of the next working day (the rule regulation 87 carries over from
//     regulation 32A of the 2006 regulations, and the one practitioners'
//     regulation 87 calculators apply).
//   - Procurement Act 2023, section 51(2): the mandatory standstill period
//     is eight working days beginning with the day on which the contract
//     details (award) notice is published. "Beginning with" counts the day
//     of publication as day 1 when it is a working day; when it is not, the
//     first working day after it is day 1. The period ends at midnight at
//     the end of the 8th working day.
//
// A working day is Monday to Friday that is not a bank holiday in England
// and Wales (the Banking and Financial Dealings Act 1971 holidays, with
// their substitute days, as listed by github.com/rickar/cal/v2/gb: New
// Year's Day, Good Friday, Easter Monday, the early May, spring and summer
// bank holidays, Christmas Day and Boxing Day, plus the one-off holidays of
// 2020, 2022 and 2023 it knows about). Days and midnights are UK time
// (Europe/London), since that is where the notices are sent and read;
// results are returned in UTC.
package standstill

import (
	"time"

	"github.com/rickar/cal/v2/gb"

	"github.com/nhsprocure/portal/internal/uktime"
)

// Regimes, spelt as framework.RegimePCR2015 and framework.RegimePA2023 (the
// framework package imports this one, so the names are repeated here).
const (
	PCR2015 = "pcr2015"
	PA2023  = "pa2023"
)

// Lengths of the standstill periods.
const (
	PCR2015Days       = 10 // calendar days after the notices were sent
	PA2023WorkingDays = 8  // working days beginning with publication
)

// Known reports whether End knows how to count the regime's standstill.
func Known(regime string) bool { return regime == PCR2015 || regime == PA2023 }

// End is the moment the standstill ends (in UTC) when the decision notices
// were sent, or the award notice published, at from, under regime. The
// contract may be entered into from that moment. An unknown regime gives
// the zero time; check Known first.
func End(regime string, from time.Time) time.Time {
	d := ukDay(from)
	switch regime {
	case PCR2015:
		last := d.AddDate(0, 0, PCR2015Days)
		for !WorkingDay(last) {
			last = last.AddDate(0, 0, 1)
		}
		return midnightAfter(last)
	case PA2023:
		for !WorkingDay(d) {
			d = d.AddDate(0, 0, 1)
		}
		for n := 1; n < PA2023WorkingDays; {
			d = d.AddDate(0, 0, 1)
			if WorkingDay(d) {
				n++
			}
		}
		return midnightAfter(d)
	}
	return time.Time{}
}

// LastDay is the last whole day of a standstill ending at end (the UK date
// before the midnight End returns), for letters: "the standstill period
// ends at midnight at the end of Monday 29 December 2025".
func LastDay(end time.Time) time.Time {
	return ukDay(end.Add(-time.Nanosecond))
}

// WorkingDay reports whether the UK date of t is a working day: Monday to
// Friday and not a bank holiday in England and Wales.
func WorkingDay(t time.Time) bool {
	d := ukDay(t)
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !BankHoliday(d)
}

// BankHoliday reports whether the UK date of t is a bank holiday in England
// and Wales, counting substitute days (Boxing Day on a Saturday is taken on
// the Monday after, and so on) and not the weekend days they replace.
func BankHoliday(t time.Time) bool {
	y, m, day := ukDay(t).Date()
	for _, h := range gb.Holidays {
		// A substitute day may in principle fall in the year after the
		// holiday itself, so the year before is checked too.
		for _, year := range []int{y - 1, y} {
			_, observed := h.Calc(year)
			if observed.IsZero() {
				continue
			}
			if oy, om, od := observed.Date(); oy == y && om == m && od == day {
				return true
			}
		}
	}
	return false
}

// ukDay is midnight at the start of t's date in UK time.
func ukDay(t time.Time) time.Time {
	y, m, d := t.In(uktime.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, uktime.Location)
}

// midnightAfter is midnight at the end of day (a UK date), in UTC.
func midnightAfter(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, uktime.Location).UTC()
}
