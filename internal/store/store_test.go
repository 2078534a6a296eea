package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/auth"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func strPtr(s string) *string { return &s }

// KindOf picks PostgreSQL only for postgres:// and postgresql:// URLs;
// everything else is a SQLite file.
func TestKindOf(t *testing.T) {
	tests := []struct {
		url  string
		want store.Kind
	}{
		{"postgres://portal:pw@db.internal:5432/portal?sslmode=require", store.Postgres},
		{"postgresql://db.internal/portal", store.Postgres},
		{"data/portal.db", store.SQLite},
		{"/var/lib/portal/portal.db", store.SQLite},
		{"file:portal.db?mode=rwc", store.SQLite},
		{"", store.SQLite},
		{"mysql://db.internal/portal", store.SQLite},
	}
	for _, tt := range tests {
		if got := store.KindOf(tt.url); got != tt.want {
			t.Errorf("KindOf(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

// A new database has pending migrations; Migrate applies them once and a
// second run finds nothing to do.
func TestMigrateFromEmpty(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenEmpty(t, kind)
			if db.Kind != kind {
				t.Fatalf("opened a %s database, want %s", db.Kind, kind)
			}
			current, err := db.MigrationsCurrent(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if current {
				t.Fatal("an empty database reports its migrations as current")
			}
			n, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("Migrate applied nothing to an empty database")
			}
			if current, err = db.MigrationsCurrent(ctx); err != nil || !current {
				t.Fatalf("after Migrate: current=%v err=%v, want true", current, err)
			}
			if n, err = db.Migrate(ctx); err != nil || n != 0 {
				t.Fatalf("second Migrate applied %d (err %v), want 0", n, err)
			}
			var version int64
			if err := db.Raw("SELECT version FROM authz_state WHERE id = 1").Scan(&version).Error; err != nil || version != 1 {
				t.Fatalf("authz_state version = %d (err %v), want the seeded 1", version, err)
			}
			if err := db.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		})
	}
}

// Opening a SQLite path creates its folder and turns on foreign keys and WAL
// journalling for every connection.
func TestOpenSQLiteSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "folder", "portal.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Kind != store.SQLite {
		t.Fatalf("kind = %s, want sqlite", db.Kind)
	}
	var fk int
	var journal string
	if err := db.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (err %v), want 1", fk, err)
	}
	if err := db.Raw("PRAGMA journal_mode").Scan(&journal).Error; err != nil || !strings.EqualFold(journal, "wal") {
		t.Fatalf("journal_mode = %q (err %v), want wal", journal, err)
	}
}

