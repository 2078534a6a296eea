package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestBuyersAskForAccess: a trust outside the consortium finds a published
// framework, asks to buy under it, the lead admits it from the framework
// page, and the trust is told; member trusts see they are members; asking
// twice is refused with a message; suppliers have no such page.
func TestBuyersAskForAccess(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			h := apptest.New(t, kind, withNewcomer)
			ctx := context.Background()
			fw, _ := openForApplications(t, h, time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC))
			// The newcomer is a procurement lead at a Yorkshire trust.
			yorkshire, _ := h.App.Orgs.Organisations(ctx, orgs.KindTrust, "RR8")
			outsider := h.Browser(t)
			outsider.SignInAs("newcomer")
			if _, err := h.App.Orgs.Grant(ctx, audit.Actor{Label: "test"}, h.UserID(t, "newcomer"), yorkshire[0].ID, string(authz.TrustLead)); err != nil {
				t.Fatal(err)
			}
			outsider.SignInAs("newcomer")

			// A draft is nobody's business outside the consortium: not
			// listed, and its page is not found.
			londonID, _ := publishedCatalogue(t, h, "Draft requirements")
			draft, err := h.App.Framework.CreateFramework(ctx, audit.Actor{Label: "test"}, londonID, framework.FrameworkInput{
				Reference: "SLCSC-PACS-2027", Title: "Imaging", Regime: framework.RegimePA2023, Kind: framework.KindClosed,
				TermStart: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), TermEnd: time.Date(2031, 3, 31, 0, 0, 0, 0, time.UTC),
				ApplicationsOpen: apptest.Start, ClarificationDeadline: apptest.Start.Add(24 * time.Hour), ApplicationDeadline: apptest.Start.Add(48 * time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			if r := outsider.Get("/frameworks/" + draft.ID); r.Status != http.StatusNotFound {
				t.Fatalf("a trust outside the consortium GET its draft: status %d", r.Status)
			}
			if r := outsider.Get("/frameworks/" + draft.ID + "/agreement"); r.Status != http.StatusNotFound {
				t.Fatalf("a trust outside the consortium GET its draft's agreement: status %d", r.Status)
			}
			list := outsider.Get(framework.BuyPath)
			if strings.Contains(list.Body, "SLCSC-PACS-2027") {
				t.Fatal("a draft is listed to trusts")
			}
			if list.Status != http.StatusOK || !strings.Contains(list.Body, "SLCSC-EPR-2027") || !strings.Contains(list.Body, "Ask for access") {
				t.Fatalf("buy page for an outsider: status %d\n%s", list.Status, list.Body)
			}
			ask := "/frameworks/" + fw.ID + "/access-request"
			if r := outsider.PostForm(framework.BuyPath, ask, nil); r.Status != http.StatusSeeOther {
				t.Fatalf("ask for access: status %d\n%s", r.Status, r.Body)
			}
			if r := outsider.PostForm(framework.BuyPath, ask, nil); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "already asked") {
				t.Fatalf("asking twice: status %d", r.Status)
			}
			lead := h.Browser(t)
			lead.SignInAs("demo-consortium-lead")
			page := "/frameworks/" + fw.ID
			if r := lead.Get(page); !strings.Contains(r.Body, "asked for access") || !strings.Contains(r.Body, "Admit") {
				t.Fatalf("lead's page lacks the request:\n%s", r.Body)
			}
			if r := lead.PostForm(page, page+"/buyers/"+yorkshire[0].ID+"/decide", url.Values{"decision": {"admit"}}); r.Status != http.StatusSeeOther {
				t.Fatalf("admit: status %d\n%s", r.Status, r.Body)
			}
			if ok, _ := h.App.Framework.EligibleBuyer(ctx, fw.ID, yorkshire[0].ID); !ok {
				t.Fatal("admitted trust is not an eligible buyer")
			}
			if r := outsider.Get(framework.BuyPath); !strings.Contains(r.Body, "Admitted") {
				t.Fatal("the outsider's list does not say it was admitted")
			}
			notes, _ := h.App.Notify.List(ctx, h.UserID(t, "newcomer"), 10)
			told := false
			for _, n := range notes {
				told = told || (n.Kind == "framework_update" && strings.Contains(n.BodyText, "admitted"))
			}
			if !told {
				t.Fatalf("the trust was not told: %+v", notes)
			}
			member := h.Browser(t)
			member.SignInAs("demo-trust-lead")
			if r := member.Get(framework.BuyPath); !strings.Contains(r.Body, "Member of the consortium") || strings.Contains(r.Body, "Ask for access") {
				t.Fatalf("member trust's list:\n%s", r.Body)
			}
			supplier := h.Browser(t)
			supplier.SignInAs("demo-supplier")
			if r := supplier.Get(framework.BuyPath); r.Status != http.StatusForbidden {
				t.Fatalf("supplier GET /buy: status %d", r.Status)
			}
			if r := supplier.PostForm("/applications", ask, nil); r.Status != http.StatusNotFound {
				t.Fatalf("supplier asks for buyer access: status %d", r.Status)
			}
		})
	}
}
