package exit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/uktime"
)

// fixture is a live framework (domaintest.LiveFramework) with the exit
// tracker: the London national contract ending 30 June 2028, procurement
// to be complete by 30 June 2027 (leaving the EPR's 12 months to migrate), and two deployments at St George's
// (RJ7): an EPR and a PAS.
type fixture struct {
	*domaintest.Live
	s        *exit.Service
	admin    audit.Actor
	nc       *exit.NationalContract
	epr, pas *exit.Deployment
}

func ukDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, uktime.Location).UTC()
}

func ptr(t time.Time) *time.Time { return &t }

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	x := &fixture{Live: domaintest.LiveFramework(t, db)}
	x.s = &exit.Service{DB: db, Audit: x.Log, Clock: x.Clock}
	x.admin = domaintest.DemoActor(t, db, "demo-platform-admin")
	nc, err := x.s.SaveNationalContract(ctx, x.admin, "", exit.NationalContractInput{
		Reference: "lsp-london", SupplierName: "BT", Area: "Y56",
		ExpiresOn: ukDay(2028, 6, 30), ProcurementCompleteBy: ptr(ukDay(2027, 6, 30)),
	})
	if err != nil {
		t.Fatal(err)
	}
	x.nc = nc
	for _, d := range []struct {
		to      **exit.Deployment
		system  string
		product string
	}{{&x.epr, exit.SystemEPR, "Cerner Millennium"}, {&x.pas, exit.SystemPAS, "RiO"}} {
		made, err := x.s.CreateDeployment(ctx, x.admin, exit.DeploymentInput{NationalContractID: nc.ID, OrganisationID: x.RJ7, SystemType: d.system, Product: d.product})
		if err != nil {
			t.Fatal(err)
		}
		*d.to = made
	}
	return x
}

func (x *fixture) reload(t *testing.T, id string) *exit.Deployment {
	t.Helper()
	d, err := x.s.Deployment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNationalContracts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		if x.nc.Reference != "LSP-LONDON" || x.nc.AreaName() != "London" {
			t.Fatalf("saved %+v", x.nc)
		}
		_, err := x.s.SaveNationalContract(ctx, x.admin, "", exit.NationalContractInput{
			Reference: "LSP-LONDON", SupplierName: "", Area: "Y99", ExpiresOn: ukDay(2028, 6, 30), ProcurementCompleteBy: ptr(ukDay(2028, 7, 1)),
		})
		domaintest.WantErrors(t, err, map[string]string{
			exit.FieldSupplier:   "Enter the name of the national contract's supplier",
			exit.FieldArea:       "Select the area the national contract covers",
			exit.FieldCompleteBy: "The date procurement should be complete by must be on or before the contract's last day, 30 June 2028",
		})
		_, err = x.s.SaveNationalContract(ctx, x.admin, "", exit.NationalContractInput{Reference: "LSP-LONDON", SupplierName: "BT", Area: "Y56", ExpiresOn: ukDay(2028, 6, 30)})
		domaintest.WantErrors(t, err, map[string]string{
			exit.FieldReference: "A national contract with the reference LSP-LONDON is already recorded; enter another reference"})
		// Moving the date procurement should be complete by to leave less
		// than the EPR's 12 months of migration (the PAS's 9 fit exactly)
		// contradicts the rules; nothing is saved.
		_, err = x.s.SaveNationalContract(ctx, x.admin, x.nc.ID, exit.NationalContractInput{
			Reference: "LSP-LONDON", SupplierName: "BT", Area: "Y56", ExpiresOn: ukDay(2028, 6, 30), ProcurementCompleteBy: ptr(ukDay(2027, 9, 30)), Version: x.nc.Version,
		})
		domaintest.WantErrors(t, err, map[string]string{
			exit.FieldCompleteBy: "The rules contradict each other: LSP-LONDON asks for procurement to be complete by 30 September 2027, but EPR migration needs 12 months and the contract ends on 30 June 2028. Move the date earlier or shorten the lead time"})
		_, err = x.s.SaveNationalContract(ctx, x.admin, x.nc.ID, exit.NationalContractInput{
			Reference: "LSP-LONDON", SupplierName: "BT", Area: "Y56", ExpiresOn: ukDay(2028, 6, 30), ProcurementCompleteBy: ptr(ukDay(2027, 5, 31)), Version: x.nc.Version,
		})
		if err != nil {
			t.Fatalf("13 months before the end leaves the PAS and EPR enough: %v", err)
		}
		_, err = x.s.SaveNationalContract(ctx, x.admin, x.nc.ID, exit.NationalContractInput{
			Reference: "LSP-LONDON", SupplierName: "BT", Area: "Y56", ExpiresOn: ukDay(2028, 6, 30), Version: x.nc.Version,
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("stale version: %v", err)
		}
		// A trust lead is refused, and the refusal is audited.
		_, err = x.s.SaveNationalContract(ctx, x.Aisha, "", exit.NationalContractInput{Reference: "LSP-SOUTH", SupplierName: "Fujitsu", Area: "Y57", ExpiresOn: ukDay(2028, 6, 30)})
		if !errors.Is(err, exit.ErrNotAdmin) {
			t.Errorf("trust lead: %v", err)
		}
		if n := domaintest.Count(t, db, "audit_entries", "action = ? AND outcome = ?", "national_contract.create", audit.Denied); n != 1 {
			t.Errorf("%d refusals audited", n)
		}
		list, err := x.s.NationalContracts(ctx)
		if err != nil || len(list) != 1 || !list[0].ProcurementCompleteBy.Equal(ukDay(2027, 5, 31)) {
			t.Errorf("national contracts %+v (err %v)", list, err)
		}
	})
}

