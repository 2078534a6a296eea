package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

var frameworkLocation = regexp.MustCompile(`^/frameworks/([0-9a-f-]{36})$`)

func frameworkForm(deadlineYear string) url.Values {
	return url.Values{
		"reference": {"SLCSC-EPR-2027"}, "title": {"Clinical systems framework"}, "regime": {"pa2023"}, "kind": {"closed"},
		"term_start-day": {"1"}, "term_start-month": {"4"}, "term_start-year": {"2027"},
		"term_end-day": {"31"}, "term_end-month": {"3"}, "term_end-year": {"2031"},
		"applications_open-day": {"1"}, "applications_open-month": {"12"}, "applications_open-year": {"2026"}, "applications_open-time": {"9am"},
		"clarification_deadline-day": {"15"}, "clarification_deadline-month": {"1"}, "clarification_deadline-year": {"2027"}, "clarification_deadline-time": {"17:00"},
		"application_deadline-day": {"1"}, "application_deadline-month": {"2"}, "application_deadline-year": {deadlineYear}, "application_deadline-time": {"12:00"},
	}
}

// TestFrameworkSetUp: a consortium lead sets up a framework with two lots
// from a published catalogue version through the pages; bad input comes
// back per field and saves nothing; other organisations cannot see it.
func TestFrameworkSetUp(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		_, cat := publishedCatalogue(t, h, "EPR requirements")
		lead := audit.Actor{Label: "test"}

		b := h.Browser(t)
		b.SignInAs("demo-consortium-lead")
		bad := b.PostForm("/frameworks", "/frameworks", frameworkForm("2025"))
		if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, `href="#application_deadline"`) || !strings.Contains(bad.Body, `value="SLCSC-EPR-2027"`) {
			t.Fatalf("deadline in the past: status %d", bad.Status)
		}
		res := b.PostForm("/frameworks", "/frameworks", frameworkForm("2027"))
		m := frameworkLocation.FindStringSubmatch(res.Location)
		if res.Status != http.StatusSeeOther || m == nil {
			t.Fatalf("create: status %d\n%s", res.Status, res.Body)
		}
		page := "/frameworks/" + m[1]
		// A trust's people cannot see the consortium's draft.
		for _, who := range []string{"demo-trust-lead", "demo-board-member-gstt"} {
			trust := h.Browser(t)
			trust.SignInAs(who)
			if r := trust.Get(page); r.Status != http.StatusNotFound {
				t.Fatalf("%s sees a draft framework: status %d", who, r.Status)
			}
		}

		// Publishing too early lists everything missing.
		if r := b.PostForm(page, page+"/publish", nil); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "nhsuk-error-summary") {
			t.Fatalf("publish with no lots: status %d", r.Status)
		}
		for _, lot := range []string{"Patient administration and EPR", "Clinical portal"} {
			r := b.PostForm(page, page+"/lots", url.Values{"title": {lot}, "min_suppliers": {"1"}, "max_suppliers": {"4"}, "call_off": {"both"}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("add lot %s: status %d", lot, r.Status)
			}
		}
		lots, _ := h.App.Framework.Lots(ctx, m[1])
		for _, lot := range lots {
			r := b.PostForm(page, page+"/lots/"+lot.ID+"/requirements", url.Values{"catalogue": {cat.ID + "/1"}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("copy requirements: status %d", r.Status)
			}
		}
		copied, _ := h.App.Framework.LotRequirements(ctx, lots[0].ID)
		if len(copied) != 3 || copied[0].Origin().CatalogueID != cat.ID {
			t.Fatalf("lot 1 has %d requirements (origin %+v)", len(copied), copied)
		}
		criteria := url.Values{"criterion-name": {"Quality", "Price", ""}, "criterion-weight": {"60", "30", ""}}
		if r := b.PostForm(page, page+"/criteria", criteria); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "90") {
			t.Fatalf("weights of 90: status %d", r.Status)
		}
		criteria["criterion-weight"] = []string{"60", "40", ""}
		if r := b.PostForm(page, page+"/criteria", criteria); r.Status != http.StatusSeeOther {
			t.Fatalf("criteria: status %d", r.Status)
		}
		if r := b.PostForm(page, page+"/publish", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("publish: status %d\n%s", r.Status, r.Body)
		}
		shown := b.Get(page)
		if !strings.Contains(shown.Body, "Clinical portal") || strings.Contains(shown.Body, "Publish framework") {
			t.Fatal("published framework page still offers changes")
		}
		// Later edits to the catalogue do not change the lot.
		if _, err := h.App.Catalogue.Import(ctx, lead, cat.ID, "r.csv", bytes.NewReader([]byte(strings.Replace(goodCSV, "electronic prescribing", "paper prescribing", 1)))); err != nil {
			t.Fatal(err)
		}
		again, _ := h.App.Framework.LotRequirements(ctx, lots[0].ID)
		for _, r := range again {
			if strings.Contains(r.Text, "paper") {
				t.Fatal("a catalogue edit changed a published framework's lot")
			}
		}

		other := h.Browser(t)
		other.SignInAs("demo-supplier")
		if r := other.Get(page); r.Status != http.StatusNotFound {
			t.Fatalf("supplier sees a draft framework page: status %d", r.Status)
		}
	})
}

