package exit

import (
	"fmt"
	"sort"
)

// Rule kinds, as the exit_rules table names them.
const (
	ruleMigration   = "migration"
	ruleProcurement = "procurement"
	ruleThreshold   = "threshold"
)

// Rules are what a rating is computed from, kept by platform
// administrators. The rating works out when a deployment could cut over
// (the expected start of its migration plus the migration's lead time) and
// how many months that leaves before the national contract ends: its
// slack.
type Rules struct {
	// MigrationMonths is how long migrating each system type takes, from
	// the contract being signed to cut-over.
	MigrationMonths map[string]int
	// ProcurementMonths is how long each path typically takes from the
	// start of procurement to award; PathNone's is assumed while no path
	// has been chosen.
	ProcurementMonths map[string]int
	// RedBelow and AmberBelow are the thresholds of slack, in months: a
	// deployment with less slack than RedBelow is red; with less than
	// AmberBelow, amber; otherwise green.
	RedBelow, AmberBelow int
}

// Limits of the rules' months, so a typing slip is caught.
const (
	MaxMigrationMonths   = 60
	MaxProcurementMonths = 36
	MinThreshold         = -24
	MaxThreshold         = 36
)

// DefaultRules are the rules before an administrator changes them: lead
// times from the national programme's guidance on the last exits (an EPR
// takes a year to migrate; a call-off from a framework a quarter to award,
// an open procurement nine months).
func DefaultRules() Rules {
	return Rules{
		MigrationMonths: map[string]int{
			SystemPAS: 9, SystemEPR: 12, SystemClinicalPortal: 6, SystemPACS: 9,
			SystemTheatres: 6, SystemHosting: 6, SystemOther: 6,
		},
		ProcurementMonths: map[string]int{
			PathNone: 9, PathCallOff: 3, PathOpen: 9, PathDirect: 2, PathExtension: 1, PathOther: 6,
		},
		RedBelow:   0,
		AmberBelow: 3,
	}
}

// Field names of rule errors, as the rules form names its fields.
func migrationField(systemType string) string { return "migration_" + systemType }
func procurementField(path string) string {
	if path == PathNone {
		return "procurement_none"
	}
	return "procurement_" + path
}

// Field names of the thresholds.
const (
	FieldRedBelow   = "red_below"
	FieldAmberBelow = "amber_below"
)

// MigrationField and ProcurementField name the rules form's fields.
var (
	MigrationField   = migrationField
	ProcurementField = procurementField
)

// check finds what is wrong with the rules on their own: a lead time
// missing or out of range, and thresholds that contradict each other.
func (r Rules) check(add func(field, message string)) {
	for _, t := range SystemTypes {
		m, ok := r.MigrationMonths[t]
		if !ok || m < 1 || m > MaxMigrationMonths {
			add(migrationField(t), fmt.Sprintf("Enter how many months %s migration takes, from 1 to %d", SystemShort(t), MaxMigrationMonths))
		}
	}
	for _, p := range append([]string{PathNone}, Paths...) {
		m, ok := r.ProcurementMonths[p]
		if !ok || m < 0 || m > MaxProcurementMonths {
			add(procurementField(p), fmt.Sprintf("Enter how many months %s typically takes, from 0 to %d", pathPhrase(p), MaxProcurementMonths))
		}
	}
	redOK := r.RedBelow >= MinThreshold && r.RedBelow <= MaxThreshold
	amberOK := r.AmberBelow >= MinThreshold && r.AmberBelow <= MaxThreshold
	if !redOK {
		add(FieldRedBelow, fmt.Sprintf("Enter the red threshold as a number of months from %d to %d", MinThreshold, MaxThreshold))
	}
	if !amberOK {
		add(FieldAmberBelow, fmt.Sprintf("Enter the amber threshold as a number of months from %d to %d", MinThreshold, MaxThreshold))
	}
	if redOK && amberOK && r.RedBelow >= r.AmberBelow {
		add(FieldAmberBelow, fmt.Sprintf("The amber threshold (%d months) must be more than the red threshold (%d months), or nothing could be amber", r.AmberBelow, r.RedBelow))
	}
}

// clone copies the rules so a change does not alter the original's maps.
func (r Rules) clone() Rules {
	c := r
	c.MigrationMonths = make(map[string]int, len(r.MigrationMonths))
	for k, v := range r.MigrationMonths {
		c.MigrationMonths[k] = v
	}
	c.ProcurementMonths = make(map[string]int, len(r.ProcurementMonths))
	for k, v := range r.ProcurementMonths {
		c.ProcurementMonths[k] = v
	}
	return c
}

// rows are the rules as exit_rules rows: (kind, name) -> months.
func (r Rules) rows() map[[2]string]int {
	out := map[[2]string]int{
		{ruleThreshold, Red}:   r.RedBelow,
		{ruleThreshold, Amber}: r.AmberBelow,
	}
	for k, v := range r.MigrationMonths {
		out[[2]string{ruleMigration, k}] = v
	}
	for k, v := range r.ProcurementMonths {
		out[[2]string{ruleProcurement, k}] = v
	}
	return out
}

// set applies one stored row to the rules; unknown rows are ignored.
func (r *Rules) set(kind, name string, months int) {
	switch kind {
	case ruleMigration:
		r.MigrationMonths[name] = months
	case ruleProcurement:
		r.ProcurementMonths[name] = months
	case ruleThreshold:
		switch name {
		case Red:
			r.RedBelow = months
		case Amber:
			r.AmberBelow = months
		}
	}
}

// changes lists, in a stable order, each rule whose months differ between
// old and new, as "kind/name" -> [old, new], for the audit entry.
func changes(old, new Rules) map[string][2]int {
	o, n := old.rows(), new.rows()
	keys := make([][2]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	out := map[string][2]int{}
	for _, k := range keys {
		if o[k] != n[k] {
			out[k[0]+"/"+k[1]] = [2]int{o[k], n[k]}
		}
	}
	return out
}
