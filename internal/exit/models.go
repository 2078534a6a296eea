// Package exit tracks how every trust leaves the national contracts: the
// national contracts and their expiry dates, the deployments each trust
// runs under them, each deployment's exit plan (the path chosen and its
// milestones), and the red/amber/green rating of the risk of missing the
// exit date.
//
// The rating is computed, never typed in: Rate works it out from the plan,
// the rules an administrator keeps (Rules) and the clock, with its reason
// in words, every time it is shown. Weekly snapshots (TakeSnapshot) keep
// the history, since the plan and the rules change.
package exit

import (
	"time"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
)

// System types of a deployment.
const (
	SystemPAS            = "pas"
	SystemEPR            = "epr"
	SystemClinicalPortal = "clinical_portal"
	SystemPACS           = "pacs"
	SystemTheatres       = "theatres"
	SystemHosting        = "hosting"
	SystemOther          = "other"
)

// SystemTypes lists the system types in the order pages show them.
var SystemTypes = []string{SystemPAS, SystemEPR, SystemClinicalPortal, SystemPACS, SystemTheatres, SystemHosting, SystemOther}

// SystemLabel is the name people read; SystemShort the one used mid-sentence
// in a rating's reason ("EPR migration needs 12").
func SystemLabel(t string) string {
	switch t {
	case SystemPAS:
		return "Patient administration (PAS)"
	case SystemEPR:
		return "Electronic patient record (EPR)"
	case SystemClinicalPortal:
		return "Clinical portal"
	case SystemPACS:
		return "Picture archiving (PACS)"
	case SystemTheatres:
		return "Theatres"
	case SystemHosting:
		return "Hosting"
	case SystemOther:
		return "Other"
	}
	return t
}

// SystemShort names a system type mid-sentence.
func SystemShort(t string) string {
	switch t {
	case SystemPAS:
		return "PAS"
	case SystemEPR:
		return "EPR"
	case SystemClinicalPortal:
		return "clinical portal"
	case SystemPACS:
		return "PACS"
	case SystemTheatres:
		return "theatres system"
	case SystemHosting:
		return "hosting"
	}
	return "system"
}

// Exit paths a trust may choose for a deployment. PathNone is the path of
// a deployment whose trust has not chosen yet.
const (
	PathNone      = ""
	PathCallOff   = "calloff"
	PathOpen      = "open"
	PathDirect    = "direct"
	PathExtension = "extension"
	PathOther     = "other"
)

// Paths lists the paths a trust may choose, in the order forms offer them.
var Paths = []string{PathCallOff, PathOpen, PathDirect, PathExtension, PathOther}

// PathLabel is the name people read.
func PathLabel(p string) string {
	switch p {
	case PathNone:
		return "Not chosen"
	case PathCallOff:
		return "Call-off from a framework in the portal"
	case PathOpen:
		return "Own open procurement"
	case PathDirect:
		return "Direct award"
	case PathExtension:
		return "Extension"
	case PathOther:
		return "Other"
	}
	return p
}

// pathPhrase names a path mid-sentence ("a call-off typically takes 4 months").
func pathPhrase(p string) string {
	switch p {
	case PathCallOff:
		return "a call-off"
	case PathOpen:
		return "an open procurement"
	case PathDirect:
		return "a direct award"
	case PathExtension:
		return "an extension"
	case PathOther:
		return "the chosen path"
	}
	return "a procurement with no path chosen"
}

// Ratings.
const (
	Red   = "red"
	Amber = "amber"
	Green = "green"
)

// Ratings lists the ratings, worst first.
var Ratings = []string{Red, Amber, Green}

// RatingLabel is the rating people read.
func RatingLabel(r string) string {
	switch r {
	case Red:
		return "Red"
	case Amber:
		return "Amber"
	case Green:
		return "Green"
	}
	return r
}

// Stages of an exit plan, derived from the actual dates recorded.
const (
	StageNotStarted  = "not_started"
	StageProcurement = "procurement"
	StageAwarded     = "awarded"
	StageSigned      = "signed"
	StageMigrating   = "migrating"
	StageMigrated    = "migrated"
)

// Stages lists the stages in order.
var Stages = []string{StageNotStarted, StageProcurement, StageAwarded, StageSigned, StageMigrating, StageMigrated}

// StageLabel is the stage people read.
func StageLabel(s string) string {
	switch s {
	case StageNotStarted:
		return "Not started"
	case StageProcurement:
		return "Procurement in progress"
	case StageAwarded:
		return "Awarded"
	case StageSigned:
		return "Contract signed"
	case StageMigrating:
		return "Migration in progress"
	case StageMigrated:
		return "Migrated (cut over)"
	}
	return s
}

