package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestScenario8RoleRevokedOnOneInstanceIsRefusedOnAnother is SECURITY.md
// scenario 8: "A role revoked on one instance is refused on another."
// Two portals share one database and one session key, as instances behind
// a load balancer do. A trust lead who is also a board member signs in on
// the first; her session works on the second. A platform administrator
// revokes her trust lead role through the first instance's pages; within
// a second (README: role changes reach every instance within a second) the
// second instance refuses her the trust lead's page with the same session,
// and audits the refusal, while the board member's role she keeps still
// works there.
func TestScenario8RoleRevokedOnOneInstanceIsRefusedOnAnother(t *testing.T) {
	key := bytes.Repeat([]byte{0x5c}, 32)
	sharedKey := func(c *config.Config, _ *app.Options) { c.SessionKey = key }
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			one := apptest.New(t, kind, sharedKey)
			two := apptest.NewOn(t, kind, one.DSN, one.Clock.Now(), sharedKey)
			rj7 := orgID(t, one, "RJ7")
			aisha := one.UserID(t, "demo-trust-lead")
			if _, err := one.App.Orgs.Grant(ctx, audit.System, aisha, rj7, string(authz.BoardMember)); err != nil {
				t.Fatal(err)
			}

			onOne := one.Browser(t)
			onOne.SignInAs("demo-trust-lead")
			onTwo := two.Browser(t)
			onTwo.Client.Jar = onOne.Client.Jar   // the same browser, routed to the other instance
			const leadsPage = "/competitions/new" // competition write: trust leads only
			waitFor(t, time.Second, "the second instance to honour both roles", func() bool {
				return onTwo.Get(leadsPage).Status == http.StatusOK && onTwo.Get("/competitions").Status == http.StatusOK
			})

			ms, err := one.App.Orgs.MembershipsOf(ctx, aisha)
			if err != nil {
				t.Fatal(err)
			}
			var lead string
			for _, m := range ms {
				if m.Role == string(authz.TrustLead) && m.OrganisationID == rj7 {
					lead = m.ID
				}
			}
			if lead == "" {
				t.Fatalf("no trust lead membership among %+v", ms)
			}
			admin := one.Browser(t)
			admin.SignInAs("demo-platform-admin")
			page := "/admin/users/" + aisha
			if r := admin.PostForm(page, page+"/roles/"+lead+"/revoke", nil); r.Status != http.StatusSeeOther {
				t.Fatalf("revoking through the first instance: status %d", r.Status)
			}

			denied := countAudit(two, "competition.write", audit.Denied, leadsPage)
			revoked := time.Now()
			waitFor(t, time.Second, "the second instance to refuse the revoked role", func() bool {
				return onTwo.Get(leadsPage).Status == http.StatusForbidden
			})
			t.Logf("refused on the second instance %v after the revocation", time.Since(revoked).Round(time.Millisecond))
			if r := onTwo.Get(leadsPage); r.Status != http.StatusForbidden || !signedIn(r) {
				t.Fatalf("revoked role on the second instance: status %d, signed in %v; want 403 to a signed-in person", r.Status, signedIn(r))
			}
			if n := countAudit(two, "competition.write", audit.Denied, leadsPage); n <= denied {
				t.Fatalf("refusals on the second instance audited %d times, before %d", n, denied)
			}
			var e audit.Entry
			if err := two.App.DB.Where("action = ? AND outcome = ?", "competition.write", audit.Denied).Order("seq DESC").First(&e).Error; err != nil {
				t.Fatal(err)
			}
			if e.ActorUserID != aisha || e.ActingOrgID != rj7 {
				t.Fatalf("refusal audited as %+v; want Aisha acting for RJ7", e)
			}
			if r := onTwo.Get("/competitions"); r.Status != http.StatusOK {
				t.Fatalf("the role she keeps, on the second instance: status %d", r.Status)
			}
			if r := onOne.Get(leadsPage); r.Status != http.StatusForbidden {
				t.Fatalf("revoked role on the first instance: status %d", r.Status)
			}
		})
	}
}

