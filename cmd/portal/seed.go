package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/seed"
)

// runSeed loads the demo data (--demo) or a data set at scale (--scale).
func runSeed(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "load the demo organisations and users")
	scale := fs.String("scale", "", "load a made-up data set of this size: "+scaleNames())
	n := fs.Uint64("seed", 1, "with --scale: the seed number; the same number gives the same data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *demo == (*scale != "") {
		return errors.New("say what to load: portal seed --demo, or portal seed --scale national [--seed N]")
	}
	sc, ok := seed.Scales[*scale]
	if *scale != "" && !ok {
		return fmt.Errorf("--scale %q: choose one of %s", *scale, scaleNames())
	}
	if *scale != "" && cfg.IsProduction() {
		return errors.New("portal seed --scale loads made-up procurements and refuses PORTAL_ENV=production")
	}
	db, err := app.Open(cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	clk := clock.System{}
	auditLog := &audit.Log{Clock: clk}
	if *demo {
		n, err := orgs.SeedDemo(ctx, db.DB, auditLog, clk.Now(), app.DevIssuer(cfg))
		if err != nil {
			return err
		}
		fmt.Printf("demo data: %d records created\n", n)
		if n, err = exit.SeedDemo(ctx, db.DB, auditLog, clk.Now(), 1); err != nil {
			return err
		}
		fmt.Printf("exit tracker demo data: %d deployments created\n", n)
		return nil
	}
	keys, err := app.MasterKeyring(cfg, true)
	if err != nil {
		return err
	}
	began := time.Now()
	c, err := seed.Load(ctx, seed.Deps{DB: db, Audit: auditLog, Sealed: &sealed.Service{DB: db, Audit: auditLog, Clock: clk, Keys: keys},
		Now: clk.Now(), DevIssuer: app.DevIssuer(cfg)}, sc, *n)
	if err != nil {
		return err
	}
	fmt.Printf("%s data set (seed %d) loaded in %s:\n", sc.Name, *n, time.Since(began).Round(time.Second))
	fmt.Printf("  %d trusts, %d consortia, %d suppliers, %d people\n", c.Trusts, c.Consortia, c.Suppliers, c.Users)
	fmt.Printf("  %d frameworks with %d lots and %d appointments\n", c.Frameworks, c.Lots, c.Appointments)
	fmt.Printf("  %d mini-competitions, %d bids, %d contracts, %d deployments\n", c.Competitions, c.Bids, c.Contracts, c.Deployments)
	fmt.Printf("  %d audit entries\n", c.AuditEntries)
	return nil
}

func scaleNames() string {
	var names []string
	for name := range seed.Scales {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
