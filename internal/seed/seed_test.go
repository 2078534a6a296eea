package seed_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/seed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

var seededAt = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// load seeds a fresh database of kind at the small scale.
func load(t *testing.T, kind store.Kind, n uint64) (*store.DB, seed.Deps, seed.Counts) {
	t.Helper()
	db := storetest.Open(t, kind)
	keys, err := documents.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(seededAt)
	log := &audit.Log{Clock: clk}
	d := seed.Deps{DB: db, Audit: log, Sealed: &sealed.Service{DB: db, Audit: log, Clock: clk, Keys: keys}, Now: seededAt,
		DevIssuer: "http://localhost:8080/dev-idp"}
	c, err := seed.Load(context.Background(), d, seed.Scales["small"], n)
	if err != nil {
		t.Fatal(err)
	}
	return db, d, c
}

func count(t *testing.T, db *store.DB, table, where string, args ...any) int {
	t.Helper()
	return int(domaintest.Count(t, db, table, where, args...))
}

// TestLoadSmall loads the small scale and checks, in the database itself,
// that every count the scale asks for is there, the audit chain holds at
// the asked length, a second load is refused, and a sealed bid can be
// opened and read as a supplier's would.
func TestLoadSmall(t *testing.T) {
	sc := seed.Scales["small"]
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) { loadSmall(t, kind, sc) })
	}
}

func loadSmall(t *testing.T, kind store.Kind, sc seed.Scale) {
	{
		db, d, c := load(t, kind, 7)
		for _, want := range []struct {
			what       string
			got, count int
		}{
			{"trusts", count(t, db, "organisations", "kind = ?", "trust"), c.Trusts},
			{"consortia", count(t, db, "organisations", "kind = ?", "consortium"), sc.Consortia},
			{"suppliers", count(t, db, "organisations", "kind = ?", "supplier"), sc.Suppliers},
			{"frameworks", count(t, db, "frameworks", ""), sc.Frameworks},
			{"competitions", count(t, db, "competitions", ""), sc.Competitions},
			{"bids", count(t, db, "sealed_submissions", "box_type = ?", sealed.TypeCompetitionBid), sc.Bids},
			{"contracts", count(t, db, "contracts", ""), sc.Contracts},
			{"deployments", count(t, db, "deployments", ""), exit.DemoDeployments},
			{"counted bids", c.Bids, sc.Bids},
			{"counted deployments", c.Deployments, exit.DemoDeployments},
		} {
			if want.got != want.count {
				t.Errorf("%s: %d, want %d", want.what, want.got, want.count)
			}
		}
		if c.Trusts < sc.Trusts {
			t.Errorf("trusts: %d, want at least %d", c.Trusts, sc.Trusts)
		}
		if opened := count(t, db, "competition_bids", ""); opened == 0 || opened >= sc.Bids {
			t.Errorf("opened bids: %d, want some but not all of %d (some competitions are still open)", opened, sc.Bids)
		}
		checked, broken, err := audit.Verify(context.Background(), db)
		if err != nil || broken != nil {
			t.Fatalf("audit chain: %v %v", broken, err)
		}
		if checked != sc.AuditEntries || c.AuditEntries != int64(sc.AuditEntries) {
			t.Errorf("audit entries: verified %d, counted %d, want %d", checked, c.AuditEntries, sc.AuditEntries)
		}
		if _, err := seed.Load(context.Background(), d, sc, 7); !errors.Is(err, seed.ErrAlreadySeeded) {
			t.Errorf("second load: %v, want ErrAlreadySeeded", err)
		}
		if count(t, db, "frameworks", "") != sc.Frameworks {
			t.Error("a refused second load changed the frameworks")
		}

		var bid competition.Bid
		if err := db.Order("id").First(&bid).Error; err != nil {
			t.Fatal(err)
		}
		var comp competition.Competition
		if err := db.Where("id = ?", bid.CompetitionID).First(&comp).Error; err != nil {
			t.Fatal(err)
		}
		got, err := d.Sealed.Read(context.Background(), audit.System, competition.BidBox(&comp), bid.SubmissionID)
		if err != nil {
			t.Fatalf("read a seeded bid: %v", err)
		}
		content, err := competition.DecodeBid(comp.ID, got.Content)
		if err != nil || content.CompetitionID != comp.ID || got.SHA256 != bid.SHA256 {
			t.Errorf("seeded bid: %+v (hash %s, opened as %s): %v", content, got.SHA256, bid.SHA256, err)
		}
	}
}

// TestLoadRepeatsForSeed loads twice with one seed and once with another,
// and compares what people would see: the same seed gives the same
// frameworks, competitions, bidders and contracts; another seed does not.
func TestLoadRepeatsForSeed(t *testing.T) {
	a, _, _ := load(t, store.SQLite, 42)
	b, _, _ := load(t, store.SQLite, 42)
	c, _, _ := load(t, store.SQLite, 43)
	da, db, dc := digest(t, a), digest(t, b), digest(t, c)
	if da != db {
		t.Errorf("the same seed gave different data: %s and %s", da, db)
	}
	if da == dc {
		t.Errorf("seeds 42 and 43 gave the same data: %s", da)
	}
}

// digest hashes the seeded records people see, in a fixed order, with the
// generated IDs included (they come from the seed too).
func digest(t *testing.T, db *store.DB) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		"SELECT f.id || f.reference || f.title || o.name || f.status FROM frameworks f JOIN organisations o ON o.id = f.consortium_id ORDER BY f.id",
		"SELECT c.id || c.reference || c.title || o.name || c.status || c.submission_deadline FROM competitions c JOIN organisations o ON o.id = c.lead_org_id ORDER BY c.id",
		"SELECT s.id || o.name || s.box_id FROM sealed_submissions s JOIN organisations o ON o.id = s.supplier_org_id ORDER BY s.id",
		"SELECT k.reference || o.name || k.value_pence FROM contracts k JOIN organisations o ON o.id = k.supplier_org_id ORDER BY k.reference",
		"SELECT name || email FROM users ORDER BY subject",
	} {
		var rows []string
		if err := db.Raw(q).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			t.Fatalf("nothing seeded for %s", q)
		}
		for _, r := range rows {
			fmt.Fprintln(h, r)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
