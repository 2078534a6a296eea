package web_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/orgs"
)

// publishedCatalogue sets up, through the domain, a catalogue of the South
// London consortium holding goodCSV's requirements, with version 1
// published. It returns the consortium's ID and the catalogue.
func publishedCatalogue(t testing.TB, h *apptest.Harness, title string) (string, *catalogue.Catalogue) {
	t.Helper()
	ctx := context.Background()
	london, _ := h.App.Orgs.Organisations(ctx, orgs.KindConsortium, orgs.DemoLondon)
	lead := audit.Actor{Label: "test"}
	cat, err := h.App.Catalogue.CreateCatalogue(ctx, lead, london[0].ID, title, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Catalogue.Import(ctx, lead, cat.ID, "r.csv", bytes.NewReader([]byte(goodCSV))); err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Catalogue.Publish(ctx, lead, cat.ID); err != nil {
		t.Fatal(err)
	}
	return london[0].ID, cat
}
