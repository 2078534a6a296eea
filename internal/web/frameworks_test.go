package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
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
