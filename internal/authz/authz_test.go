package authz_test

import (
	"context"
	"slices"
	"testing"
	"time"

	portal "github.com/nhsprocure/portal"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

const devIssuer = "http://localhost:8080/dev-idp"

// demo is a seeded database with the demo people and organisations found.
type demo struct {
	db    *store.DB
	clk   *clock.Manual
	users map[string]string // subject -> user ID
	// home maps subject -> the domain of the organisation the demo user
	// holds their role in.
	home map[string]string
	// orgs maps ODS code, Companies House number or demo name -> domain.
	orgs map[string]string
	ids  map[string]string // same keys -> organisation ID
}

func seed(t *testing.T, db *store.DB) *demo {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	if _, err := orgs.SeedDemo(ctx, db.DB, &audit.Log{Clock: clk}, clk.Now(), devIssuer); err != nil {
		t.Fatalf("seed demo data: %v", err)
	}
	d := &demo{db: db, clk: clk, users: map[string]string{}, home: map[string]string{}, orgs: map[string]string{}, ids: map[string]string{}}
	var all []orgs.Organisation
	if err := db.Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		for _, key := range []string{o.ODS(), o.CompaniesHouse(), o.Name} {
			if key != "" {
				d.orgs[key] = authz.Domain(o.Kind, o.ID)
				d.ids[key] = o.ID
			}
		}
	}
	for _, du := range orgs.DemoUsers {
		var u orgs.User
		if err := db.Where("issuer = ? AND subject = ?", devIssuer, du.Subject).First(&u).Error; err != nil {
			t.Fatalf("demo user %s: %v", du.Subject, err)
		}
		d.users[du.Subject] = u.ID
		var ms []orgs.Membership
		if err := db.Preload("Organisation").Where("user_id = ?", u.ID).Find(&ms).Error; err != nil || len(ms) != 1 {
			t.Fatalf("demo user %s has %d memberships (err %v), want 1", du.Subject, len(ms), err)
		}
		d.home[du.Subject] = authz.Domain(ms[0].Organisation.Kind, ms[0].OrganisationID)
	}
	return d
}

func newAuthorizer(t *testing.T, db *store.DB) *authz.Authorizer {
	t.Helper()
	a, err := authz.New(context.Background(), db, portal.PolicyModel(), portal.PolicyRules(), nil)
	if err != nil {
		t.Fatalf("new authorizer: %v", err)
	}
	return a
}

