package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/web"
)

// expected says, independently of policies/policy.csv, which roles may use
// routes guarded by each permission. The policy file must agree.
var expected = map[string][]authz.Role{
	"administration.read":  {authz.PlatformAdmin},
	"administration.write": {authz.PlatformAdmin},
	"audit.read":           {authz.PlatformAdmin, authz.Auditor},
	"documents.read": {authz.PlatformAdmin, authz.ConsortiumLead, authz.TrustLead, authz.Evaluator,
		authz.BoardMember, authz.SupplierUser},
	"documents.write":  {authz.PlatformAdmin, authz.ConsortiumLead, authz.TrustLead, authz.SupplierUser},
	"catalogue.read":   {authz.ConsortiumLead},
	"catalogue.write":  {authz.ConsortiumLead},
	"framework.read":   {authz.ConsortiumLead},
	"framework.write":  {authz.ConsortiumLead},
	"application.read": {authz.SupplierUser},
	"evaluation.score": {authz.Evaluator},
	"calloff.read":     {authz.TrustLead, authz.BoardMember},

	// Mini-competitions: which competition is checked on every object.
	"competition.read":  {authz.TrustLead, authz.BoardMember, authz.Evaluator},
	"competition.write": {authz.TrustLead},
	// Contracts: which contract is checked on every object.
	"contract.read": {authz.TrustLead, authz.BoardMember, authz.SupplierUser},
	// The exit tracker: the scope comes from the acting organisation.
	"exit.read":  {authz.PlatformAdmin, authz.NationalViewer, authz.ConsortiumLead, authz.TrustLead, authz.BoardMember},
	"exit.admin": {authz.PlatformAdmin},
	// The contract register: whose contracts comes from the acting
	// organisation.
	"register.read": {authz.PlatformAdmin, authz.Auditor, authz.NationalViewer, authz.ConsortiumLead, authz.TrustLead,
		authz.BoardMember, authz.SupplierUser},
}

// ids are real records to put into route parameters.
type ids struct {
	org, target, member, membership, ownOrg string
}

func fill(path string, id ids) string {
	r := strings.NewReplacer(":member", id.member, ":membership", id.membership)
	path = r.Replace(path)
	switch {
	case strings.HasPrefix(path, "/admin/users/"):
		return strings.Replace(path, ":id", id.target, 1)
	case strings.HasPrefix(path, "/organisations/"):
		return strings.Replace(path, ":id", id.ownOrg, 1)
	}
	return strings.Replace(path, ":id", id.org, 1)
}

// TestEveryRoleAgainstEveryRoute signs in as the demo user of every role and
// requests every protected route, asserting allow or deny from the table
// above; anonymous requests are sent to sign in (GET) or refused (POST).
func TestEveryRoleAgainstEveryRoute(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		routes := h.App.Server.Routes()
		for perm := range expected {
			found := slices.ContainsFunc(routes, func(r web.Route) bool { return r.Object+"."+r.Action == perm })
			if !found {
				t.Fatalf("no route uses %s: the table is out of date", perm)
			}
		}
		for _, r := range routes {
			if r.Object != "" {
				if _, ok := expected[r.Object+"."+r.Action]; !ok {
					t.Fatalf("route %s %s needs %s.%s, which the test's table does not cover", r.Method, r.Path, r.Object, r.Action)
				}
			}
		}

		// A throwaway user and consortium membership for the admin actions
		// to act on, so walking the routes changes nothing that matters.
		admin := audit.Actor{Label: "test"}
		target, err := h.App.Orgs.CreateUser(ctx, admin, orgs.UserInput{Issuer: "https://idp.example", Subject: "matrix-target", Name: "Matrix Target"})
		if err != nil {
			t.Fatal(err)
		}
		london, _ := h.App.Orgs.Organisations(ctx, orgs.KindConsortium, orgs.DemoLondon)
		members, _ := h.App.Orgs.Members(ctx, london[0].ID)
		base := ids{org: london[0].ID, ownOrg: london[0].ID, target: target.ID, member: members[0].ID, membership: "00000000-0000-0000-0000-000000000000"}

		anon := h.Browser(t)
		for _, r := range routes {
			if r.Public {
				continue
			}
			path := fill(r.Path, base)
			switch r.Method {
			case http.MethodGet:
				res := anon.Get(path)
				if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/sign-in") {
					t.Errorf("anonymous GET %s: status %d location %q; want a redirect to sign in", path, res.Status, res.Location)
				}
			default:
				// Anonymous pages carry no form, so no token: the request is
				// refused before it could reach the handler either way.
				res := anon.Post(path, url.Values{})
				if res.Status != http.StatusForbidden {
					t.Errorf("anonymous POST %s: status %d; want 403", path, res.Status)
				}
			}
		}

		for _, demo := range orgs.DemoUsers {
			t.Run(string(demo.Role)+"/"+demo.Subject, func(t *testing.T) {
				b := h.Browser(t)
				home := b.SignInAs(demo.Subject)
				if !strings.Contains(home.Body, `data-testid="acting-for"`) {
					t.Fatalf("after sign-in the page does not say whom %s acts for", demo.Subject)
				}
				id := base
				id.ownOrg = actingOrg(t, h, demo.Subject)
				var signOut *web.Route
				for _, r := range routes {
					if r.Public {
						continue
					}
					if r.Path == "/sign-out" {
						signOut = &r
						continue
					}
					path := fill(r.Path, id)
					var res apptest.Response
					if r.Method == http.MethodGet {
						res = b.Get(path)
					} else {
						res = b.PostForm("/", path, url.Values{})
					}
					allowed := r.Object == "" || slices.Contains(expected[r.Object+"."+r.Action], demo.Role)
					switch {
					case allowed && res.Status == http.StatusForbidden:
						t.Errorf("%s %s: refused (403) but %s should be allowed", r.Method, path, demo.Role)
					case allowed && res.Status >= 500:
						t.Errorf("%s %s: server error %d", r.Method, path, res.Status)
					case !allowed && res.Status != http.StatusForbidden:
						t.Errorf("%s %s: status %d but %s should be refused with 403", r.Method, path, res.Status, demo.Role)
					}
				}
				if signOut == nil {
					t.Fatal("no sign-out route")
				}
				if res := b.PostForm("/", "/sign-out", nil); res.Status != http.StatusSeeOther {
					t.Errorf("sign out: status %d", res.Status)
				}
			})
		}

		// Every refusal above was audited.
		var denied int64
		h.App.DB.Model(&audit.Entry{}).Where("outcome = ?", audit.Denied).Count(&denied)
		if denied == 0 {
			t.Fatal("no refused request was audited")
		}
		if n, brk, err := audit.Verify(ctx, h.App.DB); err != nil || brk != nil {
			t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
		}
	})
}

// actingOrg returns the organisation a demo user acts for (their only one).
func actingOrg(t testing.TB, h *apptest.Harness, subject string) string {
	t.Helper()
	var id string
	err := h.App.DB.Raw(`SELECT m.organisation_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.subject = ? AND u.issuer = ?`, subject, app.DevIssuer(h.App.Config)).Scan(&id).Error
	if err != nil || id == "" {
		t.Fatalf("organisation of %s: %v", subject, err)
	}
	return id
}
