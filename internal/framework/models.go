// Package framework holds framework agreements: a consortium's framework
// with its regime (Public Contracts Regulations 2015 or Procurement Act
// 2023), lots whose requirements are copied from published catalogue
// versions, the application window, evaluation criteria and the buyers
// allowed to call off from it. Only the states a person decides are stored;
// the ones the clock decides (scheduled, open, evaluation, live, expired)
// are derived from the dates by State.
//
// After the application deadline the consortium lead opens the lots'
// sealed boxes (opening.go); assigned evaluators score each application
// against the lot's requirements, independently until all have submitted
// (evaluators.go, scores.go); the lead sees the results (results.go),
// decides and starts the standstill, which sends the award letters
// (appointment.go); the appointed suppliers make up the agreement
// (agreement.go). A periodic job records each clock-made change of state
// and tells the people taking part (transitions.go).
package framework

import (
	"time"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/orgs"
)

// Regimes a framework is procured under.
const (
	RegimePCR2015 = "pcr2015"
	RegimePA2023  = "pa2023"
)

// RegimeLabel is the regime's name people read.
func RegimeLabel(r string) string {
	switch r {
	case RegimePCR2015:
		return "Public Contracts Regulations 2015"
	case RegimePA2023:
		return "Procurement Act 2023"
	}
	return r
}

// Kinds of framework: a closed one admits suppliers once, an open one
// (Procurement Act 2023 only) reopens to new suppliers during its term.
const (
	KindClosed = "closed"
	KindOpen   = "open"
)

// MaxTermYears is the longest term a framework of each kind may have.
var MaxTermYears = map[string]int{KindClosed: 4, KindOpen: 8}

// Call-off routes a lot allows.
const (
	CallOffDirect      = "direct"
	CallOffCompetition = "competition"
	CallOffBoth        = "both"
)

// CallOffLabel is the plain-English call-off route.
func CallOffLabel(c string) string {
	switch c {
	case CallOffDirect:
		return "Direct award"
	case CallOffCompetition:
		return "Further competition"
	case CallOffBoth:
		return "Direct award or further competition"
	}
	return c
}

// Stored statuses: what people decide. The states people see come from
// Framework.State.
const (
	StatusDraft          = "draft"
	StatusPublished      = "published"
	StatusEvaluationDone = "evaluation_done"
	StatusStandstill     = "standstill"
	StatusLive           = "live"
	StatusCancelled      = "cancelled"
)

// States a framework is seen in, derived from its status and the clock.
const (
	StateDraft      = "draft"
	StateScheduled  = "scheduled"
	StateOpen       = "open"
	StateEvaluation = "evaluation"
	StateStandstill = "standstill"
	StateLive       = "live"
	StateExpired    = "expired"
	StateCancelled  = "cancelled"
)