// The policy file gives each demo role what it needs in its own kind of
// organisation and nothing in anyone else's.
func TestPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := seed(t, db)
		a := newAuthorizer(t, db)
		platform := d.orgs[orgs.DemoPlatform]
		tests := []struct {
			name     string
			subject  string
			domain   string
			obj, act string
			want     bool
		}{
			{"platform admin administers the platform", "demo-platform-admin", platform, "administration", "write", true},
			{"platform admin reads administration", "demo-platform-admin", platform, "administration", "read", true},
			{"platform admin reads the audit log", "demo-platform-admin", platform, "audit", "read", true},
			{"platform admin has no rights in a trust", "demo-platform-admin", d.orgs["RJ7"], "organisation", "read", false},
			{"platform admin cannot claim the platform domain of another ID", "demo-platform-admin", authz.Domain("platform", d.ids["RJ7"]), "administration", "write", false},
			{"auditor reads the audit log", "demo-auditor", platform, "audit", "read", true},
			{"auditor cannot administer", "demo-auditor", platform, "administration", "read", false},
			{"auditor cannot write administration", "demo-auditor", platform, "administration", "write", false},
			{"trust lead cannot read administration in the platform", "demo-trust-lead", platform, "administration", "read", false},
			{"trust lead cannot read administration in its trust", "demo-trust-lead", d.home["demo-trust-lead"], "administration", "read", false},
			{"trust lead cannot read the audit log", "demo-trust-lead", d.home["demo-trust-lead"], "audit", "read", false},
			{"trust lead reads its own trust", "demo-trust-lead", d.orgs["RJ7"], "organisation", "read", true},
			{"trust lead cannot read another trust", "demo-trust-lead", d.orgs["RJ1"], "organisation", "read", false},
			{"trust lead cannot read its consortium", "demo-trust-lead", d.orgs[orgs.DemoLondon], "organisation", "read", false},
			{"trust ID under another kind gives nothing", "demo-trust-lead", authz.Domain("consortium", d.ids["RJ7"]), "organisation", "read", false},
			{"evaluator reads its trust", "demo-evaluator", d.orgs["RJ7"], "organisation", "read", true},
			{"board member of RJ1 reads RJ1", "demo-board-member-gstt", d.orgs["RJ1"], "organisation", "read", true},
			{"board member of RJ1 cannot read RJ7", "demo-board-member-gstt", d.orgs["RJ7"], "organisation", "read", false},
			{"consortium lead reads its consortium", "demo-consortium-lead", d.orgs[orgs.DemoLondon], "organisation", "read", true},
			{"consortium lead cannot read another consortium", "demo-consortium-lead", d.orgs[orgs.DemoYorkshire], "organisation", "read", false},
			{"national viewer reads the national programme", "demo-national-viewer", d.orgs[orgs.DemoNational], "organisation", "read", true},
			{"national viewer cannot read a trust", "demo-national-viewer", d.orgs["RJ7"], "organisation", "read", false},
			{"supplier reads its own company", "demo-supplier", d.orgs["04123456"], "organisation", "read", true},
			{"supplier cannot read a competitor", "demo-supplier", d.orgs["05234567"], "organisation", "read", false},
			{"supplier cannot write its own organisation", "demo-supplier", d.orgs["04123456"], "organisation", "write", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := a.Allowed(d.users[tt.subject], tt.domain, tt.obj, tt.act); got != tt.want {
					t.Fatalf("Allowed(%s, %s, %s, %s) = %v, want %v", tt.subject, tt.domain, tt.obj, tt.act, got, tt.want)
				}
			})
		}

		if a.Allowed("no-such-user", platform, "organisation", "read") {
			t.Error("an unknown user was allowed to read the platform")
		}
		// Each demo user holds exactly their seeded role in their home domain.
		for _, du := range orgs.DemoUsers {
			if got := a.RolesIn(d.users[du.Subject], d.home[du.Subject]); !slices.Equal(got, []string{string(du.Role)}) {
				t.Errorf("RolesIn(%s, home) = %v, want [%s]", du.Subject, got, du.Role)
			}
		}
		if got := a.RolesIn(d.users["demo-trust-lead"], d.orgs["RJ1"]); len(got) != 0 {
			t.Errorf("trust lead has roles %v in a trust it does not belong to", got)
		}
	})
}

// A role held in the wrong kind of organisation (here platform_admin in a
// trust, written straight into the table) is loaded but grants nothing.
func TestRoleInWrongKindGrantsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := seed(t, db)
		a := newAuthorizer(t, db)
		lead, rj7 := d.users["demo-trust-lead"], d.orgs["RJ7"]
		err := db.Exec("INSERT INTO memberships (id, user_id, organisation_id, role, source, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			"wrong-kind", lead, d.ids["RJ7"], string(authz.PlatformAdmin), orgs.SourcePortal, d.clk.Now()).Error
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if got := a.RolesIn(lead, rj7); !slices.Contains(got, string(authz.PlatformAdmin)) {
			t.Fatalf("RolesIn = %v; the inserted platform_admin membership was not loaded", got)
		}
		for _, act := range []string{"read", "write"} {
			if a.Allowed(lead, rj7, "administration", act) {
				t.Errorf("platform_admin held in a trust allows administration/%s there", act)
			}
		}
		if a.Allowed(lead, d.orgs[orgs.DemoPlatform], "administration", "write") {
			t.Error("platform_admin held in a trust allows administering the platform")
		}
		if !a.Allowed(lead, rj7, "organisation", "read") {
			t.Error("the trust lead's own role stopped working")
		}
	})
}

