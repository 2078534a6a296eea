package ocds

import (
	"fmt"
	"strings"
	"time"

	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
)

// competitionReleases are a published mini-competition's releases: the
// tender when published, a tender update for each change made after
// publication, the cancellation, the award once its decision has been
// sent (and its updates), and each buying trust's contract with its
// updates.
//
// Until the award decision is sent nothing about the bids is published:
// not how many there are, not who made them, not a price. Even then the
// tender section never carries a price; only the award (the winning bid's
// total) and the contracts carry values.
func (p *Publisher) competitionReleases(s *source, c competition.Competition, now time.Time) ([]Release, error) {
	if c.PublishedAt == nil {
		return nil, nil
	}
	ocid := p.OCID(c.ID)
	var f framework.Framework
	if err := s.db.Where("id = ?", c.FrameworkID).First(&f).Error; err != nil {
		return nil, fmt.Errorf("read framework of competition: %w", err)
	}
	lead, err := s.org(c.LeadOrgID)
	if err != nil {
		return nil, err
	}
	var buyers []competition.Buyer
	if err := s.db.Select("id, competition_id, organisation_id, added_at").Where("competition_id = ?", c.ID).Order("added_at, id").Find(&buyers).Error; err != nil {
		return nil, fmt.Errorf("read buying trusts: %w", err)
	}
	var items []competition.PriceItem
	if err := s.db.Where("competition_id = ?", c.ID).Order("organisation_id, position").Find(&items).Error; err != nil {
		return nil, fmt.Errorf("read price schedules: %w", err)
	}
	var changes []competition.Change
	if err := s.db.Where("competition_id = ?", c.ID).Order("changed_at, id").Find(&changes).Error; err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}

	var ps parties
	ps.add(lead, "buyer")
	ps.add(lead, "procuringEntity")
	names := map[string]string{lead.ID: lead.Name}
	for _, b := range buyers {
		o, err := s.org(b.OrganisationID)
		if err != nil {
			return nil, err
		}
		ps.add(o, "buyer")
		names[o.ID] = o.Name
	}
	t := &Tender{
		ID: c.Reference, Title: c.Title, Description: c.Description, Status: "active", ProcuringEntity: ref(lead),
		ProcurementMethod:        "selective",
		ProcurementMethodDetails: "Further competition under framework agreement " + f.Reference + " (" + framework.RegimeLabel(c.Regime) + ")",
		MainProcurementCategory:  "services",
		AwardCriteria:            "ratedCriteria",
		AwardCriteriaDetails:     fmt.Sprintf("Quality %d%%, price %d%%", c.QualityWeight, c.PriceWeight),
		SubmissionMethod:         []string{"electronicSubmission"},
		TenderPeriod:             &Period{StartDate: stamp(*c.PublishedAt), EndDate: stamp(asPublished(changes, competition.FieldSubmissionDeadline, c.SubmissionDeadline))},
		EnquiryPeriod:            &Period{StartDate: stamp(*c.PublishedAt), EndDate: stamp(asPublished(changes, competition.FieldQuestionDeadline, c.QuestionDeadline))},
	}
	for _, it := range items {
		t.Items = append(t.Items, Item{ID: it.ID, Description: it.Name + " for " + names[it.OrganisationID], Quantity: it.Quantity, Unit: &Unit{Name: it.Unit}})
	}
	tender := release(ocid, tagTender, suffix(*c.PublishedAt), *c.PublishedAt)
	tender.Parties, tender.Buyer, tender.Tender = ps.list, ref(lead), t
	tender.RelatedProcesses = []RelatedProcess{{
		ID: "framework", Relationship: []string{"framework"}, Title: f.Reference + " " + f.Title,
		Scheme: "ocid", Identifier: p.OCID(f.ID), URI: p.ReleasesURL(p.OCID(f.ID)),
	}}
	out := []Release{tender}
	for _, ch := range changes {
		out = append(out, changeRelease(ocid, c, ch))
	}
	if c.Status == competition.StatusCancelled && c.CancelledAt != nil {
		r := release(ocid, tagTenderCancellation, suffix(*c.CancelledAt), *c.CancelledAt)
		r.Tender = &Tender{ID: c.Reference, Status: "cancelled"}
		out = append(out, r)
	}
	awarded, err := p.awardReleases(s, ocid, c, now)
	if err != nil {
		return nil, err
	}
	return append(out, awarded...), nil
}