// TestScenario5GuessedAndReusedDocumentLinksBeforeOpening is SECURITY.md
// scenario 5 over HTTP: "Peeking before opening (listing, guessing
// document URLs, reusing old links): refused and audited." Meridian's
// sealed bid attaches a document from its library. Before the deadline the
// lead trust, a panel member, a rival supplier, a platform administrator
// and an auditor each try the document's own links (as a guessed or
// passed-on URL would carry its ID), the same ID through the competition's
// tender-pack route, and Meridian's receipt link. Every attempt is a 404
// that shows nothing of the bid, and every one that names the document is
// audited as refused. The domain side (keys, lists, bids read by a guessed
// ID) is competition.TestPeekingBeforeOpening.
func TestScenario5GuessedAndReusedDocumentLinksBeforeOpening(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		_, lot := liveFramework(t, h)
		aisha := audit.Actor{UserID: h.UserID(t, "demo-trust-lead"), OrgID: orgID(t, h, "RJ7")}
		comp, _ := biddingCompetition(t, h, aisha, lot.ID, h.UserID(t, "demo-evaluator"))
		sarah := audit.Actor{UserID: h.UserID(t, "demo-supplier"), OrgID: actingOrg(t, h, "demo-supplier")}
		const secret = "MERIDIAN-PRICE-BOOK discount 37 per cent"
		doc, err := h.App.Docs.Put(ctx, sarah, documents.Upload{OrganisationID: sarah.OrgID, OwnerType: "library",
			Name: "pricing-model.txt", Body: strings.NewReader(secret + "\n")})
		if err != nil {
			t.Fatal(err)
		}
		bid := domaintest.CompleteBid(t, h.App.Competition, comp, "Meridian answers", 10)
		bid.Documents = []framework.AttachedDocument{{ID: doc.ID, Name: doc.Name, SHA256: doc.SHA256, Size: doc.SizeBytes}}
		domaintest.SubmitBid(t, h.App.Competition, comp, sarah, bid)
		h.Clock.Set(comp.SubmissionDeadline.Add(-time.Second))

		page := "/competitions/" + comp.ID
		docLinks := []string{"/documents/" + doc.ID, "/documents/" + doc.ID + "/download"}
		packLink := page + "/documents/" + doc.ID
		receipt := page + "/bid/receipts/1"
		peekers := []string{"demo-trust-lead", "demo-evaluator", "demo-supplier-2", "demo-platform-admin", "demo-auditor"}
		for _, subject := range peekers {
			b := h.Browser(t)
			b.SignInAs(subject)
			for _, link := range append(docLinks, packLink, receipt) {
				r := b.Get(link)
				if r.Status != http.StatusNotFound || strings.Contains(r.Body, secret) || strings.Contains(r.Body, doc.SHA256) ||
					strings.Contains(r.Body, "pricing-model") {
					t.Errorf("%s GET %s before the opening: status %d; want a 404 that shows nothing", subject, link, r.Status)
				}
			}
		}
		if n := countAudit(h, "documents.read", audit.Denied, doc.ID); n != int64(len(peekers)*len(docLinks)) {
			t.Errorf("guessed document links audited %d times, want %d", n, len(peekers)*len(docLinks))
		}
		// The tender-pack route audits the document ID for everyone who
		// may read the competition (the lead trust, its panel, invited
		// suppliers); the others are refused the competition itself.
		if n := countAudit(h, "competition.document.read", audit.Denied, doc.ID); n != 3 {
			t.Errorf("the bid's document through the tender pack audited %d times, want 3", n)
		}
		if n := countAudit(h, "document.download", audit.Success, doc.ID); n != 0 {
			t.Errorf("%d downloads of the sealed bid's document", n)
		}
		if n, brk, err := audit.Verify(ctx, h.App.DB); err != nil || brk != nil {
			t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
		}

		// Meridian itself still has its own links.
		own := h.Browser(t)
		own.SignInAs("demo-supplier")
		if r := own.Get(receipt); r.Status != http.StatusOK || !strings.Contains(r.Body, "Bid received") {
			t.Fatalf("Meridian's own receipt: status %d", r.Status)
		}
		if r := own.Get(docLinks[0]); r.Status != http.StatusOK || !strings.Contains(r.Body, doc.SHA256) {
			t.Fatalf("Meridian's own document: status %d", r.Status)
		}
	})
}

// waitFor polls cond until it holds, failing after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
