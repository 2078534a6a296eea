package exit_test

import (
	"context"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestSeedDemo: the demo data holds 765 deployments with every rating and
// eight weeks of snapshots, once; a second run adds nothing.
func TestSeedDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(domaintest.T0)
		log := &audit.Log{Clock: clk}
		if _, err := orgs.SeedDemo(ctx, db.DB, log, clk.Now(), domaintest.DevIssuer); err != nil {
			t.Fatal(err)
		}
		n, err := exit.SeedDemo(ctx, db.DB, log, clk.Now(), 1)
		if err != nil || n != exit.DemoDeployments {
			t.Fatalf("seeded %d (err %v)", n, err)
		}
		if n, err := exit.SeedDemo(ctx, db.DB, log, clk.Now(), 1); err != nil || n != 0 {
			t.Fatalf("second run seeded %d (err %v)", n, err)
		}
		s := &exit.Service{DB: db, Audit: log, Clock: clk}
		d, err := s.Dashboard(ctx, exit.National, exit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Total.Total() != exit.DemoDeployments || d.Total.Red == 0 || d.Total.Amber == 0 || d.Total.Green == 0 {
			t.Errorf("ratings %+v", d.Total)
		}
		if len(d.Trend) != 9 || len(d.ByRegion) != 4 || len(d.ByStage) != len(exit.Stages) {
			t.Errorf("trend %d points, %d regions, %d stages", len(d.Trend), len(d.ByRegion), len(d.ByStage))
		}
		t.Logf("demo ratings now: %d red, %d amber, %d green; 8 weeks ago: %d red", d.Total.Red, d.Total.Amber, d.Total.Green, d.Trend[0].Red)
	})
}
