package seed

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
)

// Stages a made-up competition is at.
const (
	compDraft = iota
	compBidding
	compCancelled
	compOpened
)

// compStage spreads competitions over the stages: one in ten a draft, one
// in five open for questions or bids (its bids sealed), one in twenty
// cancelled and the rest closed with their bids opened.
func compStage(i int) int {
	switch i % 20 {
	case 0, 1:
		return compDraft
	case 2, 3, 4, 5:
		return compBidding
	case 6:
		return compCancelled
	}
	return compOpened
}

// competitions makes the mini-competitions under the live lots, each led
// by one of the lot's buying trusts with up to six others buying with it,
// the lot's suppliers invited, and the bids sealed (and, once the deadline
// has passed, opened) exactly as suppliers' would be.
func (g *generator) competitions(tx *gorm.DB) error {
	if len(g.lots) == 0 {
		return fmt.Errorf("no live framework lot to run competitions under: the scale needs at least one live framework")
	}
	bids := g.bidCounts()
	var comps []competition.Competition
	var buyers []competition.Buyer
	var invitees []competition.Invitee
	var panel []map[string]any
	var opened []competition.Bid
	var sealedBids []sealed.Imported
	declarations := make([]string, len(framework.Declarations))
	for i, d := range framework.Declarations {
		declarations[i] = d.Key
	}
	for i := range g.sc.Competitions {
		lot := pick(g, g.lots)
		stage := compStage(i)
		lead := pick(g, lot.buyers)
		leadUser := g.leadOf[lead]
		c := g.competition(i, stage, lot, lead, leadUser)
		comps = append(comps, c)
		g.made("competition", c.ID)
		buying := []string{lead}
		for _, t := range sample(g, lot.buyers, g.rnd.IntN(7)) {
			if t != lead {
				buying = append(buying, t)
			}
		}
		for _, t := range buying {
			beds, users := 200+g.rnd.IntN(1400), 1000+g.rnd.IntN(9000)
			buyers = append(buyers, competition.Buyer{ID: g.id(), CompetitionID: c.ID, OrganisationID: t, Beds: &beds, Users: &users,
				Volumes: fmt.Sprintf("%d beds, %d staff users", beds, users), Sites: fmt.Sprintf("%d sites", 1+g.rnd.IntN(4)), Version: 1, AddedAt: c.CreatedAt})
		}
		panel = append(panel, map[string]any{"competition_id": c.ID, "user_id": leadUser, "assigned_at": c.CreatedAt, "assigned_by": leadUser})
		if c.PublishedAt == nil {
			continue
		}
		for _, s := range lot.suppliers {
			invitees = append(invitees, competition.Invitee{CompetitionID: c.ID, SupplierOrgID: s, Status: competition.InviteeInvited, InvitedAt: *c.PublishedAt})
		}
		n := bids[i]
		if n == 0 {
			continue
		}
		last := c.SubmissionDeadline
		if last.After(g.now) {
			last = g.now
		}
		bidders := sample(g, lot.suppliers, n)
		for _, s := range bidders {
			prices := map[string]map[string]int64{}
			for _, t := range buying {
				prices[t] = map[string]int64{}
			}
			content, err := competition.BidContent{CompetitionID: c.ID, Prices: prices, Declarations: declarations}.Encode()
			if err != nil {
				return err
			}
			it := sealed.Imported{SubmissionID: g.id(), Box: competition.BidBox(&c), SupplierOrgID: s, Content: content,
				SubmittedBy: g.leadOf[s], ReceivedAt: g.between(*c.PublishedAt, last)}
			sealedBids = append(sealedBids, it)
			g.made("sealed_submission", it.SubmissionID)
			if stage == compOpened {
				opened = append(opened, competition.Bid{ID: g.id(), CompetitionID: c.ID, SupplierOrgID: s, SubmissionID: it.SubmissionID,
					VersionNumber: 1, SHA256: sealed.Hash(content), ReceivedAt: it.ReceivedAt.UTC().Truncate(time.Microsecond),
					Status: competition.BidOpened, OpenedAt: *c.OpenedAt, OpenedBy: leadUser})
				g.made("competition_bid", opened[len(opened)-1].ID)
			}
		}
		if stage == compOpened {
			g.comps = append(g.comps, awardable{id: c.ID, reference: c.Reference, title: c.Title, winner: bidders[0], buyers: buying, closed: c.SubmissionDeadline})
		}
	}
	if _, err := g.seal.Import(tx, sealedBids); err != nil {
		return err
	}
	for _, rows := range []any{comps, buyers, invitees, opened} {
		if err := tx.Omit(clause.Associations).CreateInBatches(rows, batch).Error; err != nil {
			return fmt.Errorf("create %T: %w", rows, err)
		}
	}
	if err := tx.Table("competition_panel").CreateInBatches(panel, batch).Error; err != nil {
		return fmt.Errorf("create competition panels: %w", err)
	}
	g.counts.Competitions, g.counts.Bids = len(comps), len(sealedBids)
	return nil
}

