package seed

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
)

// frameworks makes the framework agreements: most live, with suppliers
// appointed to every lot and other trusts admitted as buyers; a few open
// for applications and a few still drafts, as a national programme would
// have at any one time.
func (g *generator) frameworks(tx *gorm.DB) error {
	var fws []framework.Framework
	var lots []framework.Lot
	var buyers []framework.Buyer
	var apps []framework.Application
	var sealedApps []sealed.Imported
	declarations := make([]string, len(framework.Declarations))
	for i, d := range framework.Declarations {
		declarations[i] = d.Key
	}
	for i := range g.sc.Frameworks {
		k := g.consortia[i%len(g.consortia)]
		sys := systems[i%len(systems)]
		f := g.framework(i, k, sys.Title)
		fws = append(fws, f)
		live := f.Status == framework.StatusLive
		eligible := g.frameworkBuyers(&buyers, f, k)
		for n := range min(g.sc.LotsPerFramework, len(sys.Lots)) {
			lot := framework.Lot{ID: g.id(), FrameworkID: f.ID, Number: n + 1, Title: sys.Lots[n], MinSuppliers: 1, MaxSuppliers: 60,
				Scope: "Supply, implementation and support of " + sys.Lots[n] + " for the buying trusts.", CallOff: framework.CallOffCompetition}
			lots = append(lots, lot)
			if !live {
				continue
			}
			ll := liveLot{frameworkID: f.ID, lotID: lot.ID, regime: f.Regime, title: sys.Lots[n], buyers: eligible, liveFrom: *f.StandstillEnds}
			for _, s := range sample(g, g.suppliers, g.sc.SuppliersPerLot) {
				content, err := framework.ApplicationContent{LotID: lot.ID, Declarations: declarations}.Encode()
				if err != nil {
					return err
				}
				received := g.between(f.ApplicationsOpen, f.ApplicationDeadline)
				it := sealed.Imported{SubmissionID: g.id(), Box: sealed.Box{Type: sealed.TypeFrameworkApplication, ID: lot.ID},
					SupplierOrgID: s.ID, Content: content, SubmittedBy: g.leadOf[s.ID], ReceivedAt: received}
				sealedApps = append(sealedApps, it)
				apps = append(apps, framework.Application{ID: g.id(), FrameworkID: f.ID, LotID: lot.ID, SupplierOrgID: s.ID,
					SubmissionID: it.SubmissionID, VersionNumber: 1, SHA256: sealed.Hash(content), ReceivedAt: received,
					Status: framework.ApplicationAppointed, Reason: "Met every requirement and scored in the top band for quality.",
					DecidedAt: f.StandstillStartedAt, DecidedBy: g.leadOf[k.org.ID], OpenedAt: *f.OpenedAt, OpenedBy: f.OpenedBy})
				ll.suppliers = append(ll.suppliers, s.ID)
			}
			g.lots = append(g.lots, ll)
		}
	}
	if _, err := g.seal.Import(tx, sealedApps); err != nil {
		return err
	}
	for _, rows := range []any{fws, lots, buyers, apps} {
		if err := tx.Omit(clause.Associations).CreateInBatches(rows, batch).Error; err != nil {
			return fmt.Errorf("create %T: %w", rows, err)
		}
	}
	g.counts.Frameworks, g.counts.Lots, g.counts.Appointments = len(fws), len(lots), len(apps)
	return nil
}

// framework makes the i-th framework of consortium k. One in 25 is open
// for applications and one in 25 a draft; the rest are live, their terms
// begun up to two and a half years ago.
func (g *generator) framework(i int, k consortium, title string) framework.Framework {
	status := framework.StatusLive
	switch i % 25 {
	case 23:
		status = framework.StatusPublished
	case 24:
		status = framework.StatusDraft
	}
	termStart := day(g.now.AddDate(0, 0, -30-g.rnd.IntN(870)))
	if status != framework.StatusLive {
		termStart = day(g.now.AddDate(0, 0, 60+g.rnd.IntN(60)))
	}
	opens := termStart.AddDate(0, 0, -120).Add(9 * time.Hour)
	f := framework.Framework{ID: g.id(), ConsortiumID: k.org.ID, Title: title, Status: status, Version: 1,
		Reference:   fmt.Sprintf("FW-%d-%03d", termStart.Year(), i+1),
		Description: "A framework agreement for " + title + ", open to the consortium's member trusts and to other NHS trusts admitted as buyers.",
		Regime:      pick(g, []string{framework.RegimePCR2015, framework.RegimePA2023}), Kind: framework.KindClosed,
		TermStart: termStart, TermEnd: termStart.AddDate(4, 0, 0), ApplicationsOpen: opens,
		ClarificationDeadline: opens.AddDate(0, 0, 30), ApplicationDeadline: opens.AddDate(0, 0, 40).Add(3 * time.Hour),
		CreatedAt: opens.AddDate(0, 0, -20), UpdatedAt: opens}
	if status != framework.StatusDraft {
		f.PublishedAt = ptr(opens.AddDate(0, 0, -1))
	}
	if status == framework.StatusLive {
		opened := f.ApplicationDeadline.Add(time.Hour)
		standstill := f.ApplicationDeadline.AddDate(0, 0, 35)
		f.OpenedAt, f.OpenedBy = &opened, g.leadOf[k.org.ID]
		f.StandstillStartedAt, f.StandstillEnds = &standstill, ptr(standstill.AddDate(0, 0, 10))
		f.UpdatedAt = *f.StandstillEnds
	}
	f.LastState = f.State(g.now)
	return f
}

// frameworkBuyers adds the consortium's members and ten to twenty-five
// other trusts admitted at their request as the framework's buyers, and
// returns their IDs.
func (g *generator) frameworkBuyers(buyers *[]framework.Buyer, f framework.Framework, k consortium) []string {
	if f.PublishedAt == nil {
		return nil
	}
	var ids []string
	member := map[string]bool{}
	for _, t := range k.members {
		member[t] = true
		ids = append(ids, t)
		*buyers = append(*buyers, framework.Buyer{ID: g.id(), FrameworkID: f.ID, OrganisationID: t, Status: framework.BuyerMember, DecidedAt: f.PublishedAt})
	}
	for _, t := range sample(g, g.trusts, 10+g.rnd.IntN(16)) {
		if member[t.ID] {
			continue
		}
		requested := g.between(*f.PublishedAt, g.now.Add(-48*time.Hour))
		*buyers = append(*buyers, framework.Buyer{ID: g.id(), FrameworkID: f.ID, OrganisationID: t.ID, Status: framework.BuyerAdmitted,
			RequestedAt: &requested, DecidedAt: ptr(requested.Add(26 * time.Hour)), DecidedBy: g.leadOf[k.org.ID]})
		ids = append(ids, t.ID)
	}
	return ids
}
