package exit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/orgs"
)

// DemoDeployments is how many deployments the demo data holds: as many as
// the national programme counted when its contracts ended.
const DemoDeployments = 765

// demoContracts are the demo national contracts, one per local service
// provider area, ending the given months after the demo data is loaded.
var demoContracts = []struct {
	Reference, Supplier, Area string
	EndsIn                    int
}{
	{"LSP-LONDON", "BT", "Y56", 10},
	{"LSP-SOUTH", "BT (formerly Fujitsu)", "Y57", 17},
	{"LSP-NORTH", "CSC", "Y54", 15},
	{"LSP-MIDLANDS-EAST", "CSC", "Y55", 14},
}

// demoProducts are products typical of each system type.
var demoProducts = map[string][]string{
	SystemPAS:            {"Cerner Millennium PAS", "Lorenzo PAS", "iPM", "RiO"},
	SystemEPR:            {"Cerner Millennium", "Lorenzo", "RiO EPR"},
	SystemClinicalPortal: {"Clinical portal"},
	SystemPACS:           {"GE Centricity PACS", "Agfa IMPAX", "Sectra PACS"},
	SystemTheatres:       {"Theatreman", "Galaxy Theatres"},
	SystemHosting:        {"Data centre hosting"},
	SystemOther:          {"Child health system", "Maternity system"},
}

// SeedDemo loads demo exit tracker data, once: the four national contracts,
// DemoDeployments deployments spread over the open trusts of their areas
// with exit plans at every stage, and eight weeks of snapshots computed
// as the plans stood then, so the trend has a history. random gives the
// same data for the same seed. It does nothing when a national contract
// is already recorded, and returns how many deployments it created.
func SeedDemo(ctx context.Context, db *gorm.DB, log *audit.Log, now time.Time, seed uint64) (int, error) {
	created := 0
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&NationalContract{}).Count(&n).Error; err != nil {
			return fmt.Errorf("check national contracts: %w", err)
		}
		if n > 0 {
			return nil
		}
		var trusts []orgs.Organisation
		if err := tx.Where("kind = ?", orgs.KindTrust).Order("ods_code").Find(&trusts).Error; err != nil {
			return fmt.Errorf("read trusts: %w", err)
		}
		rnd := rand.New(rand.NewPCG(seed, seed^0x5eed)) // #nosec G404 -- demo data must repeat for a seed; nothing secret is drawn
		now = now.UTC().Truncate(time.Microsecond)
		today := Day(now)
		byArea := map[string]*NationalContract{}
		for _, c := range demoContracts {
			ends := addMonths(today, c.EndsIn)
			completeBy := Day(addMonths(ends, -13))
			nc := NationalContract{ID: newID(), Reference: c.Reference, SupplierName: c.Supplier, Area: c.Area,
				ExpiresOn: Day(ends.AddDate(0, 0, -1)), ProcurementCompleteBy: &completeBy, Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&nc).Error; err != nil {
				return fmt.Errorf("create national contract: %w", err)
			}
			byArea[c.Area] = &nc
		}
		var eligible []orgs.Organisation
		for _, t := range trusts {
			if byArea[t.Region] != nil {
				eligible = append(eligible, t)
			}
		}
		if len(eligible) == 0 {
			return nil
		}
		list, decided := demoDeployments(rnd, eligible, byArea, today, now)
		if err := tx.Omit("NationalContract", "Organisation").CreateInBatches(list, 200).Error; err != nil {
			return fmt.Errorf("create deployments: %w", err)
		}
		created = len(list)
		if err := demoSnapshots(tx, list, decided, byArea, now); err != nil {
			return err
		}
		return log.Append(tx, audit.System, audit.Event{Action: "seed.exit_demo", ObjectType: "portal",
			Detail: map[string]any{"national_contracts": len(demoContracts), "deployments": created}})
	})
	return created, err
}

