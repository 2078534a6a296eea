package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/web"
)

// notCovered lists the object-level routes whose parameters the world
// cannot fill, each with the reason; every other object-level route must
// be filled, so a new route cannot slip past the matrix.
var notCovered = map[string]string{
	"POST /invitations/:token/accept":           "the token is the credential (a link sent by email), not an object ID; an unknown token is tested in applications_test.go",
	"GET /invitations/:token/register":          "the token is the credential, not an object ID (see applications_test.go)",
	"POST /invitations/:token/register":         "the token is the credential, not an object ID (see applications_test.go)",
	"POST /invitations/:token/register/confirm": "the token is the credential, not an object ID (see applications_test.go)",
	"POST /frameworks/:id/questions/:question/withdraw": "the framework fixture passes its clarification deadline in one step, so A has no question; " +
		"another supplier's question is tested in clarifications_test.go",
	"POST /frameworks/:id/clarifications/:question/answer":       "as above: A's framework has no clarification question (see clarifications_test.go)",
	"POST /competitions/:id/questions/:question/withdraw":        "the competition fixtures pass their question deadline in one step, so A has no question",
	"POST /competitions/:id/clarifications/:question/answer":     "as above: A's competitions have no clarification question",
	"POST /competitions/:id/award/challenges/:challenge/resolve": "the award fixture confirms the award without a challenge, so A has none to resolve",
}

// legitimate lists the pairs where B's person may use A's object by design,
// each with the rule that allows it: they are skipped, not refused.
var legitimate = map[string]string{
	"demo-platform-admin GET /exit/deployments/:id":  "the platform's administrators read the whole national exit tracker (exit.read, national scope)",
	"demo-national-viewer GET /exit/deployments/:id": "the national programme reads every trust's deployments (exit.read, national scope)",
	"matrix-rr8-lead POST /frameworks/:id/access-request": "any trust outside the consortium may ask to buy under a live framework; " +
		"the consortium's lead decides (buying_test.go), and the request reveals nothing of A's",
}

// ownerRedirects lists the control GETs on which A's owner is redirected
// rather than shown the page, each with the reason.
var ownerRedirects = map[string]string{}

// queries are the query strings a route needs to show anything.
var queries = map[string]string{"GET /catalogues/:id/export": "?format=csv"}

// matrixRoute is an object-level route with A's objects in its path.
type matrixRoute struct {
	web.Route
	family, path string
}

func (r matrixRoute) key() string { return r.Method + " " + r.Path }

// family is the longest route family the path starts with.
func family(path string) string {
	for _, f := range matrixFamilies {
		if path == f || strings.HasPrefix(path, f+"/") {
			return f
		}
	}
	return ""
}

// fillPath puts A's objects into the path's parameters; ok is false when
// one of them has no object in the world.
func (w *matrixWorld) fillPath(path string) (filled string, ok bool) {
	params := w.params[family(path)]
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if name, isParam := strings.CutPrefix(s, ":"); isParam {
			v, found := params[name]
			if !found {
				return "", false
			}
			segs[i] = v
		}
	}
	return strings.Join(segs, "/"), true
}

// tries says whether the actor is an outsider to the route's object: the
// London member trusts' people are buyers of A's framework, and the
// co-bidder has a bid and an application of its own beside A's supplier,
// so it is tried only where the path names another supplier's object.
func (a matrixActor) tries(r matrixRoute) bool {
	switch {
	case a.coBidder:
		return strings.Contains(r.Path, ":bid") || strings.Contains(r.Path, ":app") ||
			r.family == "/contracts" || r.family == "/documents" || r.family == "/notifications" || r.family == "/organisations"
	case a.inConsortium:
		return r.family != "/catalogues" && r.family != "/frameworks"
	}
	return true
}

// ownerOf is A's person whose role uses the route.
func (w *matrixWorld) ownerOf(r matrixRoute) string {
	p := r.Path
	switch {
	case strings.Contains(p, "/lots/:lot/application"), p == "/frameworks/:id/apply", p == "/frameworks/:id/questions":
		return w.supplier
	case strings.Contains(p, "/applications/:app/"), p == "/frameworks/:id/evaluate":
		return w.evaluator
	case r.family == "/catalogues", r.family == "/frameworks":
		return w.consortiumLead
	case p == "/competitions/:id/bid", strings.HasPrefix(p, "/competitions/:id/bid/"), p == "/competitions/:id/questions":
		return w.supplier
	case strings.HasPrefix(p, "/competitions/:id/evaluation/declaration"), p == "/competitions/:id/evaluation/bids/:bid":
		return w.evaluator
	}
	return w.trustLead
}