// NationalContract is a national contract that ends: its supplier, the
// area it covers and its last day.
type NationalContract struct {
	ID           string
	Reference    string
	SupplierName string
	// Area is a region code of orgs.Regions.
	Area string
	// ExpiresOn is the contract's last day (midnight at its start in UK
	// time, held in UTC).
	ExpiresOn time.Time
	// ProcurementCompleteBy is the date by which the national body asks
	// trusts to have finished procurement (nil: none set).
	ProcurementCompleteBy *time.Time
	Version               int
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// AreaName is the area's name.
func (n NationalContract) AreaName() string { return orgs.RegionName(n.Area) }

// Ends is the moment the contract ends: midnight at the end of its last day.
func (n NationalContract) Ends() time.Time { return dayEnd(n.ExpiresOn) }

// Deployment is one system a trust runs under a national contract, with its
// exit plan.
type Deployment struct {
	ID                 string
	NationalContractID string
	NationalContract   NationalContract `gorm:"foreignKey:NationalContractID"`
	OrganisationID     string
	Organisation       orgs.Organisation `gorm:"foreignKey:OrganisationID"`
	SystemType         string
	Product            string
	// Path is the exit path chosen (PathNone until chosen).
	Path string
	// CompetitionID and ContractID link the portal's mini-competition and
	// the contract that replaces the national one (nil: none).
	CompetitionID *string
	ContractID    *string
	Milestones
	Notes     string
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Milestones are an exit plan's planned and actual dates (UK dates held as
// midnight at their start, in UTC; nil: not given).
type Milestones struct {
	ProcurementStartPlan   *time.Time
	ProcurementStartActual *time.Time
	AwardPlan              *time.Time
	AwardActual            *time.Time
	SignedPlan             *time.Time
	SignedActual           *time.Time
	MigrationStartPlan     *time.Time
	MigrationStartActual   *time.Time
	CutoverPlan            *time.Time
	CutoverActual          *time.Time
}

// Milestone kinds, as forms and the import name them.
const (
	MilestoneProcurementStart = "procurement_start"
	MilestoneAward            = "award"
	MilestoneSigned           = "signed"
	MilestoneMigrationStart   = "migration_start"
	MilestoneCutover          = "cutover"
)

// MilestoneKinds lists the milestones in the order they happen.
var MilestoneKinds = []string{MilestoneProcurementStart, MilestoneAward, MilestoneSigned, MilestoneMigrationStart, MilestoneCutover}

// MilestoneLabel is the milestone people read.
func MilestoneLabel(k string) string {
	switch k {
	case MilestoneProcurementStart:
		return "Procurement start"
	case MilestoneAward:
		return "Award"
	case MilestoneSigned:
		return "Contract signed"
	case MilestoneMigrationStart:
		return "Migration start"
	case MilestoneCutover:
		return "Cut-over"
	}
	return k
}

// Dates returns the planned and actual date fields of milestone kind, for
// reading and writing; ok is false for an unknown kind.
func (m *Milestones) Dates(kind string) (plan, actual **time.Time, ok bool) {
	switch kind {
	case MilestoneProcurementStart:
		return &m.ProcurementStartPlan, &m.ProcurementStartActual, true
	case MilestoneAward:
		return &m.AwardPlan, &m.AwardActual, true
	case MilestoneSigned:
		return &m.SignedPlan, &m.SignedActual, true
	case MilestoneMigrationStart:
		return &m.MigrationStartPlan, &m.MigrationStartActual, true
	case MilestoneCutover:
		return &m.CutoverPlan, &m.CutoverActual, true
	}
	return nil, nil, false
}

// Stage is where the plan is, from the actual dates recorded.
func (m Milestones) Stage() string {
	switch {
	case m.CutoverActual != nil:
		return StageMigrated
	case m.MigrationStartActual != nil:
		return StageMigrating
	case m.SignedActual != nil:
		return StageSigned
	case m.AwardActual != nil:
		return StageAwarded
	case m.ProcurementStartActual != nil:
		return StageProcurement
	}
	return StageNotStarted
}

// Name is how pages and messages name the deployment.
func (d Deployment) Name() string { return d.Product + " (" + SystemShort(d.SystemType) + ")" }

// utc makes the times read from the database UTC, whatever the engine's
// session time zone.
func (d *Deployment) utc() {
	for _, t := range []*time.Time{&d.CreatedAt, &d.UpdatedAt} {
		*t = t.UTC()
	}
	for _, k := range MilestoneKinds {
		plan, actual, _ := d.Dates(k)
		for _, t := range []**time.Time{plan, actual} {
			if *t != nil {
				u := (**t).UTC()
				*t = &u
			}
		}
	}
	d.NationalContract.utc()
}

func (n *NationalContract) utc() {
	for _, t := range []*time.Time{&n.ExpiresOn, &n.CreatedAt, &n.UpdatedAt} {
		*t = t.UTC()
	}
	if n.ProcurementCompleteBy != nil {
		u := n.ProcurementCompleteBy.UTC()
		n.ProcurementCompleteBy = &u
	}
}

// Day is midnight at the start of t's UK date, in UTC: how the tracker
// holds dates, whatever time of day a caller passes.
func Day(t time.Time) time.Time {
	y, m, d := t.In(uktime.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, uktime.Location).UTC()
}

// dayEnd is midnight at the end of day's UK date.
func dayEnd(day time.Time) time.Time {
	y, m, d := day.In(uktime.Location).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, uktime.Location).UTC()
}
