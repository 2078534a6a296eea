package exit

import (
	"fmt"
	"time"

	"github.com/nhsprocure/portal/internal/uktime"
)

// Assessment is a deployment's computed rating with its reason in words.
type Assessment struct {
	Rating string
	// Reason starts with the rating ("red: no procurement started, 9
	// months before expiry; EPR migration needs 12").
	Reason string
	Stage  string
	// MonthsLeft is the whole months from now to the national contract's
	// end (negative once it has ended).
	MonthsLeft int
	// ExpectedCutover is when the deployment could cut over, as the rules
	// work it out (the actual date once cut over).
	ExpectedCutover time.Time
	// Slack is the whole months between the expected cut-over and the
	// national contract's end (negative: after it).
	Slack int
}

// Rate computes a deployment's rating from its exit plan, the rules and
// the moment now. d.NationalContract must be loaded. The rules, in order:
//
//  1. Cut over: green.
//  2. The national contract has ended without a cut-over: red.
//  3. Migration has not started and the months left are fewer than the
//     system type's migration lead time: red, whatever else is done.
//  4. Migration has started with a cut-over planned after the contract
//     ends: red.
//  5. Otherwise the expected cut-over is worked out: the expected start of
//     migration (the actual start; or once signed, the planned start or
//     now; or once awarded, the planned signature or now; or once
//     procurement has started, its start plus the path's typical
//     duration, or the planned award if later; or before that, the
//     planned start, or now, plus the duration) plus the migration lead
//     time, or the planned cut-over once migration has started. Its slack
//     before the contract ends below Rules.RedBelow is red; below
//     Rules.AmberBelow amber.
//  6. An award expected after the national contract's 'procurement
//     complete by' date is at best amber.
//  7. No path chosen before procurement starts is at best amber.
//  8. Otherwise green.
func Rate(d Deployment, r Rules, now time.Time) Assessment {
	nc := d.NationalContract
	ends := nc.Ends()
	a := Assessment{Stage: d.Stage(), MonthsLeft: monthsBetween(now, ends)}
	migration := r.MigrationMonths[d.SystemType]
	system := SystemShort(d.SystemType)
	stage := stagePhrase(d)

	if d.CutoverActual != nil {
		a.ExpectedCutover = *d.CutoverActual
		a.Slack = monthsBetween(*d.CutoverActual, ends)
		return a.rated(Green, "cut over on %s", uktime.Date(*d.CutoverActual))
	}
	if !now.Before(ends) {
		a.ExpectedCutover = now
		a.Slack = monthsBetween(now, ends)
		return a.rated(Red, "%s; the national contract ended on %s and cut-over has not happened", stage, uktime.Date(nc.ExpiresOn))
	}
	if d.MigrationStartActual == nil && a.MonthsLeft < migration {
		a.ExpectedCutover = addMonths(now, migration)
		a.Slack = monthsBetween(a.ExpectedCutover, ends)
		return a.rated(Red, "%s, %s before expiry; %s migration needs %d", stage, months(a.MonthsLeft), system, migration)
	}

	award, migrationStart := expected(d, r, now)
	cutover := addMonths(migrationStart, migration)
	if d.MigrationStartActual != nil && d.CutoverPlan != nil {
		cutover = *d.CutoverPlan
	}
	a.ExpectedCutover = cutover
	a.Slack = monthsBetween(cutover, ends)

	if d.MigrationStartActual != nil && d.CutoverPlan != nil && !d.CutoverPlan.Before(ends) {
		return a.rated(Red, "%s, but cut-over is planned for %s, after the national contract ends on %s", stage, uktime.Date(*d.CutoverPlan), uktime.Date(nc.ExpiresOn))
	}
	because := expectation(d, r, award, cutover, ends)
	switch {
	case a.Slack < r.RedBelow:
		return a.rated(Red, "%s, %s before expiry; %s", stage, months(a.MonthsLeft), because)
	case a.Slack < r.AmberBelow:
		return a.rated(Amber, "%s, %s before expiry; %s, less than the %s the rules ask for", stage, months(a.MonthsLeft), because, months(r.AmberBelow))
	}
	if d.AwardActual == nil && nc.ProcurementCompleteBy != nil && award.After(dayEnd(*nc.ProcurementCompleteBy)) {
		return a.rated(Amber, "%s; award expected in %s, after %s, the date procurement should be complete by", stage, monthYear(award), uktime.Date(*nc.ProcurementCompleteBy))
	}
	if d.Path == PathNone && d.ProcurementStartActual == nil {
		return a.rated(Amber, "no exit path chosen, %s before expiry; %s", months(a.MonthsLeft), because)
	}
	return a.rated(Green, "%s, %s before expiry; %s", stage, months(a.MonthsLeft), because)
}