// A second instance notices a role change made elsewhere through the
// version number: Refresh reloads only when the version has moved, and a
// disabled user's roles go at the next Refresh.
func TestRefreshFollowsOtherInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := seed(t, db)
		here := newAuthorizer(t, db)  // the instance making the change
		there := newAuthorizer(t, db) // another instance, told nothing
		svc := &orgs.Service{DB: db, Audit: &audit.Log{Clock: d.clk}, Clock: d.clk, Roles: here}
		admin := audit.Actor{UserID: d.users["demo-platform-admin"], Label: "Priya Shah"}
		lead, platform := d.users["demo-trust-lead"], d.orgs[orgs.DemoPlatform]

		// Refresh with nothing changed keeps working answers.
		if err := there.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !there.Allowed(lead, d.orgs["RJ7"], "organisation", "read") {
			t.Fatal("Refresh without a change lost a role")
		}

		m, err := svc.Grant(ctx, admin, lead, d.ids[orgs.DemoPlatform], string(authz.Auditor))
		if err != nil {
			t.Fatalf("grant auditor: %v", err)
		}
		if !here.Allowed(lead, platform, "audit", "read") {
			t.Fatal("the instance that granted the role does not enforce it at once")
		}
		if there.Allowed(lead, platform, "audit", "read") {
			t.Fatal("the other instance knew of the grant before refreshing; the test proves nothing")
		}
		if err := there.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !there.Allowed(lead, platform, "audit", "read") {
			t.Fatal("Refresh did not pick up a role granted on another instance")
		}

		// A membership written without bumping the version is invisible to
		// Refresh (it does not reload) but seen by an explicit Reload.
		err = db.Exec("INSERT INTO memberships (id, user_id, organisation_id, role, source, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			"no-bump", lead, d.ids["RJ1"], string(authz.TrustLead), orgs.SourcePortal, d.clk.Now()).Error
		if err != nil {
			t.Fatal(err)
		}
		if err := there.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if there.Allowed(lead, d.orgs["RJ1"], "organisation", "read") {
			t.Fatal("Refresh reloaded although the role version had not changed")
		}
		if err := there.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if !there.Allowed(lead, d.orgs["RJ1"], "organisation", "read") {
			t.Fatal("Reload did not load the new membership")
		}

		// Revoking reaches the other instance the same way.
		if err := svc.Revoke(ctx, admin, lead, m.ID); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if !there.Allowed(lead, platform, "audit", "read") {
			t.Fatal("the other instance dropped the role before refreshing")
		}
		if err := there.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if there.Allowed(lead, platform, "audit", "read") {
			t.Fatal("Refresh did not drop a revoked role")
		}

		// Disabling a user removes all their roles everywhere at the next
		// Refresh; enabling them brings the roles back.
		if err := svc.SetDisabled(ctx, admin, lead, true); err != nil {
			t.Fatalf("disable: %v", err)
		}
		if here.Allowed(lead, d.orgs["RJ7"], "organisation", "read") {
			t.Fatal("the disabling instance still allows the disabled user")
		}
		if !there.Allowed(lead, d.orgs["RJ7"], "organisation", "read") {
			t.Fatal("the other instance dropped the roles before refreshing")
		}
		if err := there.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		for _, dom := range []string{d.orgs["RJ7"], d.orgs["RJ1"]} {
			if there.Allowed(lead, dom, "organisation", "read") || len(there.RolesIn(lead, dom)) != 0 {
				t.Fatalf("disabled user still has roles %v in %s after Refresh", there.RolesIn(lead, dom), dom)
			}
		}
		if !there.Allowed(d.users["demo-evaluator"], d.orgs["RJ7"], "organisation", "read") {
			t.Fatal("disabling one user removed another user's role")
		}
		if err := svc.SetDisabled(ctx, admin, lead, false); err != nil {
			t.Fatalf("enable: %v", err)
		}
		if err := there.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !there.Allowed(lead, d.orgs["RJ7"], "organisation", "read") {
			t.Fatal("re-enabled user did not get their role back")
		}
	})
}

// Watch refreshes on its own until its context ends.
func TestWatchRefreshes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := seed(t, db)
		a := newAuthorizer(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Watch(ctx, 10*time.Millisecond); close(done) }()

		svc := &orgs.Service{DB: db, Audit: &audit.Log{Clock: d.clk}, Clock: d.clk}
		lead := d.users["demo-trust-lead"]
		if _, err := svc.Grant(context.Background(), audit.System, lead, d.ids["RJ1"], string(authz.TrustLead)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !a.Allowed(lead, d.orgs["RJ1"], "organisation", "read") {
			if time.Now().After(deadline) {
				t.Fatal("Watch did not pick up the grant within 5s")
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Watch did not stop when its context ended")
		}
	})
}
