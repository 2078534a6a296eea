package competition

import (
	"github.com/nhsprocure/portal/internal/clarify"
	"github.com/nhsprocure/portal/internal/sealed"
)

// BidBox is the competition's sealed tender box: it takes bids from
// publication until the submission deadline (the sealed package refuses
// every write outside that window by comparing the request's time with
// them). An unpublished competition's box opens at its deadline, so it
// takes no bids at all. Whether a supplier may bid (invited, not declined,
// interested where that step exists, the competition not cancelled) is
// MayBid's to say and the caller's to check before writing.
func BidBox(c *Competition) sealed.Box {
	opens := c.SubmissionDeadline
	if c.PublishedAt != nil {
		opens = *c.PublishedAt
	}
	return sealed.Box{Type: sealed.TypeCompetitionBid, ID: c.ID, Deadline: c.SubmissionDeadline, Opens: opens}
}

// ClarifyProcedure describes the competition to the clarification module:
// questions until the question deadline, answered by the lead trust, with
// notifications linking to the supplier's page. Public answers go to
// SupplierUsers.
func ClarifyProcedure(c *Competition) clarify.Procedure {
	return clarify.Procedure{
		Type: clarify.TypeCompetition, ID: c.ID, Title: c.Name(), OwnerOrgID: c.LeadOrgID,
		QuestionDeadline: c.QuestionDeadline, Link: SupplierPath(c.ID),
	}
}