// competition makes the i-th competition at stage under lot, led by lead.
func (g *generator) competition(i, stage int, lot liveLot, lead, leadUser string) competition.Competition {
	var deadline time.Time
	switch stage {
	case compDraft, compBidding:
		deadline = g.now.AddDate(0, 0, 3+g.rnd.IntN(40))
	default:
		from := lot.liveFrom.AddDate(0, 0, 40)
		if earliest := g.now.AddDate(-2, 0, 0); from.Before(earliest) {
			from = earliest
		}
		if latest := g.now.AddDate(0, 0, -3); from.After(latest) {
			from = latest.Add(-time.Hour)
		}
		deadline = g.between(from, g.now.AddDate(0, 0, -2))
	}
	deadline = day(deadline).Add(12 * time.Hour)
	quality := 50 + 10*g.rnd.IntN(4)
	c := competition.Competition{ID: g.id(), FrameworkID: lot.frameworkID, LotID: lot.lotID, LeadOrgID: lead, Regime: lot.regime,
		Reference:   fmt.Sprintf("MC-%d-%04d", deadline.Year(), i+1),
		Title:       lot.title + " call-off",
		Description: "A further competition under the framework lot for " + lot.title + ", for the lead trust and the trusts buying with it.",
		Status:      competition.StatusPublished, QualityWeight: quality, PriceWeight: 100 - quality, ShowBidCount: g.rnd.IntN(2) == 0,
		QuestionDeadline: deadline.AddDate(0, 0, -10), SubmissionDeadline: deadline,
		EvaluationEnd: deadline.AddDate(0, 0, 21), PlannedAward: deadline.AddDate(0, 0, 35),
		CreatedBy: leadUser, Version: 1}
	published := deadline.AddDate(0, 0, -30)
	if published.After(g.now) {
		published = g.now.Add(-time.Hour)
	}
	c.CreatedAt, c.UpdatedAt = published.AddDate(0, 0, -7), published
	switch stage {
	case compDraft:
		c.Status, c.CreatedAt, c.UpdatedAt = competition.StatusDraft, g.now.AddDate(0, 0, -2), g.now.AddDate(0, 0, -1)
	case compCancelled:
		c.Status, c.PublishedAt = competition.StatusCancelled, &published
		c.CancelledAt, c.CancelReason = ptr(published.AddDate(0, 0, 5)), "The trusts' requirement changed; a new competition will follow."
		c.UpdatedAt = *c.CancelledAt
	case compBidding:
		c.PublishedAt = &published
	case compOpened:
		c.PublishedAt, c.OpenedAt = &published, ptr(deadline.Add(2*time.Hour))
		c.UpdatedAt = *c.OpenedAt
	}
	return c
}

// bidCounts shares Scale.Bids among the competitions that take bids (those
// open for bids and those opened), between one and the lot's supplier count
// each, varied at random but adding up exactly.
func (g *generator) bidCounts() []int {
	counts := make([]int, g.sc.Competitions)
	var taking []int
	for i := range counts {
		if s := compStage(i); s == compBidding || s == compOpened {
			taking = append(taking, i)
		}
	}
	if len(taking) == 0 {
		return counts
	}
	maxBids := g.sc.SuppliersPerLot
	for k, i := range taking {
		counts[i] = g.sc.Bids / len(taking)
		if k < g.sc.Bids%len(taking) {
			counts[i]++
		}
		counts[i] = min(counts[i], maxBids)
	}
	for k, i := range taking {
		j := taking[(k+1)%len(taking)]
		d := g.rnd.IntN(7) - 3
		if counts[i]+d >= 1 && counts[i]+d <= maxBids && counts[j]-d >= 1 && counts[j]-d <= maxBids {
			counts[i] += d
			counts[j] -= d
		}
	}
	return counts
}
