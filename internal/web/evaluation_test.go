package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
)

// applyAs has a demo supplier accept an invitation and submit a complete
// application to the lot through the domain, with a case study from its
// library attached.
func applyAs(t testing.TB, h *apptest.Harness, fw *framework.Framework, lot framework.Lot, subject, orgName, email, essay string) {
	t.Helper()
	user := h.Actor(t, subject, orgs.KindSupplier, orgName)
	doc, err := h.App.Docs.Put(context.Background(), user, documents.Upload{OrganisationID: user.OrgID, OwnerType: "library", Name: "case-study.pdf",
		Body: strings.NewReader("%PDF-1.4\n" + essay + "\n%%EOF\n")})
	if err != nil {
		t.Fatal(err)
	}
	h.Apply(t, fw, lot.ID, user, email, essay, framework.AttachedDocument{ID: doc.ID, Name: doc.Name, SHA256: doc.SHA256, Size: doc.SizeBytes})
}

// TestEvaluationJourney: after the deadline the lead opens the
// applications; the assigned evaluator scores one application through the
// pages (bad marks refused per field), a supplier or an unassigned
// evaluator cannot reach the scoring pages; the lead decides, confirms and
// the award letters go out; when the standstill ends the agreement is live
// and a member trust can see it, while a trust outside the consortium
// cannot.
func TestEvaluationJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		deadline := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		fw, lot := openForApplications(t, h, deadline)
		applyAs(t, h, fw, lot, "demo-supplier", "Meridian", "sarah.lund@meridian.example.com", "Live at 40 trusts.")
		applyAs(t, h, fw, lot, "demo-supplier-2", "Northgate", "james.whitfield@northgate.example.com", "Piloting.")
		page := "/frameworks/" + fw.ID

		lead := h.Browser(t)
		lead.SignInAs("demo-consortium-lead")
		ben := h.UserID(t, "demo-evaluator")
		if r := lead.PostForm(page+"/evaluation", page+"/evaluators", url.Values{"evaluator": {ben}}); r.Status != http.StatusSeeOther {
			t.Fatalf("assign evaluator: status %d\n%s", r.Status, r.Body)
		}
		evaluator := h.Browser(t)
		evaluator.SignInAs("demo-evaluator")
		if r := evaluator.Get(page + "/evaluate"); r.Status != http.StatusOK || !strings.Contains(r.Body, "have not been opened") || strings.Contains(r.Body, "Meridian") {
			t.Fatalf("evaluator before the deadline: status %d\n%s", r.Status, r.Body)
		}
		if r := lead.PostForm(page+"/evaluation", page+"/open", nil); r.Status == http.StatusSeeOther {
			t.Fatal("applications opened before the deadline")
		}
		// Before the deadline nobody can read an application: the lead's
		// page names no supplier, a guessed application address is 404,
		// and the platform administrator has no way in.
		if r := lead.Get(page + "/evaluation"); strings.Contains(r.Body, "Meridian") || strings.Contains(r.Body, "Northgate") {
			t.Fatal("the lead's evaluation page names an applicant before the deadline")
		}
		if r := evaluator.Get(page + "/applications/" + fw.ID + "/score"); r.Status != http.StatusNotFound {
			t.Fatalf("guessed application before the deadline: status %d", r.Status)
		}
		admin := h.Browser(t)
		admin.SignInAs("demo-platform-admin")
		for _, p := range []string{page, page + "/evaluation", page + "/evaluate"} {
			if r := admin.Get(p); r.Status != http.StatusNotFound {
				t.Fatalf("platform administrator GET %s before the deadline: status %d", p, r.Status)
			}
		}

		h.Clock.Set(deadline.Add(time.Minute))
		lead.SignInAs("demo-consortium-lead")
		evaluator.SignInAs("demo-evaluator")
		// Two keys, turned by two different leads: the first alone, or
		// turned twice, opens nothing.
		if r := lead.PostForm(page+"/evaluation", page+"/open", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("first key: status %d\n%s", r.Status, r.Body)
		}
		if r := lead.PostForm(page+"/evaluation", page+"/open", nil); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "second consortium lead") {
			t.Fatalf("the same lead's second key: status %d", r.Status)
		}
		if apps, _ := h.App.Framework.Applications(ctx, fw.ID); len(apps) != 0 {
			t.Fatal("one lead opened the applications")
		}
		second := h.Browser(t)
		second.SignInAs("demo-consortium-lead-2")
		if r := second.Get(page + "/evaluation"); !strings.Contains(r.Body, "Key turned by Tom Reilly") {
			t.Fatalf("the second lead does not see the first key:\n%s", r.Body)
		}
		if r := second.PostForm(page+"/evaluation", page+"/open", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("second key: status %d\n%s", r.Status, r.Body)
		}
		apps, _ := h.App.Framework.Applications(ctx, fw.ID)
		if len(apps) != 2 {
			t.Fatalf("%d applications opened, want 2", len(apps))
		}
		reqs, _ := h.App.Framework.LotRequirements(ctx, lot.ID)
		for _, a := range apps {
			score := page + "/applications/" + a.ID + "/score"
			view := evaluator.Get(score)
			if view.Status != http.StatusOK || !strings.Contains(view.Body, a.Supplier.Name) {
				t.Fatalf("score page: status %d\n%s", view.Status, view.Body)
			}
			form := url.Values{"action": {"submit"}}
			for _, r := range reqs {
				if r.ResponseType == "pass_fail" {
					form.Set("pass-"+r.ID, "pass")
				} else {
					form.Set("score-"+r.ID, "9")
				}
				form.Set("justification-"+r.ID, "Evidence given.")
			}
			if r := evaluator.PostForm(score, score, form); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "nhsuk-error-summary") {
				t.Fatalf("mark of 9: status %d", r.Status)
			}
			mark := "4"
			if a.Supplier.Name != "Meridian Health Systems Ltd" {
				mark = "2"
			}
			for _, r := range reqs {
				if r.ResponseType != "pass_fail" {
					form.Set("score-"+r.ID, mark)
				}
			}
			if r := evaluator.PostForm(score, score, form); r.Status != http.StatusSeeOther {
				t.Fatalf("submit scores: status %d\n%s", r.Status, r.Body)
			}
		}
		// A supplier, and an evaluator not assigned, reach none of it.
		supplier := h.Browser(t)
		supplier.SignInAs("demo-supplier")
		for _, p := range []string{page + "/evaluate", page + "/applications/" + apps[0].ID + "/score", page + "/evaluation"} {
			if r := supplier.Get(p); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
				t.Fatalf("supplier GET %s: status %d", p, r.Status)
			}
		}
		// The evaluator downloads a document attached to an application;
		// another supplier cannot, even with its address.
		content, err := h.App.Framework.ApplicationContent(ctx, audit.Actor{UserID: ben}, apps[0].ID)
		if err != nil || len(content.Documents) != 1 {
			t.Fatalf("content: %+v, %v", content, err)
		}
		docPath := page + "/applications/" + apps[0].ID + "/documents/" + content.Documents[0].ID
		if r := evaluator.Get(docPath); r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "%PDF") {
			t.Fatalf("evaluator downloads the attachment: status %d", r.Status)
		}
		other := h.Browser(t)
		other.SignInAs("demo-supplier-2")
		if r := other.Get(docPath); r.Status != http.StatusNotFound {
			t.Fatalf("another supplier downloads the attachment: status %d", r.Status)
		}
		if r := evaluator.Get(page + "/applications/" + apps[0].ID + "/documents/" + apps[1].ID); r.Status != http.StatusNotFound {
			t.Fatalf("a document not attached: status %d", r.Status)
		}
		results := lead.Get(page + "/evaluation")
		if !strings.Contains(results.Body, "100.0%") || !strings.Contains(results.Body, "50.0%") {
			t.Fatalf("results:\n%s", results.Body)
		}
		decisions := url.Values{}
		for _, a := range apps {
			if a.Supplier.Name == "Meridian Health Systems Ltd" {
				decisions.Set("appoint-"+a.ID, "yes")
			} else {
				decisions.Set("appoint-"+a.ID, "no")
			}
		}
		if r := lead.PostForm(page+"/evaluation", page+"/decisions", decisions); r.Status != http.StatusBadRequest {
			t.Fatalf("unsuccessful without a reason: status %d", r.Status)
		}
		for _, a := range apps {
			if decisions.Get("appoint-"+a.ID) == "no" {
				decisions.Set("reason-"+a.ID, "Your quality score (50%) was below the appointed supplier's (100%).")
			}
		}
		if r := lead.PostForm(page+"/evaluation", page+"/decisions", decisions); r.Status != http.StatusSeeOther {
			t.Fatalf("decisions: status %d\n%s", r.Status, r.Body)
		}
		early := h.Browser(t)
		early.SignInAs("demo-supplier-2")
		if r := early.Get(page + "/apply"); strings.Contains(r.Body, "Not appointed to lot") || strings.Contains(r.Body, "below the appointed") {
			t.Fatal("a supplier sees the decision before the letters are sent")
		}
		if r := lead.PostForm(page+"/evaluation", page+"/standstill", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("standstill: status %d\n%s", r.Status, r.Body)
		}
		letters, _ := h.App.Notify.List(ctx, h.UserID(t, "demo-supplier-2"), 50)
		found := false
		for _, n := range letters {
			if n.Kind == notify.KindAwardLetter && strings.Contains(n.BodyText, "below the appointed supplier") {
				found = true
			}
		}
		if !found {
			t.Fatal("the unsuccessful supplier got no award letter with its reasons")
		}
		// The supplier's own page shows its outcome, now the letters have gone.
		loser := h.Browser(t)
		loser.SignInAs("demo-supplier-2")
		if r := loser.Get(page + "/apply"); !strings.Contains(r.Body, "Not appointed to lot 1") || !strings.Contains(r.Body, "below the appointed supplier") {
			t.Fatalf("the unsuccessful supplier's page lacks its outcome:\n%s", r.Body)
		}
		fw, _ = h.App.Framework.Framework(ctx, fw.ID)
		if fw.StandstillEnds == nil {
			t.Fatal("no standstill end")
		}
		// During the standstill buyers cannot see the agreement yet.
		buyer := h.Browser(t)
		buyer.SignInAs("demo-trust-lead")
		if r := buyer.Get(page + "/agreement"); r.Status != http.StatusNotFound {
			t.Fatalf("buyer during standstill: status %d", r.Status)
		}
		h.Clock.Set(fw.StandstillEnds.Add(time.Minute))
		buyer.SignInAs("demo-trust-lead")
		ag := buyer.Get(page + "/agreement")
		if ag.Status != http.StatusOK || !strings.Contains(ag.Body, "Meridian Health Systems Ltd") || strings.Contains(ag.Body, "Northgate") || !strings.Contains(ag.Body, "Live") {
			t.Fatalf("agreement for a member trust: status %d\n%s", ag.Status, ag.Body)
		}
		// The lead suspends Meridian's appointment from the agreement page,
		// with a reason; the member trust sees it.
		ag2, _ := h.App.Framework.Agreement(ctx, fw.ID)
		appID := ag2.Lots[0].Suppliers[0].ApplicationID
		lead.SignInAs("demo-consortium-lead")
		change := page + "/appointments/" + appID
		if r := lead.PostForm(page+"/agreement", change, url.Values{"change": {"suspend"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Say why") {
			t.Fatalf("suspend without a reason: status %d", r.Status)
		}
		if r := lead.PostForm(page+"/agreement", change, url.Values{"change": {"suspend"}, "appointment_reason": {"Insolvency notice received"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("suspend: status %d\n%s", r.Status, r.Body)
		}
		if r := buyer.Get(page + "/agreement"); !strings.Contains(r.Body, "Suspended: Insolvency notice received") || strings.Contains(r.Body, "Change the appointment") {
			t.Fatalf("buyer's agreement page after suspension:\n%s", r.Body)
		}
		if r := buyer.PostForm(page+"/agreement", change, url.Values{"change": {"reinstate"}, "appointment_reason": {"x"}}); r.Status != http.StatusNotFound {
			t.Fatalf("a buyer changes an appointment: status %d", r.Status)
		}
		// The transitions job, through the real queue, tells the suppliers
		// the framework is live.
		err = h.App.DB.Tx(ctx, func(tx *gorm.DB) error { return h.App.Jobs.InsertTx(ctx, tx, framework.TransitionsArgs{}, nil) })
		if err != nil {
			t.Fatal(err)
		}
		sarah := h.UserID(t, "demo-supplier")
		live := false
		for end := time.Now().Add(15 * time.Second); !live && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			notes, _ := h.App.Notify.List(ctx, sarah, 50)
			for _, n := range notes {
				live = live || (n.Kind == notify.KindFrameworkUpdate && strings.Contains(n.BodyText, "is live"))
			}
		}
		if !live {
			t.Fatal("no supplier was told the framework is live")
		}
		// A supplier is not a buyer under this framework.
		outsider := h.Browser(t)
		outsider.SignInAs("demo-supplier-2")
		if r := outsider.Get(page + "/agreement"); r.Status != http.StatusNotFound {
			t.Fatalf("supplier sees the agreement page: status %d", r.Status)
		}
	})
}
