// Package competition holds mini-competitions (further competitions): a
// trust that may buy under a live framework runs a competition among the
// suppliers appointed to one of its lots, for itself and possibly other
// buying trusts, each with its own volumes, sites and price schedule.
//
// Set-up happens while the competition is a draft: the buying trusts
// (buyers.go), requirements copied from the lot, refined, added to and
// weighted (requirements.go), a price schedule per trust (prices.go), the
// timeline (timeline.go) and the evaluation panel (panel.go). Publishing
// (publish.go) checks all of it at once and invites every supplier
// appointed to the lot (invitations.go). After publication only the lead
// trust may change anything, with a reason, audited and notified to every
// invitee (changes.go); a change to the terms is recorded so that bids
// submitted before it can be shown as needing reconfirmation. A competition
// can be cancelled with a reason (cancel.go).
//
// As for frameworks, only the states a person decides are stored (draft,
// published, cancelled); the states the clock decides (open for questions,
// open for bids, closed) come from the dates through State, so no job has
// to flip a status at the deadline. Bids go into the sealed tender box
// described by BidBox.
package competition

import (
	"time"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// Stored statuses: what people decide.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusCancelled = "cancelled"
)

// States a competition is seen in, derived from its status and the clock.
const (
	StateDraft = "draft"
	// StateQuestions: published, before the question deadline; suppliers
	// may ask questions and bid.
	StateQuestions = "questions"
	// StateBidding: the question deadline has passed; bids are still
	// accepted until the submission deadline.
	StateBidding = "bidding"
	// StateClosed: the submission deadline has passed.
	StateClosed    = "closed"
	StateCancelled = "cancelled"
)

// StateLabel is the state people read.
func StateLabel(s string) string {
	switch s {
	case StateDraft:
		return "Draft"
	case StateQuestions:
		return "Open for questions and bids"
	case StateBidding:
		return "Open for bids"
	case StateClosed:
		return "Closed for bids"
	case StateCancelled:
		return "Cancelled"
	}
	return s
}