func TestRulesContradictions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		r, err := x.s.Rules(ctx)
		if err != nil || r.MigrationMonths[exit.SystemEPR] != 12 {
			t.Fatalf("rules %+v (err %v)", r, err)
		}
		// Procurement complete by 30 June 2027 leaves 12 months before
		// the end of June 2028: an EPR migration of 13 contradicts it.
		r.MigrationMonths[exit.SystemEPR] = 13
		domaintest.WantErrors(t, x.s.SaveRules(ctx, x.admin, r), map[string]string{
			exit.MigrationField(exit.SystemEPR): "The rules contradict each other: LSP-LONDON asks for procurement to be complete by 30 June 2027, but EPR migration needs 13 months and the contract ends on 30 June 2028. Move the date earlier or shorten the lead time"})
		r.MigrationMonths[exit.SystemEPR] = 6
		r.AmberBelow = 4
		if err := x.s.SaveRules(ctx, x.admin, r); err != nil {
			t.Fatal(err)
		}
		got, _ := x.s.Rules(ctx)
		if got.MigrationMonths[exit.SystemEPR] != 6 || got.AmberBelow != 4 || got.MigrationMonths[exit.SystemPAS] != 9 {
			t.Errorf("saved rules %+v", got)
		}
		if n := domaintest.Count(t, db, "audit_entries", "action = ? AND outcome = ?", "exit.rules.update", audit.Success); n != 1 {
			t.Errorf("%d rule changes audited", n)
		}
		if err := x.s.SaveRules(ctx, x.Aisha, got); !errors.Is(err, exit.ErrNotAdmin) {
			t.Errorf("trust lead: %v", err)
		}
	})
}

func TestUpdatePlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		today := exit.Day(x.Clock.Now())
		bad := exit.PlanInput{Path: exit.PathOpen, Version: x.epr.Version, Milestones: exit.Milestones{
			AwardPlan: ptr(ukDay(2027, 9, 1)), CutoverPlan: ptr(ukDay(2027, 8, 1)),
			ProcurementStartActual: ptr(today.AddDate(0, 0, 1)),
		}}
		domaintest.WantErrors(t, x.s.UpdatePlan(ctx, x.Aisha, x.epr.ID, bad), map[string]string{
			exit.PlanField(exit.MilestoneCutover):            "The planned cut-over date (1 August 2027) cannot be before the planned award date (1 September 2027)",
			exit.ActualField(exit.MilestoneProcurementStart): "The actual date of the procurement start cannot be in the future: enter today (" + uktime.Date(today) + ") or earlier, or give it as planned",
		})
		if d := x.reload(t, x.epr.ID); d.Path != exit.PathNone || d.AwardPlan != nil || d.Version != 1 {
			t.Fatalf("a refused plan saved something: %+v", d)
		}
		good := exit.PlanInput{Path: exit.PathCallOff, Notes: "Calling off lot 1", Version: x.epr.Version, Milestones: exit.Milestones{
			ProcurementStartActual: ptr(today), AwardPlan: ptr(ukDay(2027, 3, 31)), CutoverPlan: ptr(ukDay(2028, 3, 1)),
		}}
		if err := x.s.UpdatePlan(ctx, x.Aisha, x.epr.ID, good); err != nil {
			t.Fatal(err)
		}
		d := x.reload(t, x.epr.ID)
		if d.Path != exit.PathCallOff || d.Stage() != exit.StageProcurement || !d.CutoverPlan.Equal(ukDay(2028, 3, 1)) || d.Version != 2 {
			t.Fatalf("plan %+v", d)
		}
		if err := x.s.UpdatePlan(ctx, x.Aisha, x.epr.ID, good); !errors.Is(err, store.ErrConflict) {
			t.Errorf("stale version: %v", err)
		}
		// Another trust's lead and a supplier are refused and audited.
		good.Version = d.Version
		for _, who := range []audit.Actor{x.Omar, x.Sarah} {
			if err := x.s.UpdatePlan(ctx, who, x.epr.ID, good); !errors.Is(err, exit.ErrNotTrustLead) {
				t.Errorf("%s: %v", who.Label, err)
			}
		}
		if n := domaintest.Count(t, db, "audit_entries", "action = ? AND outcome = ?", "deployment.plan.update", audit.Denied); n != 2 {
			t.Errorf("%d refusals audited", n)
		}
		// A competition the trust does not buy in cannot be linked.
		good.CompetitionID = "00000000-0000-0000-0000-000000000000"
		domaintest.WantErrors(t, x.s.UpdatePlan(ctx, x.Aisha, x.epr.ID, good), map[string]string{
			exit.FieldCompetition: "Select a mini-competition in which the trust is a buyer"})
	})
}

// TestContractFillsThePlan: a contract recording the deployments it
// replaces links them and fills in their plans; signing it records the
// signature; a deployment of another trust is refused with nothing saved.
func TestContractFillsThePlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		cs := &contracts.Service{DB: db, Audit: x.Log, Clock: x.Clock, Replacements: exit.Replacements{S: x.s}}
		comp := x.Ready(t, domaintest.CompetitionInput("SWL-EPR-001"))
		var made []contracts.Contract
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			made, err = cs.CreateFromAward(ctx, tx, x.Aisha, contracts.AwardInput{
				CompetitionID: comp.ID, SupplierOrgID: x.Sarah.OrgID, Reference: comp.Reference, Title: comp.Title,
				Buyers: []contracts.BuyerValue{{OrganisationID: x.RJ7, ValuePence: 100_000_000}},
				Start:  ukDay(2027, 6, 1), End: ukDay(2032, 5, 31),
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c := made[0]
		other, err := x.s.CreateDeployment(ctx, x.admin, exit.DeploymentInput{NationalContractID: x.nc.ID, OrganisationID: x.RJ1, SystemType: exit.SystemEPR, Product: "Lorenzo"})
		if err != nil {
			t.Fatal(err)
		}
		in := contracts.DetailsInput{ValuePence: c.ValuePence, Start: c.StartDate, End: c.EndDate, DeploymentIDs: []string{x.epr.ID, other.ID}, Version: c.Version}
		domaintest.WantErrors(t, cs.Update(ctx, x.Aisha, c.ID, in), map[string]string{exit.FieldDeployments: "Select only deployments of the buying trust"})
		if d := x.reload(t, x.epr.ID); d.ContractID != nil {
			t.Fatal("a refused contract change linked a deployment")
		}
		in.DeploymentIDs = []string{x.epr.ID}
		if err := cs.Update(ctx, x.Aisha, c.ID, in); err != nil {
			t.Fatal(err)
		}
		d := x.reload(t, x.epr.ID)
		if d.ContractID == nil || *d.ContractID != c.ID || d.CompetitionID == nil || *d.CompetitionID != comp.ID || d.Path != exit.PathCallOff ||
			d.AwardActual == nil || !d.AwardActual.Equal(exit.Day(c.CreatedAt)) || d.SignedActual != nil {
			t.Fatalf("linked deployment %+v", d)
		}
		if err := cs.Sign(ctx, x.Aisha, c.ID, x.Clock.Now(), c.Version+1); err != nil {
			t.Fatal(err)
		}
		if d := x.reload(t, x.epr.ID); d.SignedActual == nil || !d.SignedActual.Equal(exit.Day(x.Clock.Now())) || d.Stage() != exit.StageSigned {
			t.Fatalf("signed deployment %+v", d)
		}
		ids, err := exit.Replacements{S: x.s}.Replaced(db.DB, c.ID)
		if err != nil || len(ids) != 1 || ids[0] != x.epr.ID {
			t.Errorf("replaced %v (err %v)", ids, err)
		}
	})
}

