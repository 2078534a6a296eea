package catalogue_test

import (
	"context"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
)

const devIssuer = "http://localhost:8080/dev-idp"

var lead = audit.Actor{UserID: "u-lead", Label: "Tom Reilly", OrgID: "org"}

// setup seeds the demo organisations and returns a service and the South
// London consortium's ID.
func setup(t *testing.T, db *store.DB) (*catalogue.Service, string) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	log := &audit.Log{Clock: clk}
	if _, err := orgs.SeedDemo(context.Background(), db.DB, log, clk.Now(), devIssuer); err != nil {
		t.Fatal(err)
	}
	var london orgs.Organisation
	if err := db.Where("kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon).First(&london).Error; err != nil {
		t.Fatal(err)
	}
	return &catalogue.Service{DB: db, Audit: log, Clock: clk}, london.ID
}

// newCatalogue creates an empty catalogue for the London consortium.
func newCatalogue(t *testing.T, s *catalogue.Service, consortiumID, title string) *catalogue.Catalogue {
	t.Helper()
	c, err := s.CreateCatalogue(context.Background(), lead, consortiumID, title, "Requirements for electronic patient record systems")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// count returns the number of rows in table.
func count(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// counts snapshots every catalogue table and the audit log.
func counts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"catalogues", "catalogue_sections", "catalogue_requirements", "catalogue_versions", "audit_entries"} {
		out[table] = count(t, db, table)
	}
	return out
}

func sameCounts(t *testing.T, before, after map[string]int64) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s went from %d to %d rows; nothing should have been written", k, v, after[k])
		}
	}
}