// matrixRoutes is every object-level route filled with A's objects; a
// route neither filled nor in notCovered fails the test.
func matrixRoutes(t *testing.T, h *apptest.Harness, w *matrixWorld) []matrixRoute {
	t.Helper()
	var out []matrixRoute
	seen := map[string]bool{}
	for _, r := range h.App.Server.Routes() {
		if !r.ObjectLevel {
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		if _, skip := notCovered[key]; skip {
			continue
		}
		path, ok := w.fillPath(r.Path)
		if !ok {
			t.Errorf("object-level route %s is neither filled by the matrix's world nor listed in notCovered", key)
			continue
		}
		out = append(out, matrixRoute{Route: r, family: family(r.Path), path: path + queries[key]})
	}
	for key := range notCovered {
		if !seen[key] {
			t.Errorf("notCovered lists %s, which is not an object-level route", key)
		}
	}
	return out
}

// auditCounts is how many success and denied entries the user has caused.
func auditCounts(t *testing.T, h *apptest.Harness, userID string) (success, denied int64) {
	t.Helper()
	var row struct{ Success, Denied int64 }
	err := h.App.DB.Raw(`SELECT COALESCE(SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0) AS success,
		COALESCE(SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0) AS denied FROM audit_entries WHERE actor_user_id = ?`,
		audit.Success, audit.Denied, userID).Scan(&row).Error
	if err != nil {
		t.Fatal(err)
	}
	return row.Success, row.Denied
}

// matrixRequest sends the route's request with an innocuous form: a
// version, the CSRF token of a page the person can open, and for uploads
// a small requirements file.
func matrixRequest(t *testing.T, h *apptest.Harness, b *apptest.Browser, token string, r matrixRoute) apptest.Response {
	t.Helper()
	switch {
	case r.Method == http.MethodGet:
		return b.Get(r.path)
	case r.Upload:
		return uploadFile(t, h, b, "/", r.path, "r.csv", []byte(goodCSV))
	}
	return b.Post(r.path, url.Values{"_csrf": {token}, "version": {"1"}})
}

// TestAccessMatrix: every role's person acting for organisation B requests
// every object-level route with organisation A's objects, GET and POST
// with a valid CSRF token: each is refused with 403 or 404 (anonymous
// visitors are sent to sign in), nothing is recorded as done, and every
// refused read is audited as denied. As a control, A's own people
// reach every covered page.
func TestAccessMatrix(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		began := time.Now()
		w := buildMatrixWorld(t, h)
		routes := matrixRoutes(t, h, w)
		pairs := 0

		// The control: A's people reach every covered page.
		owners := map[string]*apptest.Browser{}
		controlled := 0
		for _, r := range routes {
			if r.Method != http.MethodGet {
				continue
			}
			subject := w.ownerOf(r)
			b := owners[subject]
			if b == nil {
				b = h.Browser(t)
				b.SignInAs(subject)
				owners[subject] = b
			}
			res := b.Get(r.path)
			switch {
			case res.Status == http.StatusOK:
			case res.Status == http.StatusSeeOther && ownerRedirects[r.key()] != "" && !strings.HasPrefix(res.Location, "/sign-in"):
			default:
				t.Errorf("control: %s (owner) on %s: status %d location %q; want the page", subject, r.key(), res.Status, res.Location)
				continue
			}
			controlled++
		}

		// Anonymous visitors are sent to sign in, and their posts refused.
		anon := h.Browser(t)
		for _, r := range routes {
			pairs++
			if r.Method == http.MethodGet {
				if res := anon.Get(r.path); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/sign-in") {
					t.Errorf("anonymous %s: status %d location %q; want a redirect to sign in", r.key(), res.Status, res.Location)
				}
				continue
			}
			if res := anon.Post(r.path, url.Values{"version": {"1"}}); res.Status != http.StatusForbidden {
				t.Errorf("anonymous %s: status %d; want 403", r.key(), res.Status)
			}
		}

		// B's people, at least one for every role, each signed in once.
		for _, role := range authz.Roles {
			if !slices.ContainsFunc(w.actors, func(a matrixActor) bool { return a.Role == role }) {
				t.Errorf("no person of organisation B holds the role %s", role)
			}
		}
		reads, auditedReads := 0, 0
		for _, a := range w.actors {
			b := h.Browser(t)
			b.SignInAs(a.Subject)
			token := b.CSRF("/")
			userID := h.UserID(t, a.Subject)
			success, denied := auditCounts(t, h, userID)
			for _, r := range routes {
				if !a.tries(r) {
					continue
				}
				if _, ok := legitimate[a.Subject+" "+r.key()]; ok {
					continue
				}
				pairs++
				res := matrixRequest(t, h, b, token, r)
				s, d := auditCounts(t, h, userID)
				switch {
				case res.Status == http.StatusNotFound || res.Status == http.StatusForbidden:
				case res.Status >= 500:
					t.Errorf("%s (%s, B) %s with A's objects: server error %d", a.Subject, a.Role, r.key(), res.Status)
				default:
					t.Errorf("%s (%s, B) %s with A's objects: status %d location %q; want 403 or 404", a.Subject, a.Role, r.key(), res.Status, res.Location)
				}
				if s != success {
					t.Errorf("%s (%s, B) %s with A's objects: %d action(s) recorded as done", a.Subject, a.Role, r.key(), s-success)
				}
				if r.Method == http.MethodGet {
					reads++
					if d > denied {
						auditedReads++
					} else {
						t.Errorf("%s (%s, B) %s with A's objects: the refusal was not audited", a.Subject, a.Role, r.key())
					}
				}
				success, denied = s, d
			}
		}
		t.Logf("access matrix: %d object-level routes covered, %d not covered; %d (person, route) refusals checked, "+
			"%d of %d refused reads audited as denied; %d owner pages as control; %s",
			len(routes), len(notCovered), pairs, auditedReads, reads, controlled, time.Since(began).Round(time.Millisecond))
	})
}
