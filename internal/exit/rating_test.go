package exit

import (
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/uktime"
)

// ukDay is midnight at the start of a UK date, in UTC.
func ukDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, uktime.Location).UTC()
}

func at(y int, m time.Month, d int) *time.Time { t := ukDay(y, m, d); return &t }

// TestRate walks every rule of Rate with the reason it gives, for a
// national contract whose last day is 31 July 2016 ('procurement complete
// by' 31 December 2015) and the default rules (EPR 12 months, PAS 9; a
// call-off 3 months, an open procurement 9, no path assumed 9; red below
// 0 months of slack, amber below 3).
func TestRate(t *testing.T) {
	nc := NationalContract{Reference: "LSP-NME", ExpiresOn: ukDay(2016, time.July, 31), ProcurementCompleteBy: at(2015, time.December, 31)}
	rules := DefaultRules()
	noon := func(y int, m time.Month, d int) time.Time { return ukDay(y, m, d).Add(12 * time.Hour) }
	cases := []struct {
		name string
		// completeBy replaces the national contract's 'procurement
		// complete by' date when set.
		completeBy *time.Time
		system     string
		path       string
		m          Milestones
		now        time.Time
		rating     string
		reason     string
		stage      string
	}{
		{
			name: "cut over", system: SystemEPR, path: PathCallOff,
			m:   Milestones{ProcurementStartActual: at(2015, 1, 5), AwardActual: at(2015, 4, 1), SignedActual: at(2015, 4, 20), MigrationStartActual: at(2015, 5, 1), CutoverActual: at(2016, 3, 6)},
			now: noon(2016, 4, 1), rating: Green, stage: StageMigrated,
			reason: "green: cut over on 6 March 2016",
		},
		{
			name: "national contract ended", system: SystemPAS, path: PathOpen,
			m:   Milestones{ProcurementStartActual: at(2015, 1, 5)},
			now: noon(2016, 8, 1), rating: Red, stage: StageProcurement,
			reason: "red: procurement started on 5 January 2015; the national contract ended on 31 July 2016 and cut-over has not happened",
		},
		{
			name: "migration alone does not fit", system: SystemEPR, path: PathNone,
			now: noon(2015, 10, 15), rating: Red, stage: StageNotStarted,
			reason: "red: no procurement started, 9 months before expiry; EPR migration needs 12",
		},
		{
			name: "signed but migration does not fit", system: SystemEPR, path: PathCallOff,
			m:   Milestones{ProcurementStartActual: at(2015, 6, 1), AwardActual: at(2015, 9, 1), SignedActual: at(2015, 10, 1)},
			now: noon(2015, 10, 15), rating: Red, stage: StageSigned,
			reason: "red: contract signed on 1 October 2015, 9 months before expiry; EPR migration needs 12",
		},
		{
			name: "migration started, cut-over planned after expiry", system: SystemPAS, path: PathCallOff,
			m:   Milestones{ProcurementStartActual: at(2015, 1, 5), AwardActual: at(2015, 4, 1), SignedActual: at(2015, 5, 1), MigrationStartActual: at(2015, 6, 1), CutoverPlan: at(2016, 9, 1)},
			now: noon(2015, 10, 15), rating: Red, stage: StageMigrating,
			reason: "red: migration started on 1 June 2015, but cut-over is planned for 1 September 2016, after the national contract ends on 31 July 2016",
		},
		{
			name: "migration started, cut-over planned in time", system: SystemPAS, path: PathCallOff,
			m:   Milestones{ProcurementStartActual: at(2015, 1, 5), AwardActual: at(2015, 4, 1), SignedActual: at(2015, 5, 1), MigrationStartActual: at(2015, 6, 1), CutoverPlan: at(2016, 3, 1)},
			now: noon(2015, 10, 15), rating: Green, stage: StageMigrating,
			reason: "green: migration started on 1 June 2015, 9 months before expiry; cut-over expected in March 2016, leaving 5 months before expiry",
		},
		{
			name: "procurement would finish too late", system: SystemPAS, path: PathOpen,
			m:   Milestones{ProcurementStartActual: at(2015, 3, 1)},
			now: noon(2015, 6, 15), rating: Red, stage: StageProcurement,
			reason: "red: procurement started on 1 March 2015, 13 months before expiry; an open procurement typically takes 9 months to award and PAS migration needs 9, so cut-over expected in September 2016, 1 month after expiry",
		},
		{
			name: "little slack", system: SystemPAS, path: PathCallOff,
			m:   Milestones{ProcurementStartActual: at(2015, 6, 1)},
			now: noon(2015, 7, 15), rating: Amber, stage: StageProcurement,
			reason: "amber: procurement started on 1 June 2015, 12 months before expiry; a call-off typically takes 3 months to award and PAS migration needs 9, so cut-over expected in June 2016, leaving 2 months before expiry, less than the 3 months the rules ask for",
		},
		{
			name: "award after the procurement complete by date", system: SystemTheatres, path: PathCallOff, completeBy: at(2015, 9, 30),
			m:   Milestones{ProcurementStartActual: at(2015, 1, 5), AwardPlan: at(2015, 10, 15)},
			now: noon(2015, 1, 10), rating: Amber, stage: StageProcurement,
			reason: "amber: procurement started on 5 January 2015; award expected in October 2015, after 30 September 2015, the date procurement should be complete by",
		},
		{
			name: "no path chosen", system: SystemClinicalPortal, path: PathNone,
			now: noon(2014, 6, 1), rating: Amber, stage: StageNotStarted,
			reason: "amber: no exit path chosen, 25 months before expiry; a procurement with no path chosen typically takes 9 months to award and clinical portal migration needs 6, so cut-over expected in September 2015, leaving 10 months before expiry",
		},
		{
			name: "on track", system: SystemEPR, path: PathCallOff,
			m:   Milestones{ProcurementStartActual: at(2014, 9, 1)},
			now: noon(2014, 10, 1), rating: Green, stage: StageProcurement,
			reason: "green: procurement started on 1 September 2014, 21 months before expiry; a call-off typically takes 3 months to award and EPR migration needs 12, so cut-over expected in December 2015, leaving 8 months before expiry",
		},
		{
			name: "awarded, planned signature counts", system: SystemPAS, path: PathDirect,
			m:   Milestones{ProcurementStartActual: at(2015, 1, 5), AwardActual: at(2015, 2, 1), SignedPlan: at(2015, 8, 15)},
			now: noon(2015, 3, 1), rating: Amber, stage: StageAwarded,
			reason: "amber: awarded on 1 February 2015, 16 months before expiry; PAS migration needs 9, so cut-over expected in May 2016, leaving 2 months before expiry, less than the 3 months the rules ask for",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nc := nc
			if c.completeBy != nil {
				nc.ProcurementCompleteBy = c.completeBy
			}
			d := Deployment{NationalContract: nc, SystemType: c.system, Path: c.path, Milestones: c.m, Product: "Lorenzo"}
			a := Rate(d, rules, c.now)
			if a.Rating != c.rating || a.Reason != c.reason || a.Stage != c.stage {
				t.Errorf("Rate = %s (%s)\n  %q\nwant %s (%s)\n  %q", a.Rating, a.Stage, a.Reason, c.rating, c.stage, c.reason)
			}
			if !strings.HasPrefix(a.Reason, a.Rating+": ") {
				t.Errorf("reason %q does not start with its rating", a.Reason)
			}
		})
	}
}

