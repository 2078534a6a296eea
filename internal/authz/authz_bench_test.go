package authz_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	portal "github.com/nhsprocure/portal"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// The size of the role assignment load: 100,000 memberships held by 70,000
// people across the platform, the national programme, 40 consortia, 250
// trusts and 5,000 suppliers.
const (
	benchAssignments = 100_000
	benchUsers       = 70_000
	benchConsortia   = 40
	benchTrusts      = 250
	benchSuppliers   = 5_000
	// checksPerOp is how many Allowed calls one benchmark operation makes,
	// each timed on its own, so that one operation (-benchtime=1x) already
	// gives a p99 worth the name.
	checksPerOp = 100_000
)

// BenchmarkAllowed100k loads the real model and policy file with 100,000
// role assignments from the memberships table (on SQLite, and PostgreSQL
// when set) and times Allowed calls one by one over random people and
// domains: half of them for something a role of theirs grants in their own
// organisation, the rest for another organisation or any other permission,
// mostly refused. Each check is asked once per loaded snapshot, so the
// decisions the Authorizer remembers do not answer it: this is the cost
// of a first check. Every answer is checked against the policy file read
// independently; one wrong answer fails the benchmark. It reports the
// per-check latency at p50 and p99 ("p50-ns", "p99-ns"), ns/op, B/op and
// allocs/op per check, the Go heap the loaded enforcer holds ("heap-MiB")
// and the median time of a full reload of all 100,000 ("reload-ms").
func BenchmarkAllowed100k(b *testing.B) {
	for _, kind := range storetest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, kind)
			rng := mrand.New(mrand.NewPCG(1, 2))
			world := addAssignments(b, db, rng)

			heapBefore := heapAlloc()
			a, err := authz.New(ctx, db, portal.PolicyModel(), portal.PolicyRules(), nil)
			if err != nil {
				b.Fatal(err)
			}
			heap := heapAlloc() - heapBefore
			if got := len(a.RolesIn(world.members[0].user, world.members[0].domain)); got == 0 {
				b.Fatal("the first generated assignment was not loaded")
			}
			var reloads []time.Duration
			for range 3 {
				began := time.Now()
				if err := a.Reload(ctx); err != nil {
					b.Fatal(err)
				}
				reloads = append(reloads, time.Since(began))
			}

			checks := world.checks(rng, readPolicy(b, portal.PolicyRules()), checksPerOp)
			took := make([]time.Duration, 0, checksPerOp)
			wrong, allowed := 0, 0
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ops := 0
			b.ResetTimer()
			for b.Loop() {
				if ops++; ops > 1 {
					// A fresh snapshot, so the decisions remembered on the
					// last one do not answer these checks.
					b.StopTimer()
					if err := a.Reload(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				for _, c := range checks {
					began := time.Now()
					got := a.Allowed(c.user, c.domain, c.obj, c.act)
					took = append(took, time.Since(began))
					if got != c.want {
						wrong++
					}
					if got {
						allowed++
					}
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(a)

			n := float64(ops * checksPerOp)
			var total time.Duration
			for _, d := range took {
				total += d
			}
			b.ReportMetric(float64(total.Nanoseconds())/n, "ns/op")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/op")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/op")
			p50, p99 := domaintest.Percentile(took, 0.50), domaintest.Percentile(took, 0.99)
			b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
			b.ReportMetric(domaintest.MiB(heap), "heap-MiB")
			b.ReportMetric(domaintest.PercentileMS(reloads, 0.50), "reload-ms")
			b.Logf("%s: %d role assignments of %d people; %d checks, %d allowed, %d wrong; p50 %s, p99 %s, max %s; enforcer heap %.1f MiB; reloads %v",
				kind, benchAssignments, benchUsers, len(took), allowed, wrong,
				p50, p99, domaintest.Percentile(took, 1.00), domaintest.MiB(heap), reloads)
			if wrong > 0 {
				b.Fatalf("%d of %d checks answered wrongly", wrong, len(took))
			}
			if allowed == 0 || allowed == len(took) {
				b.Fatalf("%d of %d checks allowed: the mix must hold both answers", allowed, len(took))
			}
		})
	}
}

// heapAlloc is the live Go heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// member is one generated role assignment: user holds role in domain.
type member struct{ user, role, domain string }

// assignments is the generated world: every membership, and every domain.
type assignments struct {
	members []member
	domains []string
	// held maps user and domain to the roles held there.
	held map[[2]string][]string
}