// rated sets the rating and its reason, prefixed with the rating.
func (a Assessment) rated(rating, format string, args ...any) Assessment {
	a.Rating = rating
	a.Reason = rating + ": " + fmt.Sprintf(format, args...)
	return a
}

// expected works out the expected award and the expected start of
// migration (rule 5 of Rate).
func expected(d Deployment, r Rules, now time.Time) (award, migrationStart time.Time) {
	later := func(t time.Time, plan *time.Time) time.Time {
		if plan != nil && plan.After(t) {
			return *plan
		}
		return t
	}
	duration := r.ProcurementMonths[d.Path]
	switch {
	case d.MigrationStartActual != nil:
		return *orNow(d.AwardActual, now), *d.MigrationStartActual
	case d.SignedActual != nil:
		return *orNow(d.AwardActual, *d.SignedActual), later(now, d.MigrationStartPlan)
	case d.AwardActual != nil:
		return *d.AwardActual, later(later(now, d.SignedPlan), d.MigrationStartPlan)
	case d.ProcurementStartActual != nil:
		award = later(later(addMonths(*d.ProcurementStartActual, duration), d.AwardPlan), &now)
	default:
		award = later(addMonths(later(now, d.ProcurementStartPlan), duration), d.AwardPlan)
	}
	return award, later(award, d.MigrationStartPlan)
}

// expectation says in words how the expected cut-over was worked out.
func expectation(d Deployment, r Rules, award, cutover, ends time.Time) string {
	system, migration := SystemShort(d.SystemType), r.MigrationMonths[d.SystemType]
	gap := monthsBetween(cutover, ends)
	leaves := fmt.Sprintf("leaving %s before expiry", months(gap))
	if gap < 0 {
		leaves = fmt.Sprintf("%s after expiry", months(-gap))
	}
	switch {
	case d.MigrationStartActual != nil:
		return fmt.Sprintf("cut-over expected in %s, %s", monthYear(cutover), leaves)
	case d.SignedActual != nil || d.AwardActual != nil:
		return fmt.Sprintf("%s migration needs %d, so cut-over expected in %s, %s", system, migration, monthYear(cutover), leaves)
	}
	return fmt.Sprintf("%s typically takes %s to award and %s migration needs %d, so cut-over expected in %s, %s",
		pathPhrase(d.Path), months(r.ProcurementMonths[d.Path]), system, migration, monthYear(cutover), leaves)
}

// stagePhrase says where the plan is, mid-sentence.
func stagePhrase(d Deployment) string {
	switch {
	case d.MigrationStartActual != nil:
		return "migration started on " + uktime.Date(*d.MigrationStartActual)
	case d.SignedActual != nil:
		return "contract signed on " + uktime.Date(*d.SignedActual)
	case d.AwardActual != nil:
		return "awarded on " + uktime.Date(*d.AwardActual)
	case d.ProcurementStartActual != nil:
		return "procurement started on " + uktime.Date(*d.ProcurementStartActual)
	}
	return "no procurement started"
}

func orNow(t *time.Time, now time.Time) *time.Time {
	if t != nil {
		return t
	}
	return &now
}

// months writes a number of months: "1 month", "9 months".
func months(n int) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d month", n)
	}
	return fmt.Sprintf("%d months", n)
}

// monthYear writes "March 2016".
func monthYear(t time.Time) string { return t.In(uktime.Location).Format("January 2006") }

// addMonths moves t on by n calendar months in UK time, to the end of a
// shorter month rather than into the next (31 January plus one month is
// 28 or 29 February).
func addMonths(t time.Time, n int) time.Time {
	l := t.In(uktime.Location)
	y, m, d := l.Date()
	first := time.Date(y, m+time.Month(n), 1, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), uktime.Location)
	if last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, uktime.Location).Day(); d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1).UTC()
}

// monthsBetween is the whole calendar months from a to b: positive when b
// is later, negative when earlier, rounded towards zero (1 March to 30
// April is 1 month; 30 April to 1 March is -1).
func monthsBetween(a, b time.Time) int {
	if b.Before(a) {
		return -monthsBetween(b, a)
	}
	la, lb := a.In(uktime.Location), b.In(uktime.Location)
	n := (lb.Year()-la.Year())*12 + int(lb.Month()-la.Month())
	if n > 0 && addMonths(a, n).After(b) {
		n--
	}
	return n
}
