package standstill_test

import (
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/standstill"
)

// utc is a moment in UTC. Midnight UK time is 00:00 UTC in winter (GMT)
// and 23:00 UTC the day before in summer (BST).
func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// Every expected end below was worked out by hand from the England and
// Wales bank holidays: 2025: 1 Jan, 18 and 21 Apr, 5 and 26 May, 25 Aug,
// 25 and 26 Dec; 2026: 1 Jan, 3 and 6 Apr, 4 and 25 May, 31 Aug, 25 and
// 28 Dec; 2027: 1 Jan, 26 and 29 Mar, 3 and 31 May, 30 Aug, 27 and 28 Dec;
// 2028: 3 Jan.

func TestPCR2015(t *testing.T) {
	tests := []struct {
		name string
		sent time.Time
		want time.Time
	}{
		{"10th day a plain Friday", utc(2025, 6, 3, 10, 0), utc(2025, 6, 13, 23, 0)},
		{"sent after midnight UK time, before it in UTC", utc(2025, 6, 30, 23, 30), utc(2025, 7, 11, 23, 0)},
		{"10th day the Sunday the clocks go forward: Monday", utc(2025, 3, 20, 15, 0), utc(2025, 3, 31, 23, 0)},
		{"10th day Good Friday 2025: Tuesday after Easter Monday", utc(2025, 4, 8, 9, 0), utc(2025, 4, 22, 23, 0)},
		{"10th day early May bank holiday 2025", utc(2025, 4, 25, 16, 0), utc(2025, 5, 6, 23, 0)},
		{"10th day Christmas Day 2025: past Boxing Day and the weekend", utc(2025, 12, 15, 11, 0), utc(2025, 12, 30, 0, 0)},
		{"10th day Good Friday 2026", utc(2026, 3, 24, 12, 0), utc(2026, 4, 7, 23, 0)},
		{"10th day spring bank holiday 2026", utc(2026, 5, 15, 12, 0), utc(2026, 5, 26, 23, 0)},
		{"10th day summer bank holiday 2026", utc(2026, 8, 21, 12, 0), utc(2026, 9, 1, 23, 0)},
		{"10th day Boxing Day 2026, a Saturday, substitute Monday 28th", utc(2026, 12, 16, 12, 0), utc(2026, 12, 30, 0, 0)},
		{"sent on New Year's Day 2027: calendar days still count", utc(2027, 1, 1, 12, 0), utc(2027, 1, 12, 0, 0)},
		{"10th day Good Friday 2027, clocks forward on Easter Sunday", utc(2027, 3, 16, 12, 0), utc(2027, 3, 30, 23, 0)},
		{"10th day spring bank holiday 2027", utc(2027, 5, 21, 12, 0), utc(2027, 6, 1, 23, 0)},
		{"10th day the Christmas substitute Monday 2027: Wednesday", utc(2027, 12, 17, 12, 0), utc(2027, 12, 30, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := standstill.End(standstill.PCR2015, tt.sent)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("End(pcr2015, %s) = %s, want %s", tt.sent.Format(time.RFC3339), got.Format(time.RFC3339), tt.want.Format(time.RFC3339))
			}
		})
	}
}

func TestPA2023(t *testing.T) {
	tests := []struct {
		name      string
		published time.Time
		want      time.Time
	}{
		{"over Christmas and New Year 2025", utc(2025, 12, 22, 10, 0), utc(2026, 1, 6, 0, 0)},
		{"over Easter 2025", utc(2025, 4, 17, 10, 0), utc(2025, 4, 30, 23, 0)},
		{"published on a Saturday: Monday is day 1, early May skipped", utc(2025, 4, 26, 10, 0), utc(2025, 5, 8, 23, 0)},
		{"published in the first minutes of the summer bank holiday 2025 (UK time)", utc(2025, 8, 24, 23, 30), utc(2025, 9, 4, 23, 0)},
		{"published on Good Friday 2026: Tuesday is day 1", utc(2026, 4, 3, 10, 0), utc(2026, 4, 16, 23, 0)},
		{"over the spring bank holiday 2026", utc(2026, 5, 20, 10, 0), utc(2026, 6, 1, 23, 0)},
		{"over Christmas 2026 with the Boxing Day substitute", utc(2026, 12, 21, 10, 0), utc(2027, 1, 5, 0, 0)},
		{"over Easter 2027", utc(2027, 3, 23, 10, 0), utc(2027, 4, 5, 23, 0)},
		{"over the early May bank holiday 2027", utc(2027, 4, 28, 10, 0), utc(2027, 5, 10, 23, 0)},
		{"over the spring bank holiday 2027", utc(2027, 5, 27, 10, 0), utc(2027, 6, 8, 23, 0)},
		{"over Christmas 2027 and New Year 2028, three substitute days", utc(2027, 12, 23, 10, 0), utc(2028, 1, 7, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := standstill.End(standstill.PA2023, tt.published)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("End(pa2023, %s) = %s, want %s", tt.published.Format(time.RFC3339), got.Format(time.RFC3339), tt.want.Format(time.RFC3339))
			}
		})
	}
}

func TestBankHolidaysOfEnglandAndWales(t *testing.T) {
	holidays := map[int][]string{
		2025: {"01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"},
		2026: {"01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"},
		2027: {"01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"},
	}
	for year, days := range holidays {
		want := map[string]bool{}
		for _, d := range days {
			want[d] = true
		}
		got := 0
		for d := time.Date(year, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
			key := d.Format("01-02")
			if standstill.BankHoliday(d) != want[key] {
				t.Errorf("BankHoliday(%s) = %v, want %v", d.Format("2006-01-02"), !want[key], want[key])
			}
			if standstill.BankHoliday(d) {
				got++
			}
			wd := d.Weekday()
			if working := wd != time.Saturday && wd != time.Sunday && !want[key]; standstill.WorkingDay(d) != working {
				t.Errorf("WorkingDay(%s) = %v, want %v", d.Format("Mon 2006-01-02"), !working, working)
			}
		}
		if got != len(days) {
			t.Errorf("%d: %d bank holidays, want %d", year, got, len(days))
		}
	}
	// Scotland's and Northern Ireland's holidays do not count.
	for _, d := range []time.Time{utc(2026, 1, 2, 12, 0), utc(2026, 8, 3, 12, 0), utc(2026, 11, 30, 12, 0), utc(2026, 3, 17, 12, 0), utc(2026, 7, 13, 12, 0)} {
		if !standstill.WorkingDay(d) {
			t.Errorf("%s is a working day in England and Wales", d.Format("Mon 2 Jan 2006"))
		}
	}
}

func TestUnknownRegimeAndLastDay(t *testing.T) {
	if standstill.Known("gpa") || !standstill.End("gpa", utc(2026, 1, 5, 0, 0)).IsZero() {
		t.Fatal("an unknown regime has a standstill")
	}
	if !standstill.Known(standstill.PCR2015) || !standstill.Known(standstill.PA2023) {
		t.Fatal("the portal's regimes are not known")
	}
	end := standstill.End(standstill.PCR2015, utc(2025, 12, 15, 11, 0))
	if got := standstill.LastDay(end).Format("Monday 2 January 2006"); got != "Monday 29 December 2025" {
		t.Fatalf("last day %s", got)
	}
	summer := standstill.End(standstill.PCR2015, utc(2025, 6, 3, 10, 0))
	if got := standstill.LastDay(summer).Format("Monday 2 January 2006"); got != "Friday 13 June 2025" {
		t.Fatalf("last day in summer time %s", got)
	}
}