// TestDashboardAndSnapshots: the dashboard counts the scope's ratings by
// group, a trust sees only its own, the weekly snapshot is taken once a
// week and the trend shows it.
func TestDashboardAndSnapshots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		empty := &exit.Service{DB: storetest.Open(t, db.Kind), Audit: x.Log, Clock: x.Clock}
		if took, err := empty.TakeSnapshot(ctx); err != nil || took {
			t.Fatalf("a snapshot of no deployments: took %v, err %v", took, err)
		}
		if _, err := x.s.CreateDeployment(ctx, x.admin, exit.DeploymentInput{NationalContractID: x.nc.ID, OrganisationID: x.RJ1, SystemType: exit.SystemPACS, Product: "Sectra"}); err != nil {
			t.Fatal(err)
		}
		// Cut the PAS over: green. The others have no path: amber (19
		// months left with no path chosen leaves time).
		today := exit.Day(x.Clock.Now())
		if err := x.s.UpdatePlan(ctx, x.Aisha, x.pas.ID, exit.PlanInput{Path: exit.PathDirect, Version: x.pas.Version, Milestones: exit.Milestones{
			AwardActual: ptr(today), SignedActual: ptr(today), MigrationStartActual: ptr(today), CutoverActual: ptr(today)}}); err != nil {
			t.Fatal(err)
		}
		d, err := x.s.Dashboard(ctx, exit.National, exit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Total.Total() != 3 || d.Total.Green != 1 || len(d.ByTrust) != 2 || len(d.BySystem) != 3 || len(d.Deployments) != 3 {
			t.Fatalf("national dashboard %+v", d.Total)
		}
		if d.Deployments[len(d.Deployments)-1].Rating != exit.Green {
			t.Errorf("deployments not worst first: %v", d.Deployments)
		}
		trust, err := x.s.Dashboard(ctx, exit.Scope{Kind: orgs.KindTrust, OrgID: x.RJ7}, exit.Filter{Rating: exit.Green})
		if err != nil {
			t.Fatal(err)
		}
		if trust.Total.Total() != 2 || len(trust.Deployments) != 1 || trust.Deployments[0].ID != x.pas.ID {
			t.Fatalf("RJ7's dashboard: %+v, %d listed", trust.Total, len(trust.Deployments))
		}
		if len(d.Trend) != 1 || d.Trend[0].Key != "now" {
			t.Fatalf("trend before any snapshot %+v", d.Trend)
		}
		for i, want := range []bool{true, false} {
			took, err := x.s.TakeSnapshot(ctx)
			if err != nil || took != want {
				t.Fatalf("snapshot %d: took %v, err %v", i, took, err)
			}
		}
		x.Clock.Set(x.Clock.Now().AddDate(0, 0, 7))
		if took, err := x.s.TakeSnapshot(ctx); err != nil || !took {
			t.Fatalf("next week's snapshot: %v %v", took, err)
		}
		trust, err = x.s.Dashboard(ctx, exit.Scope{Kind: orgs.KindTrust, OrgID: x.RJ7}, exit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(trust.Trend) != 3 || trust.Trend[0].Total() != 2 || trust.Trend[0].Green != 1 {
			t.Errorf("RJ7's trend %+v", trust.Trend)
		}
		if n := domaintest.Count(t, db, "exit_snapshot_ratings", "1 = 1"); n != 6 {
			t.Errorf("%d snapshot ratings, want 3 deployments in 2 weeks", n)
		}
	})
}
