package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
)

// recommendedCompetition is openedCompetition evaluated through the
// domain: Ben declares no conflict and marks Meridian 4 and Northgate 2
// throughout, Aisha records the tie-break rule, moderates both as marked
// and recommends Meridian with a quorum of one, due in two weeks.
func recommendedCompetition(t *testing.T, h *apptest.Harness, aisha, ben audit.Actor) (*competition.Competition, map[string]competition.Bid) {
	t.Helper()
	ctx := context.Background()
	comp, bids := openedCompetition(t, h, aisha, ben)
	ev := h.App.Evaluation
	var decl []competition.DeclarationInput
	for _, b := range bids {
		decl = append(decl, competition.DeclarationInput{SupplierOrgID: b.SupplierOrgID})
	}
	if err := h.App.Competition.DeclareConflicts(ctx, ben, comp.ID, decl); err != nil {
		t.Fatal(err)
	}
	reqs := mustCompetitionReqs(t, h, comp.ID)
	if err := ev.SetTieBreak(ctx, aisha, comp.ID, evaluation.TieBreakQuality); err != nil {
		t.Fatal(err)
	}
	for name, b := range bids {
		score := 2
		if strings.Contains(name, "Meridian") {
			score = 4
		}
		if err := ev.SaveScores(ctx, ben, b.ID, domaintest.Marks(reqs, score)); err != nil {
			t.Fatal(err)
		}
		if err := ev.SubmitScores(ctx, ben, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := ev.SaveModeration(ctx, aisha, b.ID, evaluation.ModerationInput{Marks: domaintest.Marks(reqs, score)}); err != nil {
			t.Fatal(err)
		}
	}
	var winner competition.Bid
	for name, b := range bids {
		if strings.Contains(name, "Meridian") {
			winner = b
		}
	}
	if _, err := ev.Recommend(ctx, aisha, evaluation.RecommendationInput{CompetitionID: comp.ID, BidID: winner.ID,
		Rationale: "Best quality at the lowest price.", Quorum: 1, ApprovalDue: h.Clock.Now().Add(14 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return comp, bids
}

// TestAwardAndContractPages: only the buying side reaches the award page;
// the board member decides for her trust through the form (a rejection
// without reasons is refused, the choice kept); the lead sends the
// letters, publishes the award notice (Procurement Act 2023), is refused
// confirmation during the standstill, confirms after it (a contract
// ending before it starts refused, nothing made), and the contract is
// completed and signed on its page; the winning supplier reads it, the
// other supplier gets 404.
func TestAwardAndContractPages(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
		ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
		comp, _ := recommendedCompetition(t, h, aisha, ben)
		page := "/competitions/" + comp.ID + "/award"

		sarah := h.Browser(t)
		sarah.SignInAs("demo-supplier")
		if r := sarah.Get(page); r.Status != http.StatusNotFound {
			t.Fatalf("supplier on the award page: status %d", r.Status)
		}
		david := h.Browser(t)
		david.SignInAs("demo-board-member-gstt") // Guy's and St Thomas' is not a buyer here
		if r := david.Get(page); r.Status != http.StatusNotFound {
			t.Fatalf("another trust's board member: status %d", r.Status)
		}

		margaret := h.Browser(t)
		margaret.SignInAs("demo-board-member")
		r := margaret.Get(page)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Awaiting board approval") || !strings.Contains(r.Body, `action="`+page+`/decision"`) {
			t.Fatalf("board member's award page: status %d\n%s", r.Status, r.Body)
		}
		r = margaret.PostForm(page, page+"/decision", url.Values{"decision": {"reject"}, "comments": {""}})
		if r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "Say why the board rejects the award") ||
			!strings.Contains(r.Body, `value="reject" checked`) {
			t.Fatalf("rejection without reasons: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := margaret.PostForm(page, page+"/decision", url.Values{"decision": {"approve"}, "comments": {"Minute 12/27."}}); r.Status != http.StatusSeeOther {
			t.Fatalf("approval: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := margaret.Get(page); !strings.Contains(r.Body, "Approved by every board") || strings.Contains(r.Body, `action="`+page+`/decision"`) {
			t.Fatalf("after approving:\n%s", r.Body)
		}

		lead := h.Browser(t)
		lead.SignInAs("demo-trust-lead")
		if r := lead.PostForm(page, page+"/send", url.Values{}); r.Status != http.StatusSeeOther {
			t.Fatalf("send: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := lead.PostForm(page, page+"/notice", url.Values{}); r.Status != http.StatusSeeOther {
			t.Fatalf("notice: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		aw, err := h.App.Award.Award(ctx, comp.ID)
		if err != nil || aw.StandstillEnds == nil {
			t.Fatalf("award %+v (err %v)", aw, err)
		}
		term := url.Values{}
		setDate := func(name string, d time.Time) {
			term.Set(name+"-day", strconv.Itoa(d.Day()))
			term.Set(name+"-month", strconv.Itoa(int(d.Month())))
			term.Set(name+"-year", strconv.Itoa(d.Year()))
		}
		setDate("start", time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC))
		setDate("end", time.Date(2032, 5, 31, 0, 0, 0, 0, time.UTC))
		r = lead.PostForm(page, page+"/confirm", term)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "The standstill runs until "+uktime.Moment(*aw.StandstillEnds)) {
			t.Fatalf("confirm during the standstill: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		h.Clock.Set(aw.StandstillEnds.Add(time.Minute))
		lead.SignInAs("demo-trust-lead") // days have passed: sign in again
		sarah.SignInAs("demo-supplier")
		backwards := url.Values{}
		for k, v := range term {
			backwards[k] = v
		}
		backwards.Set("end-year", "2026")
		if r := lead.PostForm(page, page+"/confirm", backwards); r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "end date must be on or after the start date") {
			t.Fatalf("a contract ending before it starts: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if n := len(mustContracts(t, h, comp.ID)); n != 0 {
			t.Fatalf("%d contracts made by a refused confirmation", n)
		}
		if r := lead.PostForm(page, page+"/confirm", term); r.Status != http.StatusSeeOther {
			t.Fatalf("confirm: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		made := mustContracts(t, h, comp.ID)
		if len(made) != 1 || made[0].ValuePence == 0 {
			t.Fatalf("contracts %+v, want one for St George's", made)
		}
		if r := lead.Get(page); !strings.Contains(r.Body, "Awarded") || !strings.Contains(r.Body, "Award confirmed and contracts made") {
			t.Fatalf("award page after confirming:\n%s", r.Body)
		}

		// The contract page: the lead completes and signs it.
		kp := "/contracts/" + made[0].ID
		if r := lead.Get("/contracts"); !strings.Contains(r.Body, `href="`+kp+`"`) {
			t.Fatalf("contracts list:\n%s", r.Body)
		}
		form := url.Values{"value": {"1500000"}, "max_extension_months": {"24"}, "extension_options": {"Two extensions of 12 months"},
			"national_contract_ref": {"LPfIT-BT-2015"}}
		for k, v := range term {
			form[k] = v
		}
		form.Set("signed_at-day", "1")
		form.Set("signed_at-month", "1")
		form.Set("signed_at-year", "2030")
		m := versionField.FindStringSubmatch(lead.Get(kp).Body)
		if m == nil {
			t.Fatal("no version on the contract page")
		}
		form.Set("version", m[1])
		if r := lead.PostForm(kp, kp, form); r.Status != http.StatusBadRequest || !strings.Contains(errorSummary(r.Body), "signature") {
			t.Fatalf("a signature date in the future: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		now := h.Clock.Now().In(uktime.Location)
		form.Set("signed_at-day", strconv.Itoa(now.Day()))
		form.Set("signed_at-month", strconv.Itoa(int(now.Month())))
		form.Set("signed_at-year", strconv.Itoa(now.Year()))
		if r := lead.PostForm(kp, kp, form); r.Status != http.StatusSeeOther {
			t.Fatalf("save the contract: status %d\n%s", r.Status, errorSummary(r.Body))
		}
		if r := sarah.Get(kp); r.Status != http.StatusOK || !strings.Contains(r.Body, "£1,500,000.00") || strings.Contains(r.Body, `action="`+kp+`"`) {
			t.Fatalf("the winner's view of the contract: status %d\n%s", r.Status, r.Body)
		}
		james := h.Browser(t)
		james.SignInAs("demo-supplier-2")
		if r := james.Get(kp); r.Status != http.StatusNotFound {
			t.Fatalf("the other supplier: status %d", r.Status)
		}
	})
}

func mustContracts(t *testing.T, h *apptest.Harness, competitionID string) []contracts.Contract {
	t.Helper()
	list, err := h.App.Contracts.ForCompetition(context.Background(), competitionID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}