// TestRateFollowsTheRules: the same plan changes rating when an
// administrator changes the rules.
func TestRateFollowsTheRules(t *testing.T) {
	nc := NationalContract{ExpiresOn: ukDay(2016, time.July, 31)}
	d := Deployment{NationalContract: nc, SystemType: SystemPAS, Path: PathCallOff, Milestones: Milestones{ProcurementStartActual: at(2015, 6, 1)}}
	now := ukDay(2015, 7, 15)
	r := DefaultRules()
	if got := Rate(d, r, now).Rating; got != Amber {
		t.Fatalf("default rules: %s, want amber", got)
	}
	r = r.clone()
	r.AmberBelow = 1
	if got := Rate(d, r, now).Rating; got != Green {
		t.Errorf("amber below 1 month: %s, want green", got)
	}
	r.MigrationMonths[SystemPAS] = 12
	if got := Rate(d, r, now).Rating; got != Red {
		t.Errorf("PAS migration 12 months: %s, want red", got)
	}
}

// TestRulesCheck: out-of-range months and contradicting thresholds are
// each named against their field.
func TestRulesCheck(t *testing.T) {
	bad := DefaultRules().clone()
	bad.MigrationMonths[SystemEPR] = 0
	delete(bad.ProcurementMonths, PathOpen)
	bad.RedBelow, bad.AmberBelow = 3, 2
	got := map[string]string{}
	bad.check(func(f, m string) { got[f] = m })
	want := map[string]string{
		"migration_epr":    "Enter how many months EPR migration takes, from 1 to 60",
		"procurement_open": "Enter how many months an open procurement typically takes, from 0 to 36",
		FieldAmberBelow:    "The amber threshold (2 months) must be more than the red threshold (3 months), or nothing could be amber",
	}
	if len(got) != len(want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	for f, m := range want {
		if got[f] != m {
			t.Errorf("%s: %q, want %q", f, got[f], m)
		}
	}
	var none []string
	DefaultRules().check(func(f, m string) { none = append(none, f+": "+m) })
	if len(none) != 0 {
		t.Errorf("default rules refused: %v", none)
	}
}

// TestMonthsBetween: whole calendar months, towards zero, in UK time.
func TestMonthsBetween(t *testing.T) {
	cases := []struct {
		a, b time.Time
		want int
	}{
		{ukDay(2015, 3, 1), ukDay(2015, 4, 30), 1},
		{ukDay(2015, 3, 1), ukDay(2015, 5, 1), 2},
		{ukDay(2015, 4, 30), ukDay(2015, 3, 1), -1},
		{ukDay(2015, 1, 31), ukDay(2015, 2, 28), 1},
		{ukDay(2015, 1, 31), ukDay(2015, 2, 27), 0},
		{ukDay(2015, 6, 1), ukDay(2015, 6, 1), 0},
	}
	for _, c := range cases {
		if got := monthsBetween(c.a, c.b); got != c.want {
			t.Errorf("monthsBetween(%s, %s) = %d, want %d", uktime.Date(c.a), uktime.Date(c.b), got, c.want)
		}
	}
	if got := addMonths(ukDay(2016, 1, 31), 1); !got.Equal(ukDay(2016, 2, 29)) {
		t.Errorf("31 January 2016 + 1 month = %s, want 29 February 2016", uktime.Date(got))
	}
}