// Framework is a framework agreement.
type Framework struct {
	ID           string
	ConsortiumID string
	Reference    string
	Title        string
	Description  string
	Regime       string
	Kind         string
	// TermStart and TermEnd are dates (midnight UTC); the term runs from the
	// start of TermStart to the start of TermEnd.
	TermStart             time.Time
	TermEnd               time.Time
	ApplicationsOpen      time.Time
	ClarificationDeadline time.Time
	ApplicationDeadline   time.Time
	Status                string
	StandstillEnds        *time.Time
	PublishedAt           *time.Time
	CancelledAt           *time.Time
	CancelReason          string
	// OpenedAt and OpenedBy record the opening of the applications after the
	// deadline (OpenApplications); nil until then.
	OpenedAt *time.Time
	OpenedBy string
	// StandstillStartedAt is when the award letters were sent.
	StandstillStartedAt *time.Time
	// LastState is the state RecordTransitions last recorded (and notified
	// people of); "" for a framework it has not yet seen.
	LastState string `gorm:"default:draft"`
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// State derives where the framework is at now: draft; published and
// before the window opens, scheduled; open until the application deadline;
// evaluation from the deadline exactly; after evaluation, standstill until
// the standstill ends; then live until the term ends; then expired.
// Cancelled wins over everything.
func (f Framework) State(now time.Time) string {
	switch f.Status {
	case StatusCancelled:
		return StateCancelled
	case StatusDraft:
		return StateDraft
	case StatusPublished:
		switch {
		case now.Before(f.ApplicationsOpen):
			return StateScheduled
		case now.Before(f.ApplicationDeadline):
			return StateOpen
		default:
			return StateEvaluation
		}
	}
	// evaluation_done, standstill and live: the clock takes it from here.
	if !now.Before(f.TermEnd) {
		return StateExpired
	}
	if f.Status != StatusLive && (f.StandstillEnds == nil || now.Before(*f.StandstillEnds)) {
		return StateStandstill
	}
	return StateLive
}

// StateLabel is the state people read.
func StateLabel(s string) string {
	switch s {
	case StateDraft:
		return "Draft"
	case StateScheduled:
		return "Published, not yet open"
	case StateOpen:
		return "Open for applications"
	case StateEvaluation:
		return "Evaluation"
	case StateStandstill:
		return "Standstill"
	case StateLive:
		return "Live"
	case StateExpired:
		return "Expired"
	case StateCancelled:
		return "Cancelled"
	}
	return s
}

// Lot is a part of the framework with its own scope, suppliers and
// requirements.
type Lot struct {
	ID           string
	FrameworkID  string
	Number       int
	Title        string
	Scope        string
	MinSuppliers int
	MaxSuppliers int
	CallOff      string
}

// TableName tells GORM where lots live.
func (Lot) TableName() string { return "framework_lots" }

// LotRequirement is a requirement copied into a lot from a published
// catalogue version. The lot owns its wording; the source fields say where
// it came from.
type LotRequirement struct {
	ID                  string
	LotID               string
	Reference           string
	Text                string
	Priority            string
	Weight              int
	ResponseType        string
	Descriptors         catalogue.Descriptors
	Guidance            string
	SectionTitle        string
	SourceCatalogueID   string
	SourceVersion       int
	SourceRequirementID string
	Position            int
	// Criterion is the name of the evaluation criterion the requirement's
	// mark counts towards; "" means the framework's first criterion.
	// Pass/fail requirements count towards none: they are gates.
	Criterion string
}

// TableName tells GORM where lot requirements live.
func (LotRequirement) TableName() string { return "framework_lot_requirements" }

// Origin is the catalogue requirement the copy came from.
func (r LotRequirement) Origin() catalogue.Origin {
	return catalogue.Origin{CatalogueID: r.SourceCatalogueID, CatalogueVersion: r.SourceVersion, RequirementID: r.SourceRequirementID, Reference: r.Reference}
}

// Criterion is an evaluation criterion ("Quality", "Price") with its
// weight; a framework's weights add up to 100.
type Criterion struct {
	ID          string `gorm:"primaryKey"`
	FrameworkID string
	Name        string
	Weight      int
	Position    int
}

// TableName tells GORM where criteria live.
func (Criterion) TableName() string { return "framework_criteria" }

// Buyer statuses: a consortium member, or another organisation that asked
// for access and what the lead decided.
const (
	BuyerMember    = "member"
	BuyerRequested = "requested"
	BuyerAdmitted  = "admitted"
	BuyerRefused   = "refused"
)

// Buyer is an organisation's standing as a buyer under a framework.
type Buyer struct {
	ID             string
	FrameworkID    string
	OrganisationID string
	Organisation   orgs.Organisation `gorm:"foreignKey:OrganisationID"`
	Status         string
	RequestedAt    *time.Time
	DecidedAt      *time.Time
	DecidedBy      string
}

// TableName tells GORM where buyers live.
func (Buyer) TableName() string { return "framework_buyers" }

// Eligible reports whether the buyer may call off from the framework.
func (b Buyer) Eligible() bool { return b.Status == BuyerMember || b.Status == BuyerAdmitted }