// asPublished is the deadline as it was when the competition was
// published: the old value of the first change to it, or the current one
// when it never changed.
func asPublished(changes []competition.Change, field string, current time.Time) time.Time {
	for _, ch := range changes {
		if ch.Kind == competition.ChangeDeadline && ch.Subject == field {
			if t, err := time.Parse(time.RFC3339, ch.OldValue); err == nil {
				return t
			}
		}
	}
	return current
}

// changeRelease is the tender update of one change after publication: an
// amendment with the reason given to every invitee, and the new deadline
// when a deadline moved. A document's name and a requirement's wording are
// not published: only that they changed.
func changeRelease(ocid string, c competition.Competition, ch competition.Change) Release {
	r := release(ocid, tagTenderUpdate, ch.ID, ch.ChangedAt)
	t := &Tender{ID: c.Reference}
	var what string
	switch ch.Kind {
	case competition.ChangeDeadline:
		what = "The " + strings.ReplaceAll(ch.Subject, "_", " ") + " was moved"
		if at, err := time.Parse(time.RFC3339, ch.NewValue); err == nil {
			what += " to " + stamp(at)
			switch ch.Subject {
			case competition.FieldSubmissionDeadline:
				t.TenderPeriod = &Period{EndDate: stamp(at)}
			case competition.FieldQuestionDeadline:
				t.EnquiryPeriod = &Period{EndDate: stamp(at)}
			}
		}
	case competition.ChangeRequirement:
		what = "Requirement " + ch.Subject + " was changed"
	case competition.ChangeDocument:
		what = "A document was added to the tender pack"
	default:
		what = "The tender was changed"
	}
	t.Amendments = []Amendment{{ID: ch.ID, Date: stamp(ch.ChangedAt), Rationale: ch.Reason, Description: what}}
	r.Tender = t
	return r
}

// awardReleases are the award of the competition once its decision has
// been sent, its updates, and the contracts made from it.
func (p *Publisher) awardReleases(s *source, ocid string, c competition.Competition, now time.Time) ([]Release, error) {
	var awards []award.Award
	if err := s.db.Where("competition_id = ?", c.ID).Find(&awards).Error; err != nil {
		return nil, fmt.Errorf("read award: %w", err)
	}
	if len(awards) == 0 {
		return nil, nil
	}
	aw := awards[0]
	winner, err := s.org(aw.SupplierOrgID)
	if err != nil {
		return nil, err
	}
	// The winning bid's total across the buying trusts, as moderated: the
	// award's value. Other bids' totals are never read.
	var total struct{ Sum int64 }
	if err := s.db.Table("competition_bid_totals").Select("COALESCE(SUM(total_pence), 0) AS sum").Where("bid_id = ?", aw.BidID).Scan(&total).Error; err != nil {
		return nil, fmt.Errorf("read award value: %w", err)
	}
	var tenderers int64
	if err := s.db.Model(&competition.Bid{}).Where("competition_id = ?", c.ID).Count(&tenderers).Error; err != nil {
		return nil, fmt.Errorf("count bids: %w", err)
	}
	n := int(tenderers)
	var ps parties
	ps.add(winner, "supplier")
	r := release(ocid, tagAward, suffix(aw.LettersSentAt), aw.LettersSentAt)
	r.Parties = ps.list
	r.Tender = &Tender{ID: c.Reference, Status: "complete", NumberOfTenderers: &n}
	r.Awards = []Award{{ID: c.ID, Title: c.Title, Status: "pending", Date: stamp(aw.LettersSentAt), Value: pounds(total.Sum), Suppliers: []OrgRef{*ref(winner)}}}
	out := []Release{r}
	if aw.ConfirmedAt != nil {
		u := release(ocid, tagAwardUpdate, suffix(*aw.ConfirmedAt), *aw.ConfirmedAt)
		u.Awards = []Award{{ID: c.ID, Status: "active"}}
		out = append(out, u)
	}
	if aw.Status == award.StatusSetAside {
		var resolved []time.Time
		if err := s.db.Table("award_challenges").Where("competition_id = ? AND outcome = ?", c.ID, award.ChallengeUpheld).
			Order("resolved_at").Pluck("resolved_at", &resolved).Error; err != nil {
			return nil, fmt.Errorf("read challenges: %w", err)
		}
		if len(resolved) > 0 {
			u := release(ocid, tagAwardUpdate, "set-aside-"+suffix(resolved[0]), resolved[0])
			u.Awards = []Award{{ID: c.ID, Status: "cancelled"}}
			out = append(out, u)
		}
	}
	contracts, err := p.contractReleases(s, ocid, c, now)
	if err != nil {
		return nil, err
	}
	return append(out, contracts...), nil
}
