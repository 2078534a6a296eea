package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// The award page of a mini-competition: where board approval stands for
// every buying trust, the board member's decision, and the lead's steps
// from sending the award decision to confirming the award. The award
// service decides every step again (roles, the recommender, the state and
// the clock) and audits refusals; this file only reads forms and shows
// pages.

// awardView is what the award page shows.
type awardView struct {
	C         *buyerCompetition
	Approvals *award.Approvals
	Award     *award.Award
	State     string
	Open      bool // a challenge is open
	// Challenges are every challenge recorded, open ones first to act on.
	Challenges []award.Challenge
	// MayDecide: the viewer sits on the board of a buying trust still to
	// decide, has not decided, and did not recommend the award.
	MayDecide bool
	Trust     *award.TrustApproval
	Minutes   []documents.Document
	Events    []awardEvent
	// Supplier is the recommended supplier's name.
	Supplier string
}

// DecisionOptions are the choices a board member has.
func (v *awardView) DecisionOptions() []struct{ Key, Label string } {
	return []struct{ Key, Label string }{
		{award.Approve, "Approve the award"}, {award.Reject, "Reject the award"},
		{award.Recuse, "I am stepping aside (I have an interest in the outcome)"},
	}
}

// awardEvent is one step of the award's timeline.
type awardEvent struct {
	At   time.Time
	What string
}

// StateLabel is the award's state in words.
func (v *awardView) StateLabel() string { return award.StateLabel(v.State) }

// Voluntary reports whether the lead may choose a voluntary standstill:
// call-offs under the 2015 regulations only.
func (v *awardView) Voluntary() bool { return v.C.Regime == "pcr2015" }