// TestLotRequirementsCountTowardsCriteria: the lead links a lot's scored
// requirements to the framework's criteria on the framework page; a
// pass/fail gate cannot be linked; another consortium's lot or catalogue
// cannot be reached through the lead's own framework.
func TestLotRequirementsCountTowardsCriteria(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		londonID, cat := publishedCatalogue(t, h, "EPR requirements")
		lead := audit.Actor{Label: "test"}
		in := framework.FrameworkInput{
			Reference: "SLCSC-EPR-2027", Title: "Clinical systems", Regime: framework.RegimePA2023, Kind: framework.KindClosed,
			TermStart: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), TermEnd: time.Date(2031, 3, 31, 0, 0, 0, 0, time.UTC),
			ApplicationsOpen: apptest.Start, ClarificationDeadline: apptest.Start.Add(24 * time.Hour), ApplicationDeadline: apptest.Start.Add(48 * time.Hour),
		}
		fw, err := h.App.Framework.CreateFramework(ctx, lead, londonID, in)
		if err != nil {
			t.Fatal(err)
		}
		lot, _ := h.App.Framework.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "EPR", Min: 1, Max: 2, CallOff: framework.CallOffBoth})
		if _, err := h.App.Framework.CopyRequirements(ctx, lead, lot.ID, cat.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		if err := h.App.Framework.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 70}, {Name: "Social value", Weight: 30}}); err != nil {
			t.Fatal(err)
		}
		reqs, _ := h.App.Framework.LotRequirements(ctx, lot.ID)
		byRef := map[string]string{}
		for _, r := range reqs {
			byRef[r.Reference] = r.ID
		}
		b := h.Browser(t)
		b.SignInAs("demo-consortium-lead")
		page := "/frameworks/" + fw.ID
		if r := b.Get(page); !strings.Contains(r.Body, "counts towards Quality") || !strings.Contains(r.Body, "pass/fail gate") {
			t.Fatalf("framework page lacks the criteria of requirements:\n%s", r.Body)
		}
		gate := url.Values{"criterion-" + byRef["EPR-MED-002"]: {"Social value"}}
		// Pass/fail requirements are not on the form; a crafted field for
		// one is refused.
		if r := b.PostForm(page, page+"/lots/"+lot.ID+"/criteria", gate); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "a gate that counts towards no criterion") {
			t.Fatalf("linking a gate: status %d", r.Status)
		}
		form := url.Values{"criterion-" + byRef["EPR-MED-001"]: {"Social value"}}
		if r := b.PostForm(page, page+"/lots/"+lot.ID+"/criteria", form); r.Status != http.StatusSeeOther {
			t.Fatalf("link: status %d\n%s", r.Status, r.Body)
		}
		if r := b.Get(page); !strings.Contains(r.Body, "counts towards Social value") {
			t.Fatal("the link is not shown")
		}
		// Renaming the criteria away unlinks the requirement again.
		if err := h.App.Framework.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 100}}); err != nil {
			t.Fatal(err)
		}
		if again, _ := h.App.Framework.LotRequirements(ctx, lot.ID); again[0].Criterion != "" {
			t.Fatalf("requirement still linked to a removed criterion: %+v", again[0])
		}
		// Reordering the criteria moves nothing: EPR-MED-001, counting
		// towards the first (Quality) by default, stays with Quality.
		if err := h.App.Framework.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Social value", Weight: 30}, {Name: "Quality", Weight: 70}}); err != nil {
			t.Fatal(err)
		}
		for _, r := range mustReqs(t, h, lot.ID) {
			want := "Quality"
			if r.ResponseType == "pass_fail" {
				want = ""
			}
			if r.Criterion != want {
				t.Fatalf("after reordering %s counts towards %q, want %q", r.Reference, r.Criterion, want)
			}
		}

		// The Yorkshire consortium's framework and catalogue.
		yorkshire, _ := h.App.Orgs.Organisations(ctx, orgs.KindConsortium, "Yorkshire")
		other, err := h.App.Catalogue.CreateCatalogue(ctx, lead, yorkshire[0].ID, "Theirs", "")
		if err != nil {
			t.Fatal(err)
		}
		in.Reference = "YHCS-EPR-2027"
		theirs, err := h.App.Framework.CreateFramework(ctx, lead, yorkshire[0].ID, in)
		if err != nil {
			t.Fatal(err)
		}
		theirLot, _ := h.App.Framework.AddLot(ctx, lead, theirs.ID, framework.LotInput{Title: "EPR", Min: 1, Max: 2, CallOff: framework.CallOffBoth})
		if r := b.PostForm(page, page+"/lots/"+theirLot.ID+"/requirements", url.Values{"catalogue": {cat.ID + "/1"}}); r.Status != http.StatusNotFound {
			t.Fatalf("copy into another consortium's lot: status %d", r.Status)
		}
		if r := b.PostForm(page, page+"/lots/"+lot.ID+"/requirements", url.Values{"catalogue": {other.ID + "/1"}}); r.Status != http.StatusNotFound {
			t.Fatalf("copy from another consortium's catalogue: status %d", r.Status)
		}
		if r := b.PostForm(page, page+"/lots/"+theirLot.ID+"/criteria", url.Values{}); r.Status != http.StatusNotFound {
			t.Fatalf("link criteria in another consortium's lot: status %d", r.Status)
		}
		if n, _ := h.App.Framework.LotRequirements(ctx, theirLot.ID); len(n) != 0 {
			t.Fatal("requirements reached another consortium's lot")
		}
	})
}

func mustReqs(t *testing.T, h *apptest.Harness, lotID string) []framework.LotRequirement {
	t.Helper()
	reqs, err := h.App.Framework.LotRequirements(context.Background(), lotID)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}