// Every model round-trips through GORM on both engines with the column
// types the migration gives it.
func TestEveryModelRoundTrips(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(t0)

		trust := orgs.Organisation{ID: "org-trust", Kind: orgs.KindTrust, Name: "St George's University Hospitals NHS Foundation Trust",
			ODSCode: strPtr("RJ7"), Region: "Y56", Version: 1, CreatedAt: t0, UpdatedAt: t0}
		supplier := orgs.Organisation{ID: "org-supplier", Kind: orgs.KindSupplier, Name: "Meridian Health Systems Ltd",
			CompaniesHouseNumber: strPtr("04123456"), Version: 1, CreatedAt: t0, UpdatedAt: t0}
		consortium := orgs.Organisation{ID: "org-consortium", Kind: orgs.KindConsortium, Name: orgs.DemoLondon,
			LeadOrganisationID: strPtr(trust.ID), Region: "Y56", Version: 1, CreatedAt: t0, UpdatedAt: t0}
		for _, o := range []*orgs.Organisation{&trust, &supplier, &consortium} {
			if err := db.Create(o).Error; err != nil {
				t.Fatalf("create %s: %v", o.Kind, err)
			}
		}
		var gotConsortium orgs.Organisation
		if err := db.Preload("Lead").Where("id = ?", consortium.ID).First(&gotConsortium).Error; err != nil {
			t.Fatal(err)
		}
		if gotConsortium.Lead == nil || gotConsortium.Lead.ODS() != "RJ7" || gotConsortium.Name != orgs.DemoLondon ||
			!gotConsortium.CreatedAt.Equal(t0) || gotConsortium.ODSCode != nil {
			t.Fatalf("consortium read back as %+v (lead %+v)", gotConsortium, gotConsortium.Lead)
		}
		var gotSupplier orgs.Organisation
		if err := db.Where("id = ?", supplier.ID).First(&gotSupplier).Error; err != nil {
			t.Fatal(err)
		}
		if gotSupplier.CompaniesHouse() != "04123456" || gotSupplier.ODSCode != nil || gotSupplier.Kind != orgs.KindSupplier {
			t.Fatalf("supplier read back as %+v", gotSupplier)
		}

		joined := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)
		member := orgs.ConsortiumMember{ID: "cm-1", ConsortiumID: consortium.ID, TrustID: trust.ID, JoinedOn: joined, CreatedAt: t0}
		if err := db.Create(&member).Error; err != nil {
			t.Fatalf("create consortium member: %v", err)
		}
		var gotMember orgs.ConsortiumMember
		if err := db.Preload("Trust").Where("id = ?", member.ID).First(&gotMember).Error; err != nil {
			t.Fatal(err)
		}
		if !gotMember.JoinedOn.Equal(joined) || gotMember.LeftOn != nil || gotMember.Trust.ODS() != "RJ7" || !gotMember.Current(t0) {
			t.Fatalf("consortium member read back as %+v", gotMember)
		}

		login := t0.Add(-time.Hour)
		user := orgs.User{ID: "user-1", Issuer: "https://idp.example.nhs.uk", Subject: "sub-1", Email: "aisha.khan@example.nhs.uk",
			Name: "Aisha Khan", LastLoginAt: &login, Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := db.Create(&user).Error; err != nil {
			t.Fatalf("create user: %v", err)
		}
		var gotUser orgs.User
		if err := db.Where("issuer = ? AND subject = ?", user.Issuer, user.Subject).First(&gotUser).Error; err != nil {
			t.Fatal(err)
		}
		if gotUser.ID != user.ID || gotUser.Disabled() || gotUser.LastLoginAt == nil || !gotUser.LastLoginAt.Equal(login) || gotUser.DisplayName() != "Aisha Khan" {
			t.Fatalf("user read back as %+v", gotUser)
		}

		membership := orgs.Membership{ID: "m-1", UserID: user.ID, OrganisationID: trust.ID, Role: "trust_lead", Source: orgs.SourceIdentity, CreatedAt: t0}
		if err := db.Create(&membership).Error; err != nil {
			t.Fatalf("create membership: %v", err)
		}
		var gotMembership orgs.Membership
		if err := db.Preload("User").Preload("Organisation").Where("id = ?", membership.ID).First(&gotMembership).Error; err != nil {
			t.Fatal(err)
		}
		if gotMembership.User.Subject != "sub-1" || gotMembership.Organisation.ODS() != "RJ7" || gotMembership.Role != "trust_lead" || gotMembership.Source != orgs.SourceIdentity {
			t.Fatalf("membership read back as %+v", gotMembership)
		}

		sessions := &auth.Sessions{DB: db, Clock: clk, Key: []byte(strings.Repeat("k", 32)), Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
		var token string
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			token, err = sessions.Create(tx, user.ID, "cis2", "id-token-hint", strPtr(trust.ID))
			return err
		})
		if err != nil {
			t.Fatalf("create session: %v", err)
		}
		sess, err := sessions.Lookup(ctx, token)
		if err != nil {
			t.Fatalf("look up session: %v", err)
		}
		if sess.UserID != user.ID || sess.User.Subject != "sub-1" || sess.Provider != "cis2" || sess.IDTokenHint != "id-token-hint" ||
			sess.ActingOrgID == nil || *sess.ActingOrgID != trust.ID || !sess.ExpiresAt.Equal(t0.Add(12*time.Hour)) || !sess.CreatedAt.Equal(t0) {
			t.Fatalf("session read back as %+v", sess)
		}

		log := &audit.Log{Clock: clk}
		err = db.Tx(ctx, func(tx *gorm.DB) error {
			return log.Append(tx, audit.Actor{UserID: user.ID, Label: "Aisha Khan", OrgID: trust.ID, IP: "192.0.2.7"},
				audit.Event{Action: "organisation.update", ObjectType: "organisation", ObjectID: trust.ID, Detail: map[string]any{"new_name": "St George's"}})
		})
		if err != nil {
			t.Fatalf("append audit entry: %v", err)
		}
		entries, err := audit.List(ctx, db, audit.Filter{})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit entries = %d (err %v), want 1", len(entries), err)
		}
		e := entries[0]
		if e.Seq < 1 || e.ActorUserID != user.ID || e.ActingOrgID != trust.ID || e.IP != "192.0.2.7" || e.Outcome != audit.Success ||
			e.Detail != `{"new_name":"St George's"}` || !e.OccurredAt.Equal(t0) || len(e.Hash) != 64 || e.PrevHash != strings.Repeat("0", 64) {
			t.Fatalf("audit entry read back as %+v", e)
		}

		expires := t0.Add(10 * time.Minute)
		if err := db.Exec("INSERT INTO login_attempts (id, provider, state, nonce, verifier, return_to, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			"attempt-1", "cis2", "state-1", "nonce-1", "verifier-1", "/admin", expires).Error; err != nil {
			t.Fatalf("insert login attempt: %v", err)
		}
		var attempt struct {
			Provider, State, Nonce, Verifier, ReturnTo string
			ExpiresAt                                  time.Time
		}
		if err := db.Raw("SELECT provider, state, nonce, verifier, return_to, expires_at FROM login_attempts WHERE id = ?", "attempt-1").Scan(&attempt).Error; err != nil {
			t.Fatal(err)
		}
		if attempt.State != "state-1" || attempt.Verifier != "verifier-1" || attempt.ReturnTo != "/admin" || !attempt.ExpiresAt.Equal(expires) {
			t.Fatalf("login attempt read back as %+v", attempt)
		}
	})
}

