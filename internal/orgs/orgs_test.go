package orgs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/validate"
)

const devIssuer = "http://localhost:8080/dev-idp"

func newService(db *store.DB) *orgs.Service {
	clk := clock.NewManual(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	return &orgs.Service{DB: db, Audit: &audit.Log{Clock: clk}, Clock: clk}
}

func TestSeedDemoIsIdempotentAndRealistic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		n, err := orgs.SeedDemo(ctx, db.DB, s.Audit, s.Clock.Now(), devIssuer)
		if err != nil {
			t.Fatal(err)
		}
		if n < 200 {
			t.Fatalf("first seed created %d records, want the trusts, consortia, suppliers and users", n)
		}
		again, err := orgs.SeedDemo(ctx, db.DB, s.Audit, s.Clock.Now(), devIssuer)
		if err != nil || again != 0 {
			t.Fatalf("second seed created %d records (err %v); want 0", again, err)
		}
		consortia, _ := s.Organisations(ctx, orgs.KindConsortium, "")
		if len(consortia) != 2 {
			t.Fatalf("got %d consortia, want 2", len(consortia))
		}
		var london orgs.Organisation
		for _, c := range consortia {
			if c.Name == orgs.DemoLondon {
				london = c
			}
		}
		if london.Lead == nil || london.Lead.ODS() != "RJ7" {
			t.Fatalf("London consortium lead = %+v, want RJ7", london.Lead)
		}
		members, _ := s.Members(ctx, london.ID)
		if len(members) != 6 {
			t.Fatalf("London consortium has %d members, want 6", len(members))
		}
		if members[0].Trust.Name == "" {
			t.Fatal("members not loaded with their trusts")
		}
		suppliers, _ := s.Organisations(ctx, orgs.KindSupplier, "")
		if len(suppliers) != 5 {
			t.Fatalf("got %d suppliers, want 5", len(suppliers))
		}
		rj7, _ := s.Organisations(ctx, orgs.KindTrust, "RJ7")
		if len(rj7) != 1 || rj7[0].Name != "St George's University Hospitals NHS Foundation Trust" || rj7[0].RegionName() != "London" {
			t.Fatalf("RJ7 = %+v", rj7)
		}
		users, _ := s.UsersByIssuer(ctx, devIssuer)
		if len(users) != len(orgs.DemoUsers) {
			t.Fatalf("got %d demo users, want %d", len(users), len(orgs.DemoUsers))
		}
		for _, u := range users {
			ms, err := s.MembershipsOf(ctx, u.ID)
			if err != nil || len(ms) != 1 {
				t.Fatalf("user %s has %d memberships (err %v), want 1", u.Name, len(ms), err)
			}
		}
	})
}

func TestOrganisationRulesAndConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		admin := audit.Actor{UserID: "admin", Label: "Admin"}
		_, err := s.CreateOrganisation(ctx, admin, orgs.OrganisationInput{Kind: orgs.KindTrust, Name: "  ", ODSCode: "r!", Region: "Y99"})
		v, ok := validate.As(err)
		if !ok {
			t.Fatalf("want field errors, got %v", err)
		}
		for _, f := range []string{"name", "odsCode", "region"} {
			if !v.Has(f) {
				t.Errorf("no error for %s in %v", f, v.List)
			}
		}
		trust, err := s.CreateOrganisation(ctx, admin, orgs.OrganisationInput{Kind: orgs.KindTrust, Name: "Test Trust", ODSCode: "rx1", Region: "Y56"})
		if err != nil {
			t.Fatal(err)
		}
		if trust.ODS() != "RX1" {
			t.Fatalf("ODS code not normalised: %q", trust.ODS())
		}
		_, err = s.CreateOrganisation(ctx, admin, orgs.OrganisationInput{Kind: orgs.KindTrust, Name: "Other", ODSCode: "RX1", Region: "Y56"})
		if v, ok := validate.As(err); !ok || !v.Has("odsCode") {
			t.Fatalf("duplicate ODS code accepted: %v", err)
		}
		// Two editors saw version 1; the second save must conflict.
		in := orgs.OrganisationInput{Kind: orgs.KindTrust, Name: "Renamed Trust", ODSCode: "RX1", Region: "Y56", Version: 1}
		if err := s.UpdateOrganisation(ctx, admin, trust.ID, in); err != nil {
			t.Fatal(err)
		}
		in.Name = "Other name"
		if err := s.UpdateOrganisation(ctx, admin, trust.ID, in); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale update: got %v, want conflict", err)
		}
		got, _ := s.Organisation(ctx, trust.ID)
		if got.Name != "Renamed Trust" || got.Version != 2 {
			t.Fatalf("after conflict got %q v%d", got.Name, got.Version)
		}
		consortium, err := s.CreateOrganisation(ctx, admin, orgs.OrganisationInput{Kind: orgs.KindConsortium, Name: "C", LeadOrganisationID: trust.ID})
		if err != nil {
			t.Fatal(err)
		}
		joined := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
		m, err := s.AddMember(ctx, admin, consortium.ID, trust.ID, joined)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddMember(ctx, admin, consortium.ID, trust.ID, joined); err == nil {
			t.Fatal("a trust was added twice")
		}
		if err := s.EndMember(ctx, admin, consortium.ID, m.ID, joined.AddDate(0, 0, -1)); err == nil {
			t.Fatal("left before joining was accepted")
		}
		if err := s.EndMember(ctx, admin, consortium.ID, m.ID, joined.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		cs, _ := s.ConsortiaOf(ctx, trust.ID)
		if len(cs) != 1 {
			t.Fatalf("trust leads 1 consortium, got %d", len(cs))
		}
		// Every change above wrote an audit entry and the chain verifies.
		n, brk, err := audit.Verify(ctx, db)
		if err != nil || brk != nil || n != 5 {
			t.Fatalf("audit: %d entries, break %v, err %v; want 5 intact", n, brk, err)
		}
	})
}
