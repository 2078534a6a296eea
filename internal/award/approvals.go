package award

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// A board member's decision on a recommended award.
const (
	Approve = "approve"
	Reject  = "reject"
	// Recuse: the board member steps aside (an interest in the supplier,
	// say); it counts neither for nor against.
	Recuse = "recuse"
)

// Field names of approval errors.
const (
	FieldDecision = "decision"
	FieldComments = "comments"
	FieldMinutes  = "minutes"
)

// MaxComments is the longest comment or minute, in characters.
const MaxComments = 5000

// Approval is one board member's recorded decision.
type Approval struct {
	ID                    string
	CompetitionID         string
	OrganisationID        string
	UserID                string
	User                  orgs.User `gorm:"foreignKey:UserID"`
	RecommendationVersion int
	Decision              string
	Comments              string
	MinutesDocumentID     *string
	DecidedAt             time.Time
}

// TableName tells GORM where approvals live.
func (Approval) TableName() string { return "award_approvals" }

// DecisionInput is what a board member records for their trust.
type DecisionInput struct {
	CompetitionID string
	// OrganisationID is the buying trust the board member decides for.
	OrganisationID string
	Decision       string
	Comments       string
	// MinutesDocumentID is a document from the trust's library (the board's
	// minutes), or "".
	MinutesDocumentID string
}

// TrustApproval is where one buying trust's board stands.
type TrustApproval struct {
	Buyer     competition.Buyer
	Decisions []Approval
	Approvals int
	Rejected  bool
	// Approved: approvals have reached the quorum and nobody rejected.
	Approved bool
	// Members are the people who may decide for the trust: its enabled
	// board members, less the person who recommended the award. A quorum
	// higher than their number can never be reached, and the page says so.
	Members []string
}

// BoardMembers is how many people may decide for the trust.
func (t TrustApproval) BoardMembers() int { return len(t.Members) }

// Decided reports whether the user has recorded a decision for the trust.
func (t TrustApproval) Decided(userID string) bool {
	for _, d := range t.Decisions {
		if d.UserID == userID {
			return true
		}
	}
	return false
}

// Approvals is the state of board approval of a competition's current
// recommendation.
type Approvals struct {
	Recommendation *evaluation.Recommendation
	Trusts         []TrustApproval
	// Rejected: some board rejected the award, which stops it.
	Rejected bool
	// Approved: every buying trust's board has approved.
	Approved bool
}

// Pending lists the trusts still to approve.
func (a *Approvals) Pending() []TrustApproval {
	var out []TrustApproval
	for _, t := range a.Trusts {
		if !t.Approved {
			out = append(out, t)
		}
	}
	return out
}

// For returns the buying trust's standing, or false when it is not a buyer.
func (a *Approvals) For(orgID string) (TrustApproval, bool) {
	for _, t := range a.Trusts {
		if t.Buyer.OrganisationID == orgID {
			return t, true
		}
	}
	return TrustApproval{}, false
}

// recommendation reads the competition's current recommendation
// (ErrNoRecommendation when there is none).
func (s *Service) recommendation(ctx context.Context, competitionID string) (*evaluation.Recommendation, error) {
	r, err := s.Evaluation.Recommendation(ctx, competitionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r == nil) {
		return nil, ErrNoRecommendation
	}
	return r, err
}

// approvals works out every buying trust's standing from the stored
// decisions on version of the recommendation.
func approvals(tx *gorm.DB, rec *evaluation.Recommendation) (*Approvals, error) {
	var buyers []competition.Buyer
	if err := tx.Preload("Organisation").Where("competition_id = ?", rec.CompetitionID).Order("added_at, id").Find(&buyers).Error; err != nil {
		return nil, fmt.Errorf("read buyers: %w", err)
	}
	var decisions []Approval
	if err := tx.Preload("User").Where("competition_id = ? AND recommendation_version = ?", rec.CompetitionID, rec.Version).
		Order("decided_at, id").Find(&decisions).Error; err != nil {
		return nil, fmt.Errorf("read approvals: %w", err)
	}
	orgIDs := make([]string, len(buyers))
	for i, b := range buyers {
		orgIDs[i] = b.OrganisationID
	}
	var members []struct{ UserID, OrganisationID string }
	if err := tx.Table("memberships m").Joins("JOIN users u ON u.id = m.user_id").
		Where("m.role = ? AND m.organisation_id IN ? AND u.disabled_at IS NULL AND m.user_id <> ?", string(authz.BoardMember), orgIDs, rec.RecommendedBy).
		Distinct("m.user_id, m.organisation_id").Order("m.user_id").Scan(&members).Error; err != nil {
		return nil, fmt.Errorf("read board members: %w", err)
	}
	out := &Approvals{Recommendation: rec, Approved: len(buyers) > 0}
	for _, b := range buyers {
		t := TrustApproval{Buyer: b}
		for _, m := range members {
			if m.OrganisationID == b.OrganisationID {
				t.Members = append(t.Members, m.UserID)
			}
		}
		for _, d := range decisions {
			if d.OrganisationID != b.OrganisationID {
				continue
			}
			d.DecidedAt = d.DecidedAt.UTC()
			t.Decisions = append(t.Decisions, d)
			switch d.Decision {
			case Approve:
				t.Approvals++
			case Reject:
				t.Rejected = true
			}
		}
		t.Approved = !t.Rejected && t.Approvals >= rec.Quorum
		out.Rejected = out.Rejected || t.Rejected
		out.Approved = out.Approved && t.Approved
		out.Trusts = append(out.Trusts, t)
	}
	out.Approved = out.Approved && !out.Rejected
	return out, nil
}

