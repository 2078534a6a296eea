// Package seed loads a large, realistic data set for trying the portal at
// scale and for its benchmarks: every trust in England, the consortia and
// suppliers of a national rollout, live frameworks with appointed suppliers,
// mini-competitions at every stage with sealed bids, contracts, the exit
// tracker's deployments and a long audit history.
//
// The same seed number gives the same data: every name, count, date and
// identifier is drawn from one pseudo-random source (only the ciphertext
// of sealed bids differs, as encryption must). Rows are written in bulk
// (a few thousand per INSERT) rather than through the domain services,
// which would take hours at this size, but they are the rows the services
// would write, and bids are sealed exactly as a supplier's would be so they
// can be opened and read.
package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
)

// Scale is how much to load.
type Scale struct {
	Name string
	// Trusts is the number of trusts wanted in all: the open trusts of the
	// ODS file (the demo data) and made-up ones to reach it.
	Trusts int
	// Consortia in all, the demo's two among them.
	Consortia int
	// Suppliers in all, the demo's five among them.
	Suppliers int
	// Frameworks, each with LotsPerFramework lots; SuppliersPerLot
	// suppliers are appointed to each lot of a live framework.
	Frameworks, LotsPerFramework, SuppliersPerLot int
	// Competitions under the live lots, Bids sealed in them, and Contracts
	// made from the awarded ones.
	Competitions, Bids, Contracts int
	// AuditEntries is the length the audit log is brought to.
	AuditEntries int
}

// Scales by name, as `portal seed --scale NAME` takes them.
var Scales = map[string]Scale{
	"national": {Name: "national", Trusts: 220, Consortia: 40, Suppliers: 1000, Frameworks: 50, LotsPerFramework: 3, SuppliersPerLot: 40,
		Competitions: 2000, Bids: 20000, Contracts: 5000, AuditEntries: 1_000_000},
	"small": {Name: "small", Trusts: 220, Consortia: 6, Suppliers: 40, Frameworks: 4, LotsPerFramework: 2, SuppliersPerLot: 12,
		Competitions: 40, Bids: 200, Contracts: 60, AuditEntries: 5000},
}

// ErrAlreadySeeded is returned when the database already holds frameworks:
// the seed is for an empty portal (demo data only), so it never mixes with
// real procurement records.
var ErrAlreadySeeded = errors.New("the database already holds frameworks: seed an empty database (one with at most the demo data)")

// Counts is what a load created, for the command's summary and the tests.
type Counts struct {
	Trusts, Consortia, Suppliers, Users, Frameworks, Lots, Appointments int
	Competitions, Bids, Contracts, Deployments                          int
	AuditEntries                                                        int64
}

// Deps are what a load needs: the database, the audit log, the sealed box
// (its master key seals the bids) and the moment the data is made at.
type Deps struct {
	DB        *store.DB
	Audit     *audit.Log
	Sealed    *sealed.Service
	Now       time.Time
	DevIssuer string // issuer of the people it creates, so they can sign in through the development provider
}

// Load fills an empty portal at scale sc from seed. The demo data (orgs
// and exit tracker) is loaded first if it is not there; everything else is
// one transaction per stage, each with its audit entry, so a failure
// leaves the stages before it whole and says which one failed.
func Load(ctx context.Context, d Deps, sc Scale, seed uint64) (Counts, error) {
	var c Counts
	db := d.DB.WithContext(ctx)
	var n int64
	if err := db.Table("frameworks").Count(&n).Error; err != nil {
		return c, fmt.Errorf("count frameworks: %w", err)
	}
	if n > 0 {
		return c, ErrAlreadySeeded
	}
	now := d.Now.UTC().Truncate(time.Second)
	if _, err := orgs.SeedDemo(ctx, db, d.Audit, now, d.DevIssuer); err != nil {
		return c, fmt.Errorf("demo organisations: %w", err)
	}
	g := &generator{
		rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), // #nosec G404 -- made-up data must repeat for a seed; nothing secret is drawn
		now: now, sc: sc, issuer: d.DevIssuer, seal: d.Sealed,
	}
	stages := []struct {
		name string
		run  func(tx *gorm.DB) error
	}{
		{"organisations and people", g.organisations},
		{"frameworks and appointments", g.frameworks},
		{"mini-competitions and bids", g.competitions},
		{"contracts", g.contracts},
	}
	for _, st := range stages {
		err := d.DB.Tx(ctx, func(tx *gorm.DB) error {
			if err := st.run(tx); err != nil {
				return err
			}
			return d.Audit.Append(tx, audit.System, audit.Event{Action: "seed.scale", ObjectType: "portal",
				Detail: map[string]any{"scale": sc.Name, "seed": seed, "stage": st.name}})
		})
		if err != nil {
			return c, fmt.Errorf("seed %s: %w", st.name, err)
		}
	}
	deployments, err := exit.SeedDemo(ctx, db, d.Audit, now, seed)
	if err != nil {
		return c, fmt.Errorf("seed exit tracker: %w", err)
	}
	if err := d.DB.Tx(ctx, func(tx *gorm.DB) error { return g.history(tx, d.Audit) }); err != nil {
		return c, fmt.Errorf("seed audit history: %w", err)
	}
	if err := settle(db, d.DB.Kind); err != nil {
		return c, err
	}
	c = g.counts
	c.Deployments = deployments
	if err := db.Model(&audit.Entry{}).Count(&c.AuditEntries).Error; err != nil {
		return c, fmt.Errorf("count audit entries: %w", err)
	}
	return c, nil
}

// settle leaves the loaded tables as they will be once autovacuum has run:
// the query planner's statistics were gathered when they were empty, so
// without fresh ones it plans for that; and on PostgreSQL, until a vacuum
// marks the pages all-visible, a count answered from an index still reads
// every row it counts from the table. Only the portal's own tables are
// vacuumed (those of the schema in use), not the whole database.
func settle(db *gorm.DB, kind store.Kind) error {
	if kind != store.Postgres {
		if err := db.Exec("ANALYZE").Error; err != nil {
			return fmt.Errorf("gather planner statistics: %w", err)
		}
		return nil
	}
	var tables []string
	if err := db.Raw("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename").Scan(&tables).Error; err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	if len(tables) == 0 {
		return nil
	}
	if err := db.Exec("VACUUM (ANALYZE) " + strings.Join(tables, ", ")).Error; err != nil {
		return fmt.Errorf("vacuum and analyze the loaded tables: %w", err)
	}
	return nil
}
