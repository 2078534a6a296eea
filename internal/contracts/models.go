// Package contracts holds the contracts made from confirmed awards: one per
// buying trust of a mini-competition, between that trust and the winning
// supplier, with its value, term, extension options, documents and
// signature date, and what it replaces (the national contract and its
// deployments, as text until the exit tracker links them).
//
// The award package makes the contracts (CreateFromAward) in the
// transaction that confirms the award; from then on each belongs to its
// buying trust, whose trust leads complete and sign it (Update, Sign,
// AttachDocument), exercise its extensions (ExerciseExtension) or
// terminate it (Terminate). As everywhere in the portal, only what people
// decide is stored (pending, terminated); whether a contract is active or
// expired comes from the clock through State, so no job has to flip it at
// midnight.
package contracts

import (
	"time"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
)

// Stored statuses: what people decide.
const (
	StatusPending    = "pending"
	StatusTerminated = "terminated"
)

// States a contract is seen in, derived from its status, signature, dates
// and the clock.
const (
	// StatePending: not yet signed, or signed but not yet started.
	StatePending = "pending"
	// StateActive: signed, and the start date has come.
	StateActive = "active"
	// StateExpired: the end date (with any extension exercised) has passed.
	StateExpired    = "expired"
	StateTerminated = "terminated"
)

// StateLabel is the state people read.
func StateLabel(s string) string {
	switch s {
	case StatePending:
		return "Pending"
	case StateActive:
		return "Active"
	case StateExpired:
		return "Expired"
	case StateTerminated:
		return "Terminated"
	}
	return s
}

// MaxExtensionMonths is the longest total extension a contract may allow:
// ten years, far beyond any NHS clinical IT contract's options, so only a
// typing slip is refused.
const MaxExtensionMonths = 120

// Contract is a buying trust's contract with the winning supplier of a
// mini-competition.
type Contract struct {
	ID            string
	CompetitionID string
	// OrganisationID is the buying trust: only its trust leads may change
	// the contract.
	OrganisationID string
	Organisation   orgs.Organisation `gorm:"foreignKey:OrganisationID"`
	SupplierOrgID  string
	Supplier       orgs.Organisation `gorm:"foreignKey:SupplierOrgID"`
	// Reference is the competition's reference and the trust's ODS code
	// ("SWL-EPR-001-RJ7"), unique across the portal.
	Reference  string
	Title      string
	ValuePence int64
	// StartDate and EndDate are dates: midnight at the start of the day in
	// UK time (held in UTC). The contract runs from the start of StartDate
	// to the end of EndDate, plus ExtendedMonths.
	StartDate time.Time
	EndDate   time.Time
	// ExtensionOptions describes the options in words ("two optional
	// extensions of 12 months each"); MaxExtensionMonths is their total,
	// and ExtendedMonths how much of it has been exercised.
	ExtensionOptions   string
	MaxExtensionMonths int
	ExtendedMonths     int
	// SignedAt is the signature date (a date, as StartDate); nil until
	// signed.
	SignedAt          *time.Time
	Status            string
	TerminatedAt      *time.Time
	TerminationReason string
	// NationalContractRef names the national contract this one replaces
	// (nil when none); DeploymentsNote describes the deployments it
	// replaces. The exit tracker links both to its own records.
	NationalContractRef *string
	DeploymentsNote     string
	CreatedBy           string
	Version             int
	CreatedAt           time.Time
	UpdatedAt           time.Time
	// Documents are filled in by Service.Contract only.
	Documents []Document `gorm:"-"`
}

// Document is a document of a contract, from the buying trust's library.
type Document struct {
	ContractID string
	DocumentID string
	AddedAt    time.Time
	AddedBy    string
	// Name is the document's file name (read from the documents store).
	Name string `gorm:"-"`
}

// TableName tells GORM where contract documents live.
func (Document) TableName() string { return "contract_documents" }

// State derives where the contract is at now: terminated once terminated;
// expired from midnight at the end of its last day (extensions included);
// active once signed and its start date has come; pending before that.
// A contract never signed still expires at its end: it can no longer
// start.
func (c Contract) State(now time.Time) string {
	switch {
	case c.Status == StatusTerminated:
		return StateTerminated
	case !now.Before(c.Expires()):
		return StateExpired
	case c.SignedAt != nil && !now.Before(c.StartDate):
		return StateActive
	}
	return StatePending
}

// Expires is the moment the contract ends: midnight at the end of EndDate
// in UK time, moved on by the months of extension exercised. A month of
// extension is a calendar month from the end: to the end of 31 May 2032
// extended by 12 months runs to the end of 31 May 2033; to the end of 31
// August extended by 6 months, to the end of February.
func (c Contract) Expires() time.Time { return expiry(c.EndDate, c.ExtendedMonths) }

// LastDay is the contract's last day, extensions included, as a UK date.
func (c Contract) LastDay() time.Time { return ukDate(c.Expires().Add(-time.Nanosecond)) }

// Name is how messages name the contract.
func (c Contract) Name() string { return c.Reference + " " + c.Title }

// Signed reports whether the signature date has been recorded.
func (c Contract) Signed() bool { return c.SignedAt != nil }

// ExtensionLeft is how many months of extension may still be exercised.
func (c Contract) ExtensionLeft() int { return c.MaxExtensionMonths - c.ExtendedMonths }

// utc makes the times read from the database UTC, whatever the engine's
// session time zone.
func (c *Contract) utc() {
	for _, t := range []*time.Time{&c.StartDate, &c.EndDate, &c.CreatedAt, &c.UpdatedAt} {
		*t = t.UTC()
	}
	for _, t := range []**time.Time{&c.SignedAt, &c.TerminatedAt} {
		if *t != nil {
			u := (**t).UTC()
			*t = &u
		}
	}
}

// expiry is midnight at the end of the UK date end, moved on by months
// calendar months: the extension starts the day after end and runs to the
// same day of the month months later, or to the end of a shorter month (an
// extension starting on 31 January for one month runs to the end of
// February, not into March).
func expiry(end time.Time, months int) time.Time {
	y, m, d := end.In(uktime.Location).Date()
	from := time.Date(y, m, d+1, 0, 0, 0, 0, uktime.Location)
	if months == 0 {
		return from.UTC()
	}
	fy, fm, fd := from.Date()
	month := time.Date(fy, fm+time.Month(months), 1, 0, 0, 0, 0, uktime.Location)
	if days := time.Date(month.Year(), month.Month()+1, 0, 0, 0, 0, 0, uktime.Location).Day(); fd > days {
		return month.AddDate(0, 1, 0).UTC()
	}
	return month.AddDate(0, 0, fd-1).UTC()
}

// ukDate is midnight at the start of t's date in UK time, in UTC: how the
// contract's dates are held, whatever time of day a caller passes.
func ukDate(t time.Time) time.Time {
	y, m, d := t.In(uktime.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, uktime.Location).UTC()
}
