package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
)

var catalogueLocation = regexp.MustCompile(`^/catalogues/([0-9a-f-]{36})$`)

// uploadFile posts a multipart form whose first field is the CSRF token.
func uploadFile(t *testing.T, h *apptest.Harness, b *apptest.Browser, page, target, name string, content []byte) apptest.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", b.CSRF(page))
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, h.URL+target, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return apptest.Response{Status: resp.StatusCode, Body: out.String(), Location: resp.Header.Get("Location"), Header: resp.Header}
}

const goodCSV = "Section,Reference,Requirement,Priority,Weight,Response type,Guidance,Mark 0,Mark 1,Mark 2,Mark 3,Mark 4\n" +
	"Medicines,EPR-MED-001,The system must support electronic prescribing,Must,10,Scored (0-4),Look for live sites,No response,Partial,Meets,Exceeds in part,Exceeds\n" +
	"Medicines,EPR-MED-002,Allergies are checked at prescribing,Must,5,Pass/fail,,,,,,\n" +
	"Interoperability,EPR-INT-001,FHIR UK Core APIs are offered,Should,8,Pass/fail,,,,,,\n"

// TestCatalogueJourney: a consortium lead builds a catalogue through the
// pages: the form keeps input on error, a spreadsheet imports, a bad one
// imports nothing and lists its rows, exports download, versions publish.
func TestCatalogueJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		b := h.Browser(t)
		b.SignInAs("demo-consortium-lead")
		if bad := b.PostForm("/catalogues", "/catalogues", url.Values{"title": {" "}}); bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, "nhsuk-error-summary") {
			t.Fatalf("empty title: status %d", bad.Status)
		}
		res := b.PostForm("/catalogues", "/catalogues", url.Values{"title": {"EPR requirements 2026"}})
		m := catalogueLocation.FindStringSubmatch(res.Location)
		if res.Status != http.StatusSeeOther || m == nil {
			t.Fatalf("create: status %d location %q", res.Status, res.Location)
		}
		id, page := m[1], "/catalogues/"+m[1]

		imp := uploadFile(t, h, b, page, page+"/import", "requirements.csv", []byte(goodCSV))
		if imp.Status != http.StatusSeeOther {
			t.Fatalf("import: status %d\n%s", imp.Status, imp.Body)
		}
		shown := b.Get(page)
		if !strings.Contains(shown.Body, "Imported 3 rows: 3 added") || !strings.Contains(shown.Body, "EPR-INT-001") {
			t.Fatal("imported requirements not shown")
		}

		// One bad row: nothing from the file is saved; each problem names its row.
		bad := strings.Replace(goodCSV, "Should,8", "Nice to have,8", 1) + "Medicines,EPR-MED-001,Duplicate,Must,5,Pass/fail,,,,,,\n"
		res = uploadFile(t, h, b, page, page+"/import", "bad.csv", []byte(bad))
		if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "Row 4") || !strings.Contains(res.Body, "Row 5") {
			t.Fatalf("bad import: status %d, want 400 naming rows 4 and 5", res.Status)
		}
		reqs, _ := h.App.Catalogue.Requirements(ctx, id)
		if len(reqs) != 3 {
			t.Fatalf("%d requirements after a refused import, want 3", len(reqs))
		}

		// The requirement form keeps what was typed when it is refused.
		form := url.Values{"sectionId": {reqs[0].SectionID}, "reference": {"epr med 9"}, "text": {"Kept text"}, "priority": {"must"}, "weight": {"200"}, "responseType": {"pass_fail"}}
		res = b.PostForm(page+"/requirements/new", page+"/requirements", form)
		if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "Kept text") || !strings.Contains(res.Body, `href="#weight"`) {
			t.Fatalf("invalid requirement: status %d", res.Status)
		}

		for _, format := range []string{"csv", "xlsx"} {
			r := b.Get(page + "/export?format=" + format)
			if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") || len(r.Body) < 100 {
				t.Fatalf("export %s: status %d, %d bytes", format, r.Status, len(r.Body))
			}
		}
		if r := b.PostForm(page, page+"/publish", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("publish: status %d", r.Status)
		}
		if r := b.PostForm(page, page+"/publish", nil); r.Status != http.StatusBadRequest {
			t.Fatalf("publishing an unchanged catalogue again: status %d, want 400", r.Status)
		}
		if v, err := h.App.Catalogue.Versions(ctx, id); err != nil || len(v) != 1 {
			t.Fatalf("versions: %d, %v", len(v), err)
		}

		// Nobody outside the consortium sees it, and the attempt is audited.
		lead := h.Browser(t)
		lead.SignInAs("demo-trust-lead")
		if r := lead.Get(page); r.Status != http.StatusNotFound {
			t.Fatalf("trust lead: status %d, want 404", r.Status)
		}
		if r := lead.Get(page + "/export?format=csv"); r.Status != http.StatusNotFound {
			t.Fatalf("trust lead export: status %d, want 404", r.Status)
		}
		if countAudit(h, "catalogue.read", audit.Denied, id) != 2 {
			t.Fatal("refused reads were not audited")
		}
	})
}