// The database itself refuses duplicates and dangling references, so a bug
// or a race in the services cannot store them.
func TestConstraintsHold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		trust := orgs.Organisation{ID: "org-1", Kind: orgs.KindTrust, Name: "Trust one", ODSCode: strPtr("RJ7"), Region: "Y56", Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := db.Create(&trust).Error; err != nil {
			t.Fatal(err)
		}
		user := orgs.User{ID: "user-1", Issuer: "https://idp.example.nhs.uk", Subject: "sub-1", Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := db.Create(&user).Error; err != nil {
			t.Fatal(err)
		}
		// Organisations without an ODS code or Companies House number do not
		// collide with each other (the unique indexes skip NULLs).
		for _, id := range []string{"platform-1", "platform-2"} {
			o := orgs.Organisation{ID: id, Kind: orgs.KindPlatform, Name: id, Version: 1, CreatedAt: t0, UpdatedAt: t0}
			if err := db.Create(&o).Error; err != nil {
				t.Fatalf("two organisations without codes: %v", err)
			}
		}
		if err := db.Create(&orgs.Membership{ID: "m-1", UserID: user.ID, OrganisationID: trust.ID, Role: "trust_lead", Source: orgs.SourcePortal, CreatedAt: t0}).Error; err != nil {
			t.Fatal(err)
		}

		refused := []struct {
			name   string
			create any
		}{
			{"duplicate ODS code", &orgs.Organisation{ID: "org-2", Kind: orgs.KindTrust, Name: "Trust two", ODSCode: strPtr("RJ7"), Region: "Y56", Version: 1, CreatedAt: t0, UpdatedAt: t0}},
			{"duplicate Companies House number", nil},
			{"duplicate issuer and subject", &orgs.User{ID: "user-2", Issuer: user.Issuer, Subject: user.Subject, Version: 1, CreatedAt: t0, UpdatedAt: t0}},
			{"membership of a missing user", &orgs.Membership{ID: "m-2", UserID: "no-such-user", OrganisationID: trust.ID, Role: "trust_lead", Source: orgs.SourcePortal, CreatedAt: t0}},
			{"membership in a missing organisation", &orgs.Membership{ID: "m-3", UserID: user.ID, OrganisationID: "no-such-org", Role: "trust_lead", Source: orgs.SourcePortal, CreatedAt: t0}},
			{"the same role twice", &orgs.Membership{ID: "m-4", UserID: user.ID, OrganisationID: trust.ID, Role: "trust_lead", Source: orgs.SourceIdentity, CreatedAt: t0}},
			{"membership with an unknown source", &orgs.Membership{ID: "m-5", UserID: user.ID, OrganisationID: trust.ID, Role: "evaluator", Source: "email", CreatedAt: t0}},
			{"consortium led by a missing organisation", &orgs.Organisation{ID: "org-3", Kind: orgs.KindConsortium, Name: "Consortium", LeadOrganisationID: strPtr("no-such-org"), Version: 1, CreatedAt: t0, UpdatedAt: t0}},
			{"unknown kind of organisation", &orgs.Organisation{ID: "org-4", Kind: "hospital", Name: "Hospital", Version: 1, CreatedAt: t0, UpdatedAt: t0}},
			{"consortium member of a missing consortium", &orgs.ConsortiumMember{ID: "cm-1", ConsortiumID: "no-such-org", TrustID: trust.ID, JoinedOn: t0, CreatedAt: t0}},
			{"audit entry with an unknown outcome", &audit.Entry{OccurredAt: t0, Action: "x", Outcome: "maybe", PrevHash: "p", Hash: "h"}},
		}
		// Fill in the Companies House case against a supplier created now.
		sup := orgs.Organisation{ID: "sup-1", Kind: orgs.KindSupplier, Name: "Supplier one", CompaniesHouseNumber: strPtr("04123456"), Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := db.Create(&sup).Error; err != nil {
			t.Fatal(err)
		}
		refused[1].create = &orgs.Organisation{ID: "sup-2", Kind: orgs.KindSupplier, Name: "Supplier two", CompaniesHouseNumber: strPtr("04123456"), Version: 1, CreatedAt: t0, UpdatedAt: t0}

		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				if err := db.Create(tt.create).Error; err == nil {
					t.Fatalf("the database accepted a %s", tt.name)
				}
			})
		}

		// Deleting a user who still holds a role is refused too.
		if err := db.Exec("DELETE FROM users WHERE id = ?", user.ID).Error; err == nil {
			t.Fatal("deleted a user that memberships still refer to")
		}
		var n int64
		db.Model(&orgs.Organisation{}).Count(&n)
		if n != 4 {
			t.Fatalf("%d organisations stored, want the 4 valid ones", n)
		}
	})
}
