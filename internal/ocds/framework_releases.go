package ocds

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// Release tags and other codes of the OCDS codelists the releases use.
const (
	tagTender             = "tender"
	tagTenderUpdate       = "tenderUpdate"
	tagTenderCancellation = "tenderCancellation"
	tagAward              = "award"
	tagAwardUpdate        = "awardUpdate"
	tagContract           = "contract"
	tagContractUpdate     = "contractUpdate"
	tagContractEnd        = "contractTermination"
)

// release starts a release of the process ocid: its ID is the OCID, the
// tag and a suffix that the stored data fixes (a moment or an object's
// ID), so the same state always gives the same ID.
func release(ocid, tag, suffix string, at time.Time) Release {
	return Release{OCID: ocid, ID: ocid + "-" + tag + "-" + suffix, Date: stamp(at), Tag: []string{tag}, InitiationType: "tender", Language: "en"}
}

// frameworkReleases are a published framework's releases: the tender when
// published, the award to each lot's appointed suppliers once the award
// letters were sent (pending during the standstill, active once it has
// ended), and the cancellation. Frameworks record no changes after
// publication, so there is no tender update.
func (p *Publisher) frameworkReleases(s *source, f framework.Framework, now time.Time) ([]Release, error) {
	if f.PublishedAt == nil {
		return nil, nil
	}
	ocid := p.OCID(f.ID)
	consortium, err := s.org(f.ConsortiumID)
	if err != nil {
		return nil, err
	}
	var lots []framework.Lot
	if err := s.db.Where("framework_id = ?", f.ID).Order("number").Find(&lots).Error; err != nil {
		return nil, fmt.Errorf("read lots: %w", err)
	}
	var ps parties
	ps.add(consortium, "buyer")
	ps.add(consortium, "procuringEntity")
	method := "selective"
	if f.Kind == framework.KindOpen {
		method = "open"
	}
	term := &Period{StartDate: stamp(f.TermStart), EndDate: stamp(f.TermEnd)}
	t := &Tender{
		ID: f.Reference, Title: f.Title, Description: f.Description, Status: "active", ProcuringEntity: ref(consortium),
		ProcurementMethod: method, ProcurementMethodDetails: "Framework agreement (" + framework.RegimeLabel(f.Regime) + ")",
		MainProcurementCategory: "services", SubmissionMethod: []string{"electronicSubmission"},
		TenderPeriod:   &Period{StartDate: stamp(f.ApplicationsOpen), EndDate: stamp(f.ApplicationDeadline)},
		EnquiryPeriod:  &Period{StartDate: stamp(*f.PublishedAt), EndDate: stamp(f.ClarificationDeadline)},
		ContractPeriod: term,
		Techniques:     &Techniques{HasFrameworkAgreement: true},
	}
	for _, l := range lots {
		t.Lots = append(t.Lots, Lot{ID: l.ID, Title: lotTitle(l), Description: l.Scope, Status: "active"})
	}
	tender := release(ocid, tagTender, suffix(*f.PublishedAt), *f.PublishedAt)
	tender.Parties, tender.Buyer, tender.Tender = ps.list, ref(consortium), t
	out := []Release{tender}

	if f.StandstillStartedAt != nil {
		awards, suppliers, err := frameworkAwards(s, f, lots, term)
		if err != nil {
			return nil, err
		}
		if len(awards) > 0 {
			var aps parties
			for _, o := range suppliers {
				aps.add(o, "supplier")
			}
			r := release(ocid, tagAward, suffix(*f.StandstillStartedAt), *f.StandstillStartedAt)
			r.Parties, r.Awards = aps.list, awards
			r.Tender = &Tender{ID: f.Reference, Status: "complete"}
			out = append(out, r)
			if f.StandstillEnds != nil && !now.Before(*f.StandstillEnds) {
				u := release(ocid, tagAwardUpdate, suffix(*f.StandstillEnds), *f.StandstillEnds)
				for _, a := range awards {
					u.Awards = append(u.Awards, Award{ID: a.ID, Status: "active"})
				}
				out = append(out, u)
			}
		}
	}
	if f.Status == framework.StatusCancelled && f.CancelledAt != nil {
		r := release(ocid, tagTenderCancellation, suffix(*f.CancelledAt), *f.CancelledAt)
		r.Tender = &Tender{ID: f.Reference, Status: "cancelled"}
		out = append(out, r)
	}
	return out, nil
}

// lotTitle is how a lot is named: "Lot 1: Acute EPR".
func lotTitle(l framework.Lot) string { return "Lot " + strconv.Itoa(l.Number) + ": " + l.Title }

// frameworkAwards is one award per lot with appointed suppliers, and those
// suppliers. Nothing of the applications themselves is read.
func frameworkAwards(s *source, f framework.Framework, lots []framework.Lot, term *Period) ([]Award, []orgs.Organisation, error) {
	var apps []framework.Application
	if err := s.db.Select("id, lot_id, supplier_org_id, status").Where("framework_id = ? AND status = ?", f.ID, framework.ApplicationAppointed).
		Order("supplier_org_id").Find(&apps).Error; err != nil {
		return nil, nil, fmt.Errorf("read appointments: %w", err)
	}
	var awards []Award
	var suppliers []orgs.Organisation
	for _, l := range lots {
		a := Award{ID: l.ID, Title: lotTitle(l), Status: "pending", Date: stamp(*f.StandstillStartedAt), ContractPeriod: term, RelatedLots: []string{l.ID}}
		for _, app := range apps {
			if app.LotID != l.ID {
				continue
			}
			o, err := s.org(app.SupplierOrgID)
			if err != nil {
				return nil, nil, err
			}
			a.Suppliers = append(a.Suppliers, *ref(o))
			suppliers = append(suppliers, o)
		}
		if len(a.Suppliers) > 0 {
			awards = append(awards, a)
		}
	}
	return awards, suppliers, nil
}