// Competition is a mini-competition under one framework lot.
type Competition struct {
	ID          string
	FrameworkID string
	LotID       string
	Reference   string
	Title       string
	Description string
	// LeadOrgID is the trust that runs the competition; it is always one of
	// the buying trusts, and only its trust leads may change it.
	LeadOrgID string
	// Regime is the framework's: call-offs follow the regime the framework
	// was set up under.
	Regime        string
	Status        string
	QualityWeight int
	PriceWeight   int
	// ShowBidCount says whether the buyer sees how many bids are in before
	// they are opened.
	ShowBidCount         bool
	ExpressionOfInterest bool
	// EOIDeadline is when expressions of interest close; nil without an
	// expression-of-interest step.
	EOIDeadline        *time.Time `gorm:"column:eoi_deadline"`
	QuestionDeadline   time.Time
	SubmissionDeadline time.Time
	EvaluationEnd      time.Time
	PlannedAward       time.Time
	PublishedAt        *time.Time
	CancelledAt        *time.Time
	CancelReason       string
	// OpenedAt is when the bids were opened (by two authorised people); nil
	// until then.
	OpenedAt  *time.Time
	CreatedBy string
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// State derives where the competition is at now: draft; published and
// before the question deadline, open for questions (and bids); then open
// for bids until the submission deadline; closed from the deadline exactly.
// Cancelled wins over everything.
func (c Competition) State(now time.Time) string {
	switch c.Status {
	case StatusCancelled:
		return StateCancelled
	case StatusDraft:
		return StateDraft
	}
	switch {
	case now.Before(c.QuestionDeadline):
		return StateQuestions
	case now.Before(c.SubmissionDeadline):
		return StateBidding
	}
	return StateClosed
}

// InterestOpen reports whether suppliers may still register interest at
// now: published, with an expression-of-interest step whose deadline has
// not passed.
func (c Competition) InterestOpen(now time.Time) bool {
	return c.Status == StatusPublished && c.ExpressionOfInterest && c.EOIDeadline != nil && now.Before(*c.EOIDeadline)
}

// Name is how notifications and messages name the competition.
func (c Competition) Name() string { return c.Reference + " " + c.Title }

// utc makes the times read from the database UTC, whatever the engine's
// session time zone.
func (c *Competition) utc() {
	for _, t := range []*time.Time{&c.QuestionDeadline, &c.SubmissionDeadline, &c.EvaluationEnd, &c.PlannedAward, &c.CreatedAt, &c.UpdatedAt} {
		*t = t.UTC()
	}
	for _, t := range []**time.Time{&c.EOIDeadline, &c.PublishedAt, &c.CancelledAt, &c.OpenedAt} {
		if *t != nil {
			u := (**t).UTC()
			*t = &u
		}
	}
}

// Buyer is one of the trusts a competition buys for, with what it needs.
type Buyer struct {
	ID             string
	CompetitionID  string
	OrganisationID string
	Organisation   orgs.Organisation `gorm:"foreignKey:OrganisationID"`
	// Volumes describes the quantities in words ("1,100 beds, 6,500 staff
	// users, two acute sites"); Beds and Users are the numbers suppliers
	// price against most often, nil when not given.
	Volumes string
	Beds    *int `gorm:"column:bed_count"`
	Users   *int `gorm:"column:user_count"`
	Sites   string
	Version int
	AddedAt time.Time
	// Lead is true for the lead trust (not stored: it is the competition's
	// LeadOrgID).
	Lead bool `gorm:"-"`
}

// TableName tells GORM where buyers live.
func (Buyer) TableName() string { return "competition_buyers" }

// Requirement is one requirement of a competition: a copy of a lot
// requirement, refined by the buyer, or one the buyer added.
type Requirement struct {
	ID            string
	CompetitionID string
	// LotRequirementID is the lot requirement it was copied from; nil for
	// one added to the competition.
	LotRequirementID *string
	Reference        string
	Text             string
	Priority         string
	Weight           int
	ResponseType     string
	Descriptors      catalogue.Descriptors
	Guidance         string
	SectionTitle     string
	Position         int
	Version          int
}

// TableName tells GORM where requirements live.
func (Requirement) TableName() string { return "competition_requirements" }

// FromLot reports whether the requirement was copied from the lot.
func (r Requirement) FromLot() bool { return r.LotRequirementID != nil }

// Weighted reports whether the requirement's weight counts towards the
// quality score: pass/fail requirements are gates and carry none.
func (r Requirement) Weighted() bool { return r.ResponseType != catalogue.PassFail }

// PriceItem is one line of a buying trust's price schedule ("Hosting per
// year", unit "year", quantity 5). Suppliers will price each line in pence
// per unit.
type PriceItem struct {
	ID             string
	CompetitionID  string
	OrganisationID string
	Name           string
	Unit           string
	Quantity       int64
	Position       int
	Version        int
}

// TableName tells GORM where price items live.
func (PriceItem) TableName() string { return "competition_price_items" }

// Schedule is one buying trust's price schedule.
type Schedule struct {
	Buyer Buyer
	Items []PriceItem
}

// Invitee statuses.
const (
	InviteeInvited    = "invited"
	InviteeInterested = "interested"
	InviteeDeclined   = "declined"
)

// Invitee is a supplier invited to the competition and its response.
type Invitee struct {
	CompetitionID string            `gorm:"primaryKey"`
	SupplierOrgID string            `gorm:"primaryKey"`
	Supplier      orgs.Organisation `gorm:"foreignKey:SupplierOrgID"`
	Status        string
	// Reason is the supplier's reason for declining.
	Reason      string
	InvitedAt   time.Time
	RespondedAt *time.Time
	RespondedBy string
}

// TableName tells GORM where invitees live.
func (Invitee) TableName() string { return "competition_invitees" }

// Kinds of change after publication.
const (
	ChangeDeadline    = "deadline"
	ChangeRequirement = "requirement"
	ChangeDocument    = "document"
)

// Change is one change made after publication, with the values before and
// after and the lead's reason. Terms is true when it changed the terms a
// bid answers (a requirement, a document), so that bids submitted before
// it need reconfirmation; a deadline change does not.
type Change struct {
	ID            string
	CompetitionID string
	Kind          string
	// Subject is what changed: the deadline's field name, the
	// requirement's reference or the document's id.
	Subject   string
	OldValue  string
	NewValue  string
	Reason    string
	Terms     bool
	ChangedAt time.Time
	ChangedBy string
}

// TableName tells GORM where changes live.
func (Change) TableName() string { return "competition_changes" }

// Document is a document of the competition's tender pack, from the
// documents store.
type Document struct {
	CompetitionID string `gorm:"primaryKey"`
	DocumentID    string `gorm:"primaryKey"`
	// Name is the document's file name, read from the documents store.
	Name    string `gorm:"-"`
	Reason  string
	AddedAt time.Time
	AddedBy string
}

// TableName tells GORM where the competition's documents live.
func (Document) TableName() string { return "competition_documents" }

// PanelMember is a person who may sit, or sits, on the evaluation panel,
// with the organisation they evaluate for: the same as a framework's
// evaluator.
type PanelMember = framework.Evaluator

// panelRow is a panel assignment as stored.
type panelRow struct {
	CompetitionID string `gorm:"primaryKey"`
	UserID        string `gorm:"primaryKey"`
	AssignedAt    time.Time
	AssignedBy    string
}

func (panelRow) TableName() string { return "competition_panel" }
