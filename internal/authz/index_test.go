package authz

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/casbin/casbin/v2/model"

	portal "github.com/nhsprocure/portal"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// The policy index gives casbin's own answer to every check: each person
// with their roles (several in one organisation, roles in organisations of
// the wrong kind, a disabled person) asked every permission the policy file
// names, and one it does not, in their own organisations, in others of
// every kind, and in domains nobody holds a role in.
func TestPermissionsAnswerAsTheEnforcer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rng := mrand.New(mrand.NewPCG(3, 4))
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		kinds := []string{"trust", "supplier", "consortium", "national", "platform"}
		roles := []string{string(PlatformAdmin), string(ConsortiumLead), string(TrustLead), string(Evaluator),
			string(BoardMember), string(SupplierUser), string(NationalViewer), string(Auditor)}
		var domains []string
		for i := range 30 {
			kind := kinds[i%len(kinds)]
			id := fmt.Sprintf("org-%02d", i)
			exec(t, db, "INSERT INTO organisations (id, kind, name, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)", id, kind, id, now, now)
			domains = append(domains, Domain(kind, id))
		}
		var users []string
		for i := range 40 {
			id := fmt.Sprintf("user-%02d", i)
			var disabled *time.Time
			if i == 0 {
				disabled = &now
			}
			exec(t, db, "INSERT INTO users (id, issuer, subject, disabled_at, version, created_at, updated_at) VALUES (?, 'https://idp.example', ?, ?, 1, ?, ?)",
				id, id, disabled, now, now)
			users = append(users, id)
			for j := range 1 + rng.IntN(3) {
				org := rng.IntN(len(domains))
				exec(t, db, "INSERT INTO memberships (id, user_id, organisation_id, role, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
					fmt.Sprintf("m-%02d-%d", i, j), id, fmt.Sprintf("org-%02d", org), roles[rng.IntN(len(roles))], now)
			}
		}
		a, err := New(ctx, db, portal.PolicyModel(), portal.PolicyRules(), nil)
		if err != nil {
			t.Fatal(err)
		}
		l := a.current.Load()
		if l.permissions == nil {
			t.Fatal("policies/model.conf is not indexed: checks would all go through casbin's evaluator")
		}
		var perms [][2]string
		for _, line := range l.enforcer.GetModel()["p"]["p"].Policy {
			perms = append(perms, [2]string{line[2], line[3]})
		}
		perms = append(perms, [2]string{"organisation", "delete"})
		domains = append(domains, "trust:nobody", "supplier:*", "elsewhere:org-01")
		allowed, checks := 0, 0
		for _, u := range append(users, "no-such-user") {
			for _, d := range domains {
				for _, p := range perms {
					want, err := l.enforcer.Enforce(u, d, p[0], p[1])
					if err != nil {
						t.Fatal(err)
					}
					got, err := l.permissions.allowed(u, d, p[0], p[1])
					if err != nil || got != want {
						t.Fatalf("index says %v (err %v), casbin %v: %s in %s, %s/%s", got, err, want, u, d, p[0], p[1])
					}
					checks++
					if want {
						allowed++
					}
				}
			}
		}
		if allowed == 0 || allowed == checks {
			t.Fatalf("%d of %d checks allowed: the comparison needs both answers", allowed, checks)
		}
		t.Logf("%d checks, %d allowed, all as casbin answers", checks, allowed)
	})
}

// A model the index does not answer for (here the matcher also lets a
// wildcard subject in) is left to casbin's evaluator.
func TestOtherModelsAreNotIndexed(t *testing.T) {
	text := strings.Replace(portal.PolicyModel(), "m = g(r.sub, p.sub, r.dom)", `m = (g(r.sub, p.sub, r.dom) || p.sub == "*")`, 1)
	if text == portal.PolicyModel() {
		t.Fatal("the matcher line of policies/model.conf has changed; update this test")
	}
	for name, text := range map[string]string{"the real model": portal.PolicyModel(), "another matcher": text} {
		m, err := model.NewModelFromString(text)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := indexPermissions(m, nil) != nil, name == "the real model"; got != want {
			t.Errorf("%s: indexed %v, want %v", name, got, want)
		}
	}
}

func exec(t *testing.T, db *store.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