// Approvals reads where board approval of the current recommendation
// stands (ErrNoRecommendation before there is one).
func (s *Service) Approvals(ctx context.Context, competitionID string) (*Approvals, error) {
	rec, err := s.recommendation(ctx, competitionID)
	if err != nil {
		return nil, err
	}
	return approvals(s.DB.WithContext(ctx), rec)
}

// check validates a decision's own fields.
func (in *DecisionInput) check(tx *gorm.DB) error {
	var v validate.Errors
	in.Comments = strings.TrimSpace(in.Comments)
	switch in.Decision {
	case Approve:
	case Reject:
		if in.Comments == "" {
			v.Add(FieldComments, "Say why the board rejects the award: the lead trust and the other boards read this")
		}
	case Recuse:
		if in.Comments == "" {
			v.Add(FieldComments, "Say why you are stepping aside, for example the interest you have declared")
		}
	default:
		v.Add(FieldDecision, "Select whether the board approves or rejects the award, or that you are stepping aside")
	}
	if utf8.RuneCountInString(in.Comments) > MaxComments {
		v.Add(FieldComments, fmt.Sprintf("Comments must be %d characters or fewer", MaxComments))
	}
	if in.MinutesDocumentID != "" {
		var n int64
		if err := tx.Table("documents").Where("id = ? AND organisation_id = ?", in.MinutesDocumentID, in.OrganisationID).
			Count(&n).Error; err != nil {
			return fmt.Errorf("check minutes: %w", err)
		}
		if n == 0 {
			v.Add(FieldMinutes, "Select the minutes from your trust's documents, or leave them out")
		}
	}
	return v.Err()
}

// Decide records a board member's decision on the recommended award for
// the buying trust they sit on: approve, reject (with reasons) or recuse
// (with the interest). The actor must hold the board member role in that
// trust (ErrForbidden, audited, otherwise: trust A's board cannot decide
// for trust B), and cannot be the person who recommended the award. Each
// person decides once per recommendation; once the award decision has
// been sent, or any board has rejected, no more decisions are taken. A
// rejection, and the last approval needed, are notified to the lead
// trust's trust leads.
func (s *Service) Decide(ctx context.Context, actor audit.Actor, in DecisionInput) error {
	const action = "award.board_decision"
	rec, err := s.recommendation(ctx, in.CompetitionID)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockCompetition(tx, in.CompetitionID)
		if err != nil {
			return err
		}
		if ok, err := competition.HasRole(tx, actor.UserID, in.OrganisationID, authz.BoardMember); err != nil {
			return err
		} else if !ok {
			return ErrForbidden
		}
		before, err := approvals(tx, rec)
		if err != nil {
			return err
		}
		trust, ok := before.For(in.OrganisationID)
		if !ok {
			return ErrForbidden
		}
		if err := decidable(tx, c, rec, before, trust, actor); err != nil {
			return err
		}
		if err := in.check(tx); err != nil {
			return err
		}
		a := Approval{ID: uuid.NewString(), CompetitionID: c.ID, OrganisationID: in.OrganisationID, UserID: actor.UserID,
			RecommendationVersion: rec.Version, Decision: in.Decision, Comments: in.Comments, DecidedAt: s.now()}
		if in.MinutesDocumentID != "" {
			a.MinutesDocumentID = &in.MinutesDocumentID
		}
		if err := tx.Omit("User").Create(&a).Error; err != nil {
			return fmt.Errorf("record decision: %w", err)
		}
		if err := s.appendAudit(tx, actor, action, c.ID, map[string]any{
			"trust": in.OrganisationID, "decision": in.Decision, "recommendation_version": rec.Version,
			"minutes_document_id": in.MinutesDocumentID,
		}); err != nil {
			return err
		}
		after, err := approvals(tx, rec)
		if err != nil {
			return err
		}
		var news string
		switch {
		case in.Decision == Reject:
			news = "The board of " + trust.Buyer.Organisation.Name + " rejected the recommended award: " + in.Comments
		case after.Approved && !before.Approved:
			news = "Every buying trust's board has approved the recommended award; you can now send the award decision."
		default:
			return nil
		}
		leads, err := orgs.UsersWithRole(tx, authz.TrustLead, c.LeadOrgID)
		if err != nil {
			return err
		}
		return s.notifyAll(ctx, tx, leads, KindBoardDecision, map[string]any{"Procurement": c.Name(), "Update": news}, Path(c.ID))
	})
	return s.refused(ctx, actor, action, in.CompetitionID, err)
}

// decidable refuses a decision the award's state or the person rules out.
func decidable(tx *gorm.DB, c *competition.Competition, rec *evaluation.Recommendation, a *Approvals, t TrustApproval, actor audit.Actor) error {
	var v validate.Errors
	sent, err := decisionSent(tx, c.ID)
	if err != nil {
		return err
	}
	switch {
	case c.Status == competition.StatusCancelled:
		v.Add(FieldDecision, "The competition has been cancelled, so there is no award to decide")
	case sent:
		v.Add(FieldDecision, "The award decision has been sent, so board decisions can no longer be recorded")
	case a.Rejected:
		v.Add(FieldDecision, "A board has rejected this award, so no more decisions are taken on it; the lead trust must recommend again")
	case actor.UserID == rec.RecommendedBy:
		v.Add(FieldDecision, "You recommended this award, so you cannot decide on it; another board member must")
	}
	if t.Decided(actor.UserID) {
		v.Add(FieldDecision, "You have already recorded your decision on this award for "+t.Buyer.Organisation.Name)
	}
	return v.Err()
}
