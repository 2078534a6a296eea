package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// The buying side of sealed bids: before the deadline only how many bids
// are in, for the lead trust's trust leads and only when the competition
// shows it; after it, the two-key opening (the lead trust's trust leads and
// the panel, two different people); after the opening, the list of bids
// for them. The competition service decides every one of these again
// (BidCount, OpenBids, OpenedBids) and audits refusals.

// bidsCompetition loads the competition in the URL for the bids page: a
// member of its evaluation panel, or a user of one of its buying trusts
// (readCompetition: 404 and audited for anyone else). keyholder says
// whether the viewer may turn a key and list the bids: a trust lead of the
// lead trust or a panel member.
func (s *Server) bidsCompetition(c echo.Context) (comp *competition.Competition, lead, keyholder bool, err error) {
	comp, err = s.competitionInURL(c)
	if err != nil {
		return nil, false, false, err
	}
	if v := viewer(c); v != nil {
		// A trust lead acting for the lead trust holds a key whether or not
		// they sit on the panel; asked first, as it needs nothing more than
		// the competition, where the panel takes several queries.
		if v.ActingOrg != nil && v.ActingOrg.ID == comp.LeadOrgID && s.may(c, v.ActingOrg, "competition", "write") {
			return comp, true, true, nil
		}
		onPanel, err := s.Competition.OnPanel(c.Request().Context(), comp.ID, v.User.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, false, false, err
		}
		if onPanel {
			// Let in as a panel member, whatever their trusts: no refusal.
			bc, _, err := s.withBuyers(c, comp)
			if err != nil {
				return nil, false, false, err
			}
			return comp, bc.CanWrite, true, nil
		}
	}
	bc, err := s.buyerCompetition(c, comp)
	if err != nil {
		return nil, false, false, err
	}
	return comp, bc.CanWrite, bc.CanWrite, nil
}

// bidsPath is the competition's bids page.
func bidsPath(id string) string { return competition.CompetitionPath(id) + "/bids" }

// competitionBids is the bids page.
func (s *Server) competitionBids(c echo.Context) error {
	comp, lead, keyholder, err := s.bidsCompetition(c)
	if err != nil {
		return err
	}
	return s.renderBids(c, http.StatusOK, comp, lead, keyholder, nil)
}

func (s *Server) renderBids(c echo.Context, status int, comp *competition.Competition, lead, keyholder bool, formErr error) error {
	ctx := c.Request().Context()
	now := s.Clock.Now()
	published := comp.Status == competition.StatusPublished
	sealedNow := published && comp.OpenedAt == nil && now.Before(comp.SubmissionDeadline)
	data := map[string]any{
		"C": comp, "StateLabel": competition.StateLabel(comp.State(now)), "Keyholder": keyholder, "Lead": lead,
		"Sealed": sealedNow, "Openable": published && comp.OpenedAt == nil && !sealedNow,
	}
	// The count, only for the lead trust's leads of a competition that
	// shows it, and only while there is nothing else to see.
	if lead && comp.ShowBidCount && published && comp.OpenedAt == nil {
		n, err := s.Competition.BidCount(ctx, actor(c), comp.ID)
		if err != nil {
			return err
		}
		data["Count"], data["HasCount"] = n, true
	}
	if keyholder && comp.OpenedAt == nil && !sealedNow && published {
		keys, err := s.Competition.OpeningKeys(ctx, comp.ID)
		if err != nil {
			return err
		}
		turned := false
		for _, k := range keys {
			turned = turned || k.UserID == viewer(c).User.ID
		}
		data["Keys"], data["KeyTurned"] = keys, turned
	}
	if keyholder && comp.OpenedAt != nil {
		list, err := s.Competition.OpenedBidList(ctx, actor(c), comp)
		if err != nil {
			return err
		}
		data["Bids"] = openedBidRows(list)
	}
	p := s.formPage(c, "Bids: "+comp.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = competition.CompetitionPath(comp.ID)
	p.Data = data
	return s.render(c, status, "bid_opening", p)
}

// openedBidRow is an opened bid as the bids page shows it, in the very
// strings shown (see competitionRow for why flat).
type openedBidRow struct {
	Supplier, Received, SHA256, Outcome string
}

func openedBidRows(list []competition.BidListing) []openedBidRow {
	out := make([]openedBidRow, len(list))
	for i, b := range list {
		outcome := "Opened for evaluation"
		if b.Status == competition.BidExcluded {
			outcome = "Excluded: " + b.ExcludedReason
		}
		out[i] = openedBidRow{Supplier: b.SupplierName, SHA256: b.SHA256, Outcome: outcome,
			Received: ukTimeSeconds(b.ReceivedAt) + " (version " + strconv.Itoa(b.VersionNumber) + ")"}
	}
	return out
}

// competitionOpen turns the viewer's opening key; the second keyholder's
// key opens the bids.
func (s *Server) competitionOpen(c echo.Context) error {
	comp, lead, keyholder, err := s.bidsCompetition(c)
	if err != nil {
		return err
	}
	o, err := s.Competition.OpenBids(c.Request().Context(), actor(c), comp.ID)
	if _, ok := validate.As(err); ok {
		fresh, lerr := s.Competition.Competition(c.Request().Context(), comp.ID)
		if lerr != nil {
			return lerr
		}
		return s.renderBids(c, http.StatusConflict, fresh, lead, keyholder, err)
	}
	if errors.Is(err, competition.ErrForbidden) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if o.Opened {
		s.flash(c, "bids-opened", o.Bids, o.Excluded)
	} else {
		s.flash(c, "bid-key-turned")
	}
	return c.Redirect(http.StatusSeeOther, bidsPath(comp.ID))
}
