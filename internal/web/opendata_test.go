package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/ocds/ocdstest"
	"github.com/nhsprocure/portal/internal/orgs"
)

// getJSON fetches a public JSON endpoint without signing in, checking it
// is public JSON that browsers and proxies may keep a while.
func getJSON(t *testing.T, h *apptest.Harness, path string) []byte {
	t.Helper()
	res, err := http.Get(h.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
		res.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("GET %s: status %d, type %q, cache %q\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), body)
	}
	return body
}

// TestOpenDataEndpoints: without signing in, the open data page explains
// the endpoints; every endpoint serves JSON valid against the OCDS 1.1
// schemas as a call-off moves from publication to contract; an unknown or
// draft procedure's OCID and a page past the last are 404.
func TestOpenDataEndpoints(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
		ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
		comp, _ := recommendedCompetition(t, h, aisha, ben)
		pub := h.App.OCDS
		now := h.Clock.Now()
		draft, err := h.App.Competition.CreateCompetition(ctx, aisha, comp.LotID, aisha.OrgID, competition.CompetitionInput{
			Reference: "SWL-EPR-DRAFT", Title: "Draft call-off", QualityWeight: 70, PriceWeight: 30,
			Timeline: competition.Timeline{QuestionDeadline: now.AddDate(0, 0, 7), SubmissionDeadline: now.AddDate(0, 0, 21),
				EvaluationEnd: now.AddDate(0, 0, 35), PlannedAward: now.AddDate(0, 0, 42)},
		})
		if err != nil {
			t.Fatal(err)
		}
		ocid := pub.OCID(comp.ID)

		anon := h.Browser(t)
		r := anon.Get("/open-data")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "<h1>Open data</h1>") || !strings.Contains(r.Body, `href="`+pub.PageURL(1)+`"`) ||
			!strings.Contains(r.Body, pub.Prefix) {
			t.Fatalf("open data page: status %d\n%s", r.Status, r.Body)
		}

		check := func(wantTags ...string) {
			t.Helper()
			body := getJSON(t, h, "/ocds/releases/"+ocid)
			ocdstest.Validate(t, ocdstest.ReleasePackage, body)
			var pkg struct {
				Releases []struct {
					Tag []string `json:"tag"`
				} `json:"releases"`
			}
			if err := json.Unmarshal(body, &pkg); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rel := range pkg.Releases {
				got = append(got, rel.Tag[0])
			}
			if strings.Join(got, " ") != strings.Join(wantTags, " ") {
				t.Fatalf("release tags %v, want %v", got, wantTags)
			}
			ocdstest.Validate(t, ocdstest.RecordPackage, getJSON(t, h, "/ocds/records/"+ocid))
			page := getJSON(t, h, "/ocds/releases")
			ocdstest.Validate(t, ocdstest.ReleasePackage, page)
			if !strings.Contains(string(page), `"ocid":"`+ocid+`"`) {
				t.Fatalf("the competition is not on the first page:\n%s", page)
			}
			ocdstest.Validate(t, ocdstest.RecordPackage, getJSON(t, h, "/ocds/bulk.json"))
		}
		// Opened, marked and recommended: still only the tender.
		check("tender")

		margaret := h.Actor(t, "demo-board-member", orgs.KindTrust, "RJ7")
		if err := h.App.Award.Decide(ctx, margaret, award.DecisionInput{CompetitionID: comp.ID, OrganisationID: aisha.OrgID, Decision: award.Approve}); err != nil {
			t.Fatal(err)
		}
		check("tender")
		if err := h.App.Award.SendDecision(ctx, aisha, award.SendInput{CompetitionID: comp.ID}); err != nil {
			t.Fatal(err)
		}
		check("tender", "award")
		aw, err := h.App.Award.Award(ctx, comp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if aw.StandstillEnds == nil {
			if err := h.App.Award.PublishNotice(ctx, aisha, comp.ID); err != nil {
				t.Fatal(err)
			}
		}
		aw, err = h.App.Award.Award(ctx, comp.ID)
		if err != nil || aw.StandstillEnds == nil {
			t.Fatalf("award %+v (err %v)", aw, err)
		}
		h.Clock.Set(aw.StandstillEnds.Add(time.Minute))
		if err := h.App.Award.Confirm(ctx, aisha, award.ConfirmInput{CompetitionID: comp.ID,
			Start: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2032, 5, 31, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		check("tender", "award", "awardUpdate", "contract")

		// The bulk download is an attachment.
		res, err := http.Get(h.URL + "/ocds/bulk.json")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("bulk download disposition %q", res.Header.Get("Content-Disposition"))
		}

		for _, path := range []string{"/ocds/releases/" + pub.OCID(draft.ID), "/ocds/records/" + pub.OCID(draft.ID), "/ocds/releases/ocds-zzzzzz-" + comp.ID,
			"/ocds/releases?page=99"} {
			if r := anon.Get(path); r.Status != http.StatusNotFound {
				t.Fatalf("GET %s: status %d", path, r.Status)
			}
		}
		if r := anon.Get("/ocds/releases?page=nought"); r.Status != http.StatusBadRequest {
			t.Fatalf("a page that is not a number: status %d", r.Status)
		}
	})
}