// demoDeployments spreads DemoDeployments deployments over the trusts,
// each trust's system types distinct where it can be, with plans at every
// stage: a quarter not started, a third in procurement, the rest awarded,
// signed, migrating or cut over. decided says, for plans made recently,
// when the path was chosen, so the snapshots before it show none.
func demoDeployments(rnd *rand.Rand, trusts []orgs.Organisation, byArea map[string]*NationalContract, today, now time.Time) (out []Deployment, decided map[string]time.Time) {
	out = make([]Deployment, 0, DemoDeployments)
	decided = map[string]time.Time{}
	seen := map[string]bool{}
	day := func(t time.Time) *time.Time { d := Day(t); return &d }
	ago := func(lo, hi int) time.Time { return today.AddDate(0, 0, -(lo + rnd.IntN(hi-lo+1))) }
	paths := []string{PathCallOff, PathCallOff, PathCallOff, PathOpen, PathOpen, PathDirect, PathExtension, PathOther}
	for i := 0; len(out) < DemoDeployments; i++ {
		t := trusts[i%len(trusts)]
		system := SystemTypes[rnd.IntN(len(SystemTypes))]
		products := demoProducts[system]
		product := products[rnd.IntN(len(products))]
		key := t.ID + system + product
		if seen[key] {
			continue
		}
		seen[key] = true
		nc := byArea[t.Region]
		d := Deployment{ID: newID(), NationalContractID: nc.ID, OrganisationID: t.ID, SystemType: system, Product: product,
			Version: 1, CreatedAt: now, UpdatedAt: now}
		m := &d.Milestones
		switch p := rnd.IntN(100); {
		case p < 12: // nothing decided
		case p < 25:
			d.Path = paths[rnd.IntN(len(paths))]
			m.ProcurementStartPlan = day(today.AddDate(0, 0, 14+rnd.IntN(90)))
		case p < 58:
			d.Path = paths[rnd.IntN(len(paths))]
			m.ProcurementStartActual = day(ago(1, 240))
			m.AwardPlan = day(addMonths(*m.ProcurementStartActual, 3+rnd.IntN(7)))
		case p < 72:
			d.Path = paths[rnd.IntN(len(paths))]
			m.ProcurementStartActual = day(ago(200, 400))
			m.AwardActual = day(ago(10, 150))
			m.SignedPlan = day(today.AddDate(0, 0, 7+rnd.IntN(60)))
		case p < 80:
			d.Path = paths[rnd.IntN(len(paths))]
			m.ProcurementStartActual = day(ago(300, 500))
			m.AwardActual = day(ago(150, 280))
			m.SignedActual = day(ago(20, 140))
			m.MigrationStartPlan = day(today.AddDate(0, 0, 7+rnd.IntN(60)))
		case p < 92:
			d.Path = paths[rnd.IntN(len(paths))]
			m.ProcurementStartActual = day(ago(400, 600))
			m.AwardActual = day(ago(280, 380))
			m.SignedActual = day(ago(200, 270))
			m.MigrationStartActual = day(ago(1, 90))
			m.CutoverPlan = day(today.AddDate(0, 0, 30+rnd.IntN(400)))
		default:
			d.Path = paths[rnd.IntN(len(paths))]
			m.ProcurementStartActual = day(ago(500, 700))
			m.AwardActual = day(ago(400, 480))
			m.SignedActual = day(ago(330, 390))
			m.MigrationStartActual = day(ago(150, 320))
			m.CutoverActual = day(ago(1, 56))
		}
		if m.ProcurementStartActual == nil || m.ProcurementStartActual.After(now.AddDate(0, 0, -60)) {
			if d.Path != PathNone && rnd.IntN(3) > 0 {
				decided[d.ID] = now.AddDate(0, 0, -rnd.IntN(60))
			}
		}
		out = append(out, d)
	}
	return out, decided
}

// demoSnapshots records eight weekly snapshots before now, each rating the
// plans as they stood that week: actual dates still to come then are left
// out.
func demoSnapshots(tx *gorm.DB, list []Deployment, decided map[string]time.Time, byArea map[string]*NationalContract, now time.Time) error {
	byID := map[string]*NationalContract{}
	for _, nc := range byArea {
		byID[nc.ID] = nc
	}
	r, err := loadRules(tx)
	if err != nil {
		return err
	}
	for w := 8; w >= 1; w-- {
		then := now.AddDate(0, 0, -7*w)
		snap := Snapshot{ID: newID(), Week: Week(then), TakenAt: then}
		if err := tx.Create(&snap).Error; err != nil {
			return fmt.Errorf("record snapshot: %w", err)
		}
		rows := make([]snapshotRating, len(list))
		for i, d := range list {
			d.NationalContract = *byID[d.NationalContractID]
			undecided := decided[d.ID].After(then)
			if undecided {
				d.Path = PathNone
			}
			for _, k := range MilestoneKinds {
				plan, actual, _ := d.Dates(k)
				if *actual != nil && (*actual).After(then) {
					*actual = nil
				}
				if undecided {
					*plan = nil
				}
			}
			a := Rate(d, r, then)
			rows[i] = snapshotRating{SnapshotID: snap.ID, DeploymentID: d.ID, Rating: a.Rating, Reason: a.Reason}
		}
		if err := tx.CreateInBatches(rows, 200).Error; err != nil {
			return fmt.Errorf("record snapshot ratings: %w", err)
		}
	}
	return nil
}