// addAssignments writes benchUsers people and benchAssignments memberships
// in organisations of every kind, each role in a kind it can be held in,
// in bulk and in one transaction.
func addAssignments(b *testing.B, db *store.DB, rng *mrand.Rand) *assignments {
	b.Helper()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var all []orgs.Organisation
	byKind := map[string][]orgs.Organisation{}
	add := func(kind string, n int) {
		for i := range n {
			o := orgs.Organisation{ID: uuid.NewString(), Kind: kind, Name: fmt.Sprintf("%s %04d", kind, i), Version: 1, CreatedAt: now, UpdatedAt: now}
			all = append(all, o)
			byKind[kind] = append(byKind[kind], o)
		}
	}
	add(orgs.KindPlatform, 1)
	add(orgs.KindNational, 1)
	add(orgs.KindConsortium, benchConsortia)
	add(orgs.KindTrust, benchTrusts)
	add(orgs.KindSupplier, benchSuppliers)

	users := make([]orgs.User, benchUsers)
	for i := range users {
		users[i] = orgs.User{ID: uuid.NewString(), Issuer: "https://idp.example.nhs.uk", Subject: fmt.Sprintf("person-%06d", i),
			Email: fmt.Sprintf("person-%06d@example.nhs.uk", i), Version: 1, CreatedAt: now, UpdatedAt: now}
	}
	// Most people work for a supplier or a trust; a few for a consortium,
	// the national programme or the platform.
	pickKind := func() string {
		switch p := rng.IntN(1000); {
		case p < 500:
			return orgs.KindSupplier
		case p < 900:
			return orgs.KindTrust
		case p < 990:
			return orgs.KindConsortium
		case p < 995:
			return orgs.KindNational
		default:
			return orgs.KindPlatform
		}
	}
	rolesIn := map[string][]authz.Role{}
	for _, r := range authz.Roles {
		for _, k := range r.Kinds() {
			rolesIn[k] = append(rolesIn[k], r)
		}
	}
	w := &assignments{held: map[[2]string][]string{}}
	for _, o := range all {
		w.domains = append(w.domains, authz.Domain(o.Kind, o.ID))
	}
	ms := make([]orgs.Membership, 0, benchAssignments)
	seen := map[[3]string]bool{}
	for len(ms) < benchAssignments {
		// Everyone holds one role; the rest go to people picked at random.
		u := users[len(ms)%benchUsers]
		if len(ms) >= benchUsers {
			u = users[rng.IntN(benchUsers)]
		}
		kind := pickKind()
		o := byKind[kind][rng.IntN(len(byKind[kind]))]
		role := string(rolesIn[kind][rng.IntN(len(rolesIn[kind]))])
		if key := [3]string{u.ID, o.ID, role}; seen[key] {
			continue
		} else {
			seen[key] = true
		}
		ms = append(ms, orgs.Membership{ID: uuid.NewString(), UserID: u.ID, OrganisationID: o.ID, Role: role, Source: orgs.SourcePortal, CreatedAt: now})
		m := member{user: u.ID, role: role, domain: authz.Domain(o.Kind, o.ID)}
		w.members = append(w.members, m)
		w.held[[2]string{m.user, m.domain}] = append(w.held[[2]string{m.user, m.domain}], role)
	}

	began := time.Now()
	// The SQLite driver binds parameters in time growing with the square
	// of their number per statement, so batches stay small.
	const batch = 100
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit("Lead").CreateInBatches(all, batch).Error; err != nil {
			return fmt.Errorf("organisations: %w", err)
		}
		if err := tx.CreateInBatches(users, batch).Error; err != nil {
			return fmt.Errorf("users: %w", err)
		}
		if err := tx.Omit("User", "Organisation").CreateInBatches(ms, batch).Error; err != nil {
			return fmt.Errorf("memberships: %w", err)
		}
		return authz.Changed(tx)
	})
	if err != nil {
		b.Fatalf("add role assignments: %v", err)
	}
	b.Logf("%d organisations, %d people and %d memberships written in %s", len(all), len(users), len(ms), time.Since(began).Round(time.Millisecond))
	return w
}

// grant is one permission: an object and an action on it.
type grant struct{ obj, act string }

// policy is the policy file read on its own, without casbin: for each role
// and kind of organisation, what the role may do there.
type policy struct {
	grants map[[2]string][]grant // role, kind -> permissions
	all    []grant               // every permission the file names
}

// readPolicy parses the "p, role, kind:*, object, action" lines.
func readPolicy(b *testing.B, csv string) policy {
	b.Helper()
	p := policy{grants: map[[2]string][]grant{}}
	for line := range strings.Lines(csv) {
		f := strings.Split(strings.TrimSpace(line), ", ")
		if f[0] != "p" {
			continue
		}
		if len(f) != 5 {
			b.Fatalf("policy line %q is not p, role, kind:*, object, action", line)
		}
		kind, ok := strings.CutSuffix(f[2], ":*")
		if !ok {
			b.Fatalf("policy line %q is not p, role, kind:*, object, action", line)
		}
		g := grant{obj: f[3], act: f[4]}
		p.grants[[2]string{f[1], kind}] = append(p.grants[[2]string{f[1], kind}], g)
		if !slices.Contains(p.all, g) {
			p.all = append(p.all, g)
		}
	}
	return p
}

// allows is whether any of roles grants g in an organisation of kind.
func (p policy) allows(roles []string, kind string, g grant) bool {
	for _, r := range roles {
		if slices.Contains(p.grants[[2]string{r, kind}], g) {
			return true
		}
	}
	return false
}

// check is one Allowed call and the answer the policy file gives.
type check struct {
	user, domain, obj, act string
	want                   bool
}

// checks makes n checks from random assignments: half for a permission the
// assignment's role has in its own domain, a quarter for one of that
// role's permissions in a random domain, a quarter for any permission in
// the person's own domain.
func (w *assignments) checks(rng *mrand.Rand, p policy, n int) []check {
	out := make([]check, n)
	for i := range out {
		m := w.members[rng.IntN(len(w.members))]
		kind, _, _ := strings.Cut(m.domain, ":")
		own := p.grants[[2]string{m.role, kind}]
		var g grant
		domain := m.domain
		switch q := rng.IntN(4); {
		case q < 2 && len(own) > 0:
			g = own[rng.IntN(len(own))]
		case q == 2 && len(own) > 0:
			g = own[rng.IntN(len(own))]
			domain = w.domains[rng.IntN(len(w.domains))]
		default:
			g = p.all[rng.IntN(len(p.all))]
		}
		dkind, _, _ := strings.Cut(domain, ":")
		out[i] = check{user: m.user, domain: domain, obj: g.obj, act: g.act,
			want: p.allows(w.held[[2]string{m.user, domain}], dkind, g)}
	}
	return out
}