// loadAward reads the award page's data for a user of a buying trust.
func (s *Server) loadAward(c echo.Context) (*awardView, error) {
	bc, err := s.readCompetition(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	v := &awardView{C: bc}
	a, err := s.Award.Approvals(ctx, bc.ID)
	if err != nil && !errors.Is(err, award.ErrNoRecommendation) {
		return nil, err
	}
	v.Approvals = a
	if a != nil {
		o, err := s.Orgs.Organisation(ctx, a.Recommendation.SupplierOrgID)
		if err != nil {
			return nil, err
		}
		v.Supplier = o.Name
	}
	if v.Award, err = s.Award.Award(ctx, bc.ID); err != nil {
		return nil, err
	}
	if v.Challenges, err = s.Award.Challenges(ctx, bc.ID); err != nil {
		return nil, err
	}
	for _, ch := range v.Challenges {
		v.Open = v.Open || ch.Open()
	}
	v.State = award.State(a, v.Award, v.Open, s.Clock.Now())
	who := actor(c)
	if a != nil {
		if t, ok := a.For(who.OrgID); ok && v.Award == nil && !a.Rejected && who.UserID != a.Recommendation.RecommendedBy &&
			s.may(c, &t.Buyer.Organisation, "award", "decide") {
			if !t.Decided(who.UserID) {
				v.MayDecide, v.Trust = true, &t
				if v.Minutes, err = s.Docs.List(ctx, who.OrgID, "library", ""); err != nil {
					return nil, err
				}
			}
		}
	}
	v.Events = awardTimeline(v)
	return v, nil
}

// awardTimeline lists the award's steps so far, in order.
func awardTimeline(v *awardView) []awardEvent {
	var out []awardEvent
	if a := v.Approvals; a != nil {
		out = append(out, awardEvent{a.Recommendation.RecommendedAt, "Award recommended"})
		for _, t := range a.Trusts {
			for _, d := range t.Decisions {
				out = append(out, awardEvent{d.DecidedAt, t.Buyer.Organisation.Name + ": " + decisionLabel(d.Decision) + " by " + d.User.DisplayName()})
			}
		}
		out = append(out, awardEvent{a.Recommendation.ApprovalDue, "Board decisions due"})
	}
	if aw := v.Award; aw != nil {
		out = append(out, awardEvent{aw.LettersSentAt, "Award letters sent with assessment summaries"})
		if aw.NoticePublishedAt != nil {
			out = append(out, awardEvent{*aw.NoticePublishedAt, "Contract award notice published"})
		}
		if aw.StandstillEnds != nil {
			out = append(out, awardEvent{*aw.StandstillEnds, "Standstill ends"})
		}
		if aw.ConfirmedAt != nil {
			out = append(out, awardEvent{*aw.ConfirmedAt, "Award confirmed and contracts made"})
		}
	}
	for _, ch := range v.Challenges {
		out = append(out, awardEvent{ch.ReceivedAt, "Challenge received"})
		if ch.ResolvedAt != nil {
			out = append(out, awardEvent{*ch.ResolvedAt, "Challenge " + ch.Outcome})
		}
	}
	slices.SortStableFunc(out, func(a, b awardEvent) int { return a.At.Compare(b.At) })
	return out
}

// decisionLabel is a board decision in words.
func decisionLabel(d string) string {
	switch d {
	case award.Approve:
		return "approved"
	case award.Reject:
		return "rejected"
	case award.Recuse:
		return "stepped aside"
	}
	return d
}

// awardPage shows the award.
func (s *Server) awardPage(c echo.Context) error {
	v, err := s.loadAward(c)
	if err != nil {
		return err
	}
	return s.renderAward(c, http.StatusOK, v, nil)
}

func (s *Server) renderAward(c echo.Context, status int, v *awardView, formErr error) error {
	p := s.formPage(c, "Award: "+v.C.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = "/competitions/" + v.C.ID
	p.Data = v
	return s.render(c, status, "award", p)
}

// awardAct runs one of the award's steps and shows the page again with the
// problem, or redirects to it with a confirmation.
func (s *Server) awardAct(c echo.Context, flash string, step func(v *awardView) error) error {
	v, err := s.loadAward(c)
	if err != nil {
		return err
	}
	err = step(v)
	if _, ok := validate.As(err); ok {
		fresh, lerr := s.loadAward(c)
		if lerr != nil {
			return lerr
		}
		return s.renderAward(c, http.StatusBadRequest, fresh, err)
	}
	if errors.Is(err, award.ErrForbidden) || errors.Is(err, award.ErrNoRecommendation) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, award.Path(v.C.ID))
}

// awardDecide records the viewer's decision for the trust they act for.
func (s *Server) awardDecide(c echo.Context) error {
	return s.awardAct(c, "award-decided", func(v *awardView) error {
		return s.Award.Decide(c.Request().Context(), actor(c), award.DecisionInput{
			CompetitionID: v.C.ID, OrganisationID: actor(c).OrgID, Decision: c.FormValue("decision"),
			Comments: c.FormValue("comments"), MinutesDocumentID: c.FormValue("minutes"),
		})
	})
}

// awardSend sends the award decision.
func (s *Server) awardSend(c echo.Context) error {
	return s.awardAct(c, "award-sent", func(v *awardView) error {
		return s.Award.SendDecision(c.Request().Context(), actor(c), award.SendInput{
			CompetitionID: v.C.ID, VoluntaryStandstill: c.FormValue("voluntary") == "yes",
		})
	})
}

// awardNotice records the contract award notice (Procurement Act 2023).
func (s *Server) awardNotice(c echo.Context) error {
	return s.awardAct(c, "award-notice", func(v *awardView) error {
		return s.Award.PublishNotice(c.Request().Context(), actor(c), v.C.ID)
	})
}

// awardChallenge records a challenge.
func (s *Server) awardChallenge(c echo.Context) error {
	return s.awardAct(c, "award-challenged", func(v *awardView) error {
		form, _ := c.FormParams()
		received, ok := dateInput(form, award.FieldChallengeReceived)
		if !ok {
			return newErrors(award.FieldChallengeReceived, "Enter the date received as a real date, for example 14 3 2027")
		}
		_, err := s.Award.RecordChallenge(c.Request().Context(), actor(c), award.ChallengeInput{
			CompetitionID: v.C.ID, SupplierOrgID: c.FormValue("supplier"), Details: c.FormValue("details"), ReceivedAt: received,
		})
		return err
	})
}

// awardResolve records how a challenge ended.
func (s *Server) awardResolve(c echo.Context) error {
	return s.awardAct(c, "award-resolved", func(v *awardView) error {
		return s.Award.ResolveChallenge(c.Request().Context(), actor(c), v.C.ID, c.Param("challenge"),
			c.FormValue("outcome"), c.FormValue("resolution"))
	})
}

// awardConfirm confirms the award and makes the contracts.
func (s *Server) awardConfirm(c echo.Context) error {
	return s.awardAct(c, "award-confirmed", func(v *awardView) error {
		form, _ := c.FormParams()
		var errs validate.Errors
		start, ok := dateInput(form, award.FieldStart)
		if !ok {
			errs.Add(award.FieldStart, "Enter the contract start date as a real date, for example 1 4 2027")
		}
		end, ok := dateInput(form, award.FieldEnd)
		if !ok {
			errs.Add(award.FieldEnd, "Enter the contract end date as a real date, for example 31 3 2032")
		}
		if err := errs.Err(); err != nil {
			return err
		}
		return s.Award.Confirm(c.Request().Context(), actor(c), award.ConfirmInput{
			CompetitionID: v.C.ID, Start: ukMidnight(start), End: ukMidnight(end)})
	})
}

// ukMidnight is the start of a date in UK time (date inputs carry no zone).
func ukMidnight(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, uktime.Location).UTC()
}

// timelinePoint is an event placed on the timeline chart: X from 0 to 1000
// across the chart's width, Above alternating so labels do not collide.
type timelinePoint struct {
	X     int
	Above bool
	awardEvent
}

// Chart places the timeline's events on the chart, evenly in time from
// the first to the last.
func (v *awardView) Chart() []timelinePoint {
	es := v.Events
	if len(es) == 0 {
		return nil
	}
	first, last := es[0].At, es[len(es)-1].At
	span := last.Sub(first)
	out := make([]timelinePoint, len(es))
	for i, e := range es {
		x := 500
		if span > 0 {
			x = 40 + int(float64(e.At.Sub(first))/float64(span)*920)
		}
		out[i] = timelinePoint{X: x, Above: i%2 == 0, awardEvent: e}
	}
	return out
}
