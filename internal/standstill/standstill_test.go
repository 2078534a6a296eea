package standstill_test

import (
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/standstill"
	"github.com/nhsprocure/portal/internal/uktime"
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

// lastDay is a UK calendar date: the last whole day of a standstill.
type lastDay struct {
	y int
	m time.Month
	d int
}

// TestKnownDates2025To2027 walks both regimes across every Christmas,
// Easter and May bank holiday from 2025 to 2027. Each row names the UK date
// the standstill's last day falls on, counted by hand (the comment says
// how); the end must be midnight at the end of that day, UK time, which is
// 00:00 UTC in winter and 23:00 UTC the day before in summer. Day 0 of a
// PCR 2015 count is the day the notices were sent; day 1 of a PA 2023 count
// is the day of publication when it is a working day.
func TestKnownDates2025To2027(t *testing.T) {
	tests := []struct {
		regime string
		from   time.Time
		want   lastDay
	}{
		// --- Public Contracts Regulations 2015: 10 calendar days, the last
		// carried to the next working day. ---

		// Sent Tue 16 Dec 2025: day 10 is Fri 26 Dec (Boxing Day); Sat 27
		// and Sun 28 are the weekend; Mon 29 Dec is the next working day.
		{standstill.PCR2015, utc(2025, 12, 16, 10, 0), lastDay{2025, 12, 29}},
		// Sent Mon 22 Dec 2025: day 10 is Thu 1 Jan 2026 (New Year's Day);
		// Fri 2 Jan is a working day in England and Wales (only Scotland
		// has it off).
		{standstill.PCR2015, utc(2025, 12, 22, 10, 0), lastDay{2026, 1, 2}},
		// Sent on Christmas Day, Thu 25 Dec 2025: calendar days count from
		// any day, so day 10 is Sun 4 Jan 2026; next working day Mon 5 Jan.
		{standstill.PCR2015, utc(2025, 12, 25, 10, 0), lastDay{2026, 1, 5}},
		// Sent Fri 11 Apr 2025: day 10 is Mon 21 Apr (Easter Monday); Tue
		// 22 Apr is the next working day.
		{standstill.PCR2015, utc(2025, 4, 11, 9, 0), lastDay{2025, 4, 22}},
		// Sent Thu 17 Apr 2025 at 5pm BST: Good Friday and Easter Monday fall
		// inside the period and do not lengthen it; day 10 is Sun 27 Apr;
		// next working day Mon 28 Apr.
		{standstill.PCR2015, utc(2025, 4, 17, 16, 0), lastDay{2025, 4, 28}},
		// Sent Fri 16 May 2025: day 10 is Mon 26 May (spring bank holiday);
		// Tue 27 May is the next working day.
		{standstill.PCR2015, utc(2025, 5, 16, 11, 0), lastDay{2025, 5, 27}},
		// Sent Tue 15 Dec 2026: day 10 is Fri 25 Dec (Christmas Day); Sat 26
		// and Sun 27 are the weekend; Mon 28 is the Boxing Day substitute;
		// Tue 29 Dec is the next working day.
		{standstill.PCR2015, utc(2026, 12, 15, 10, 0), lastDay{2026, 12, 29}},
		// Sent Thu 17 Dec 2026: day 10 is Sun 27 Dec; Mon 28 is the Boxing
		// Day substitute; Tue 29 Dec.
		{standstill.PCR2015, utc(2026, 12, 17, 10, 0), lastDay{2026, 12, 29}},
		// Sent Tue 22 Dec 2026: day 10 is Fri 1 Jan 2027 (New Year's Day);
		// then the weekend; Mon 4 Jan 2027.
		{standstill.PCR2015, utc(2026, 12, 22, 10, 0), lastDay{2027, 1, 4}},
		// Sent Fri 27 Mar 2026 (GMT): day 10 is Mon 6 Apr (Easter Monday,
		// now BST); Tue 7 Apr.
		{standstill.PCR2015, utc(2026, 3, 27, 12, 0), lastDay{2026, 4, 7}},
		// Sent Fri 24 Apr 2026: day 10 is Mon 4 May (early May bank
		// holiday); Tue 5 May.
		{standstill.PCR2015, utc(2026, 4, 24, 12, 0), lastDay{2026, 5, 5}},
		// Sent at 00:30 BST on Wed 22 Apr 2026 (23:30 UTC on the 21st): the
		// UK date is the 22nd, so day 10 is Sat 2 May; Sun 3, then Mon 4
		// May (early May bank holiday); Tue 5 May. Counting from the UTC
		// date would wrongly end on Fri 1 May.
		{standstill.PCR2015, utc(2026, 4, 21, 23, 30), lastDay{2026, 5, 5}},
		// Sent on a Saturday, 23 May 2026: the spring bank holiday (Mon 25
		// May) falls inside the period and does not lengthen it; day 10 is
		// Tue 2 Jun, a working day.
		{standstill.PCR2015, utc(2026, 5, 23, 12, 0), lastDay{2026, 6, 2}},
		// Sent Wed 15 Dec 2027: day 10 is Sat 25 Dec; Sun 26; Mon 27 and Tue
		// 28 are the Christmas and Boxing Day substitutes; Wed 29 Dec.
		{standstill.PCR2015, utc(2027, 12, 15, 10, 0), lastDay{2027, 12, 29}},
		// Sent Thu 23 Dec 2027: day 10 is Sun 2 Jan 2028; Mon 3 Jan is the
		// New Year's Day substitute (1 Jan 2028 is a Saturday); Tue 4 Jan.
		{standstill.PCR2015, utc(2027, 12, 23, 10, 0), lastDay{2028, 1, 4}},
		// Sent Fri 19 Mar 2027 (GMT): day 10 is Mon 29 Mar (Easter Monday,
		// BST from Sun 28 Mar); Tue 30 Mar.
		{standstill.PCR2015, utc(2027, 3, 19, 12, 0), lastDay{2027, 3, 30}},
		// Sent Fri 23 Apr 2027: day 10 is Mon 3 May (early May bank
		// holiday); Tue 4 May.
		{standstill.PCR2015, utc(2027, 4, 23, 12, 0), lastDay{2027, 5, 4}},

		// --- Procurement Act 2023: 8 working days beginning with the day
		// of publication. ---

		// Published Fri 19 Dec 2025: Fri 19 (1), Mon 22 (2), Tue 23 (3), Wed
		// 24 (4); 25 and 26 Dec are bank holidays, then the weekend; Mon 29
		// (5), Tue 30 (6), Wed 31 (7); Thu 1 Jan is a bank holiday; Fri 2
		// Jan 2026 (8).
		{standstill.PA2023, utc(2025, 12, 19, 10, 0), lastDay{2026, 1, 2}},
		// Published on Christmas Day, Thu 25 Dec 2025: not a working day, so
		// day 1 is the next working day, Mon 29 Dec (Boxing Day and the
		// weekend skipped): 29 (1), 30 (2), 31 (3), Fri 2 Jan (4), Mon 5
		// (5), Tue 6 (6), Wed 7 (7), Thu 8 Jan 2026 (8).
		{standstill.PA2023, utc(2025, 12, 25, 10, 0), lastDay{2026, 1, 8}},
		// Published Mon 14 Apr 2025: 14 (1), 15 (2), 16 (3), 17 (4); Good
		// Friday, the weekend and Easter Monday skipped; Tue 22 (5), 23 (6),
		// 24 (7), Fri 25 Apr (8).
		{standstill.PA2023, utc(2025, 4, 14, 10, 0), lastDay{2025, 4, 25}},
		// Published Thu 22 May 2025 at 5pm BST: 22 (1), Fri 23 (2); the
		// weekend and the spring bank holiday (Mon 26) skipped; Tue 27 (3),
		// 28 (4), 29 (5), Fri 30 (6), Mon 2 Jun (7), Tue 3 Jun (8).
		{standstill.PA2023, utc(2025, 5, 22, 16, 0), lastDay{2025, 6, 3}},
		// Published Wed 23 Dec 2026: 23 (1), 24 (2); Christmas Day (Fri),
		// the weekend and the Boxing Day substitute (Mon 28) skipped; Tue 29
		// (3), 30 (4), 31 (5); New Year's Day (Fri) and the weekend skipped;
		// Mon 4 Jan (6), Tue 5 (7), Wed 6 Jan 2027 (8).
		{standstill.PA2023, utc(2026, 12, 23, 10, 0), lastDay{2027, 1, 6}},
		// Published on Boxing Day, Sat 26 Dec 2026: day 1 is the first
		// working day after it, Tue 29 Dec (Mon 28 is the substitute): 29
		// (1), 30 (2), 31 (3), Mon 4 Jan (4), 5 (5), 6 (6), 7 (7), Fri 8 Jan
		// 2027 (8).
		{standstill.PA2023, utc(2026, 12, 26, 10, 0), lastDay{2027, 1, 8}},
		// Published Wed 1 Apr 2026: 1 (1), 2 (2); Good Friday (3 Apr), the
		// weekend and Easter Monday (6 Apr) skipped; Tue 7 (3), 8 (4), 9
		// (5), Fri 10 (6), Mon 13 (7), Tue 14 Apr (8).
		{standstill.PA2023, utc(2026, 4, 1, 10, 0), lastDay{2026, 4, 14}},
		// Published Thu 30 Apr 2026: 30 (1), Fri 1 May (2); the weekend and
		// the early May bank holiday (Mon 4) skipped; Tue 5 (3), 6 (4), 7
		// (5), Fri 8 (6), Mon 11 (7), Tue 12 May (8).
		{standstill.PA2023, utc(2026, 4, 30, 10, 0), lastDay{2026, 5, 12}},
		// Published Mon 20 Dec 2027: 20 (1), 21 (2), 22 (3), 23 (4), Fri 24
		// (5); the weekend of Christmas and its two substitute days (Mon 27,
		// Tue 28) skipped; Wed 29 (6), Thu 30 (7), Fri 31 Dec (8).
		{standstill.PA2023, utc(2027, 12, 20, 10, 0), lastDay{2027, 12, 31}},
		// Published Thu 25 Mar 2027 (GMT): 25 (1); Good Friday (26 Mar), the
		// weekend (BST from the 28th) and Easter Monday (29 Mar) skipped;
		// Tue 30 (2), 31 (3), Thu 1 Apr (4), Fri 2 (5), Mon 5 (6), Tue 6
		// (7), Wed 7 Apr (8).
		{standstill.PA2023, utc(2027, 3, 25, 15, 0), lastDay{2027, 4, 7}},
		// Published on Easter Monday, 29 Mar 2027: day 1 is Tue 30 Mar; 30
		// (1), 31 (2), 1 Apr (3), 2 (4), Mon 5 (5), 6 (6), 7 (7), Thu 8 Apr
		// (8).
		{standstill.PA2023, utc(2027, 3, 29, 10, 0), lastDay{2027, 4, 8}},
		// Published Tue 25 May 2027: 25 (1), 26 (2), 27 (3), Fri 28 (4); the
		// weekend and the spring bank holiday (Mon 31) skipped; Tue 1 Jun
		// (5), 2 (6), 3 (7), Fri 4 Jun (8).
		{standstill.PA2023, utc(2027, 5, 25, 10, 0), lastDay{2027, 6, 4}},
		// Published at 00:30 BST on Sat 1 May 2027 (23:30 UTC on Fri 30
		// Apr): the UK date is a Saturday, so day 1 is Tue 4 May (Mon 3 May
		// is the early May bank holiday); 4 (1), 5 (2), 6 (3), Fri 7 (4),
		// Mon 10 (5), 11 (6), 12 (7), Thu 13 May (8). Counting from the UTC
		// date would wrongly end on Wed 12 May.
		{standstill.PA2023, utc(2027, 4, 30, 23, 30), lastDay{2027, 5, 13}},
	}
	for _, tt := range tests {
		name := tt.regime + " from " + tt.from.Format(time.RFC3339)
		t.Run(name, func(t *testing.T) {
			got := standstill.End(tt.regime, tt.from)
			want := time.Date(tt.want.y, tt.want.m, tt.want.d+1, 0, 0, 0, 0, uktime.Location).UTC()
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("End = %s (last day %s), want %s (last day %d-%02d-%02d)", got.Format(time.RFC3339),
					standstill.LastDay(got).Format("Mon 2006-01-02"), want.Format(time.RFC3339), tt.want.y, tt.want.m, tt.want.d)
			}
			if y, m, d := standstill.LastDay(got).Date(); y != tt.want.y || m != tt.want.m || d != tt.want.d {
				t.Fatalf("LastDay = %d-%02d-%02d, want %d-%02d-%02d", y, m, d, tt.want.y, tt.want.m, tt.want.d)
			}
			if !standstill.WorkingDay(standstill.LastDay(got)) {
				t.Fatalf("the last day %s is not a working day", standstill.LastDay(got).Format("Mon 2006-01-02"))
			}
		})
	}
}
