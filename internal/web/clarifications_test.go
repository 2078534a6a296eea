package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clarify"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// Dates of the frameworks the clarification tests set up: the window is
// already open at apptest.Start.
var (
	clarifyOpens    = apptest.Start.Add(-time.Hour)
	clarifyDeadline = time.Date(2027, 1, 15, 17, 0, 0, 0, time.UTC)
	clarifyClosing  = time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
)

// demoUserID returns the portal user ID of a demo person.
func demoUserID(t *testing.T, h *apptest.Harness, subject string) string {
	t.Helper()
	var u orgs.User
	if err := h.App.DB.Where("issuer = ? AND subject = ?", app.DevIssuer(h.App.Config), subject).First(&u).Error; err != nil {
		t.Fatalf("demo user %s: %v", subject, err)
	}
	return u.ID
}

// demoSupplier returns the seeded supplier organisation whose name starts
// with name.
func demoSupplier(t *testing.T, h *apptest.Harness, name string) orgs.Organisation {
	t.Helper()
	return h.Org(t, orgs.KindSupplier, name)
}

// publishedFramework sets up a framework of the South London consortium
// through the domain (a catalogue version, one lot with its requirements,
// criteria) and publishes it unless draft.
func publishedFramework(t *testing.T, h *apptest.Harness, ref, kind string, draft bool) *framework.Framework {
	t.Helper()
	ctx := context.Background()
	londonID, cat := publishedCatalogue(t, h, "Requirements for "+ref)
	lead := audit.Actor{Label: "test"}
	fw, err := h.App.Framework.CreateFramework(ctx, lead, londonID, framework.FrameworkInput{
		Reference: ref, Title: "Clinical systems " + strings.ToLower(kind) + " framework", Description: "EPR, ePMA and integration for acute trusts",
		Regime: framework.RegimePA2023, Kind: kind,
		TermStart: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), TermEnd: time.Date(2031, 3, 31, 0, 0, 0, 0, time.UTC),
		ApplicationsOpen: clarifyOpens, ClarificationDeadline: clarifyDeadline, ApplicationDeadline: clarifyClosing,
	})
	if err != nil {
		t.Fatal(err)
	}
	lot, err := h.App.Framework.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Acute EPR", Scope: "Acute trusts", Min: 1, Max: 4, CallOff: framework.CallOffBoth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Framework.CopyRequirements(ctx, lead, lot.ID, cat.ID, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.App.Framework.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 60}, {Name: "Price", Weight: 40}}); err != nil {
		t.Fatal(err)
	}
	if !draft {
		if err := h.App.Framework.Publish(ctx, lead, fw.ID); err != nil {
			t.Fatal(err)
		}
	}
	return fw
}

// inviteAndAccept invites the demo supplier user's organisation and has
// the user accept.
func inviteAndAccept(t *testing.T, h *apptest.Harness, fw *framework.Framework, subject, email string, supplier orgs.Organisation) {
	t.Helper()
	ctx := context.Background()
	_, token, err := h.App.Framework.Invite(ctx, audit.Actor{Label: "test"}, fw.ID, email, supplier.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Framework.Accept(ctx, audit.Actor{UserID: demoUserID(t, h, subject), Label: subject}, token, supplier.ID); err != nil {
		t.Fatal(err)
	}
}

// answerNotes counts a user's clarification-answer notifications.
func answerNotes(t *testing.T, h *apptest.Harness, userID string) int {
	t.Helper()
	list, err := h.App.Notify.List(context.Background(), userID, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, note := range list {
		if note.Kind == clarify.NotificationKind {
			n++
		}
	}
	return n
}

// questionID finds a question of the framework by its text.
func questionID(t *testing.T, h *apptest.Harness, fw *framework.Framework, text string) (string, int) {
	t.Helper()
	list, err := h.App.Clarify.ForLead(context.Background(), clarify.Procedure{Type: clarify.TypeFramework, ID: fw.ID, OwnerOrgID: fw.ConsortiumID})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range list {
		if q.Text == text {
			return q.ID, q.Version
		}
	}
	t.Fatalf("no question %q", text)
	return "", 0
}

// TestClarificationJourney: two invited suppliers and the consortium lead
// go through questions and answers on the pages. Each supplier sees only
// its own questions; the lead sees who asked; public wording that names
// the asker is refused; a public answer reaches everyone taking part
// without the asker's name, a private one only the asker; questions stop
// at the deadline; an uninvited supplier sees nothing.
func TestClarificationJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		meridian := demoSupplier(t, h, "Meridian")
		northgate := demoSupplier(t, h, "Northgate")
		sarah, james := demoUserID(t, h, "demo-supplier"), demoUserID(t, h, "demo-supplier-2")
		fw := publishedFramework(t, h, "SLCSC-EPR-2027", framework.KindClosed, false)
		inviteAndAccept(t, h, fw, "demo-supplier", "sarah.lund@meridian.example.com", meridian)
		inviteAndAccept(t, h, fw, "demo-supplier-2", "james.whitfield@northgate.example.com", northgate)
		questions := "/frameworks/" + fw.ID + "/questions"
		lead := "/frameworks/" + fw.ID + "/clarifications"

		// Supplier X (Meridian) asks two questions; an empty one is refused.
		x := h.Browser(t)
		x.SignInAs("demo-supplier")
		page := x.Get(questions)
		if page.Status != http.StatusOK || !strings.Contains(page.Body, "5pm on Friday 15 January 2027 (UK time)") || !strings.Contains(page.Body, `name="text"`) {
			t.Fatalf("supplier page: status %d, want the deadline in UK time and the form\n%s", page.Status, page.Body)
		}
		if r := x.PostForm(questions, questions, url.Values{"text": {"  "}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `href="#text"`) || !strings.Contains(r.Body, "Enter your question") {
			t.Fatalf("empty question: status %d", r.Status)
		}
		q1Text := "Meridian Health Systems hosts in its own data centre: does lot 1 accept supplier-hosted systems?"
		q2Text := "Can you share the current number of patient records at each trust?"
		for _, text := range []string{q1Text, q2Text} {
			if r := x.PostForm(questions, questions, url.Values{"text": {text}}); r.Status != http.StatusSeeOther || r.Location != questions {
				t.Fatalf("ask: status %d location %q\n%s", r.Status, r.Location, r.Body)
			}
		}
		if r := x.Get(questions); !strings.Contains(r.Body, "Your question has been sent") || !strings.Contains(r.Body, "supplier-hosted systems") || !strings.Contains(r.Body, "Waiting for an answer") {
			t.Fatal("the supplier does not see its own question after asking")
		}
		q1, v1 := questionID(t, h, fw, q1Text)
		q2, v2 := questionID(t, h, fw, q2Text)

		// Supplier Y (Northgate) sees nothing of X's questions and cannot
		// withdraw them.
		y := h.Browser(t)
		y.SignInAs("demo-supplier-2")
		if r := y.Get(questions); r.Status != http.StatusOK || strings.Contains(r.Body, "supplier-hosted") || strings.Contains(r.Body, "patient records") {
			t.Fatalf("supplier Y's page: status %d, shows X's question: %v", r.Status, strings.Contains(r.Body, "supplier-hosted"))
		}
		if r := y.PostForm(questions, questions+"/"+q1+"/withdraw", nil); r.Status != http.StatusNotFound {
			t.Fatalf("Y withdrawing X's question: status %d, want 404", r.Status)
		}
		// Nor can either supplier open the lead's page.
		if r := x.Get(lead); r.Status != http.StatusNotFound {
			t.Fatalf("supplier on the lead's page: status %d, want 404", r.Status)
		}

		// The lead sees both questions with who asked them.
		l := h.Browser(t)
		l.SignInAs("demo-consortium-lead")
		lp := l.Get(lead)
		if lp.Status != http.StatusOK || !strings.Contains(lp.Body, "supplier-hosted systems") || !strings.Contains(lp.Body, "Question from Meridian Health Systems Ltd") ||
			!strings.Contains(lp.Body, `id="answer-`+q1+`"`) || !strings.Contains(lp.Body, `id="answer-`+q2+`"`) {
			t.Fatalf("lead page: status %d\n%s", lp.Status, lp.Body)
		}
		answer1 := q1 + "/answer"
		// Nothing chosen: both problems come back, tied to that question.
		if r := l.PostForm(lead, lead+"/"+answer1, url.Values{"version": {strconv.Itoa(v1)}}); r.Status != http.StatusBadRequest ||
			!strings.Contains(r.Body, `href="#mode-`+q1+`"`) || !strings.Contains(r.Body, `href="#answer-`+q1+`"`) {
			t.Fatalf("empty answer: status %d", r.Status)
		}
		// Public wording that names the asker is refused, the input kept.
		named := url.Values{"version": {strconv.Itoa(v1)}, "mode": {"public"}, "public_question": {q1Text}, "answer": {"Yes, if it meets the hosting requirements."}}
		r := l.PostForm(lead, lead+"/"+answer1, named)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `href="#public_question-`+q1+`"`) || !strings.Contains(r.Body, "names the supplier who asked") ||
			!strings.Contains(r.Body, "Yes, if it meets the hosting requirements.") {
			t.Fatalf("public wording naming the supplier: status %d\n%s", r.Status, r.Body)
		}
		if answerNotes(t, h, sarah)+answerNotes(t, h, james) != 0 {
			t.Fatal("a refused answer notified someone")
		}

		// A good public answer reaches every supplier user taking part.
		good := url.Values{"version": {strconv.Itoa(v1)}, "mode": {"public"},
			"public_question": {"Does lot 1 accept systems hosted in a supplier's own data centre?"}, "answer": {"Yes, if it meets the hosting requirements."}}
		if r := l.PostForm(lead, lead+"/"+answer1, good); r.Status != http.StatusSeeOther || r.Location != lead {
			t.Fatalf("public answer: status %d\n%s", r.Status, r.Body)
		}
		if answerNotes(t, h, sarah) != 1 || answerNotes(t, h, james) != 1 {
			t.Fatalf("public answer notified Sarah %d and James %d times, want once each", answerNotes(t, h, sarah), answerNotes(t, h, james))
		}
		// A second lead answering the same question from an old page is told.
		if r := l.PostForm(lead, lead+"/"+answer1, good); r.Status != http.StatusConflict || !strings.Contains(r.Body, "Someone else answered this question first; check the answer below") {
			t.Fatalf("answering twice: status %d", r.Status)
		}
		yp := y.Get(questions)
		if !strings.Contains(yp.Body, "hosted in a supplier&#39;s own data centre") || !strings.Contains(yp.Body, "Yes, if it meets the hosting requirements.") {
			t.Fatalf("Y does not see the public answer\n%s", yp.Body)
		}
		if strings.Contains(yp.Body, "Meridian") || strings.Contains(yp.Body, "supplier-hosted") {
			t.Fatal("Y's page gives away who asked the publicly answered question")
		}

		// A private answer reaches only the asker.
		private := url.Values{"version": {strconv.Itoa(v2)}, "mode": {"private"}, "answer": {"Volumes are in the data pack sent to Meridian only."}}
		if r := l.PostForm(lead, lead+"/"+q2+"/answer", private); r.Status != http.StatusSeeOther {
			t.Fatalf("private answer: status %d\n%s", r.Status, r.Body)
		}
		if answerNotes(t, h, sarah) != 2 || answerNotes(t, h, james) != 1 {
			t.Fatalf("after the private answer Sarah has %d and James %d answers, want 2 and 1", answerNotes(t, h, sarah), answerNotes(t, h, james))
		}
		if r := x.Get(questions); !strings.Contains(r.Body, "Volumes are in the data pack") || !strings.Contains(r.Body, "Answered only for Meridian Health Systems Ltd") {
			t.Fatal("X does not see its private answer")
		}
		if r := y.Get(questions); strings.Contains(r.Body, "Volumes are in the data pack") {
			t.Fatal("Y sees X's private answer")
		}

		// X withdraws a third question; it cannot be withdrawn twice.
		q3Text := "Is there a minimum number of trusts per call-off?"
		x.PostForm(questions, questions, url.Values{"text": {q3Text}})
		q3, _ := questionID(t, h, fw, q3Text)
		if r := x.PostForm(questions, questions+"/"+q3+"/withdraw", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("withdraw: status %d", r.Status)
		}
		if r := x.PostForm(questions, questions+"/"+q3+"/withdraw", nil); r.Status != http.StatusConflict || !strings.Contains(r.Body, `href="#question-`+q3+`"`) {
			t.Fatalf("withdraw again: status %d", r.Status)
		}

		// At the deadline the form goes and a late question is refused,
		// naming the deadline.
		h.Clock.Set(clarifyDeadline)
		x = h.Browser(t) // the session has long expired
		x.SignInAs("demo-supplier")
		if r := x.Get(questions); strings.Contains(r.Body, `name="text"`) || !strings.Contains(r.Body, "The deadline for questions has passed") {
			t.Fatal("the form to ask is still shown after the deadline")
		}
		late := x.PostForm(questions, questions, url.Values{"text": {"One more thing about lot 1?"}})
		if late.Status != http.StatusBadRequest || !strings.Contains(late.Body, "The deadline for questions was 5pm on 15 January 2027") ||
			!strings.Contains(late.Body, `href="#text"`) || !strings.Contains(late.Body, "One more thing about lot 1?") {
			t.Fatalf("late question: status %d\n%s", late.Status, late.Body)
		}

		// A supplier not invited to a framework gets 404.
		other := publishedFramework(t, h, "SLCSC-PACS-2027", framework.KindClosed, false)
		if r := x.Get("/frameworks/" + other.ID + "/questions"); r.Status != http.StatusNotFound {
			t.Fatalf("uninvited supplier: status %d, want 404", r.Status)
		}
		if r := x.PostForm(questions, "/frameworks/"+other.ID+"/questions", url.Values{"text": {"Hello?"}}); r.Status != http.StatusNotFound {
			t.Fatalf("uninvited supplier asking: status %d, want 404", r.Status)
		}
	})
}

// TestOpenFrameworksList: anyone, without signing in, sees the open
// frameworks any supplier may apply to, and neither closed nor draft ones;
// a signed-in supplier gets the link to apply.
func TestOpenFrameworksList(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		open := publishedFramework(t, h, "SLCSC-OPEN-2027", framework.KindOpen, false)
		publishedFramework(t, h, "SLCSC-CLOSED-2027", framework.KindClosed, false)
		publishedFramework(t, h, "SLCSC-DRAFT-2027", framework.KindOpen, true)

		anon := h.Browser(t)
		home := anon.Get("/")
		if !strings.Contains(home.Body, `href="/open-frameworks"`) {
			t.Fatal("no link to the open frameworks on the home page")
		}
		r := anon.Get("/open-frameworks")
		if r.Status != http.StatusOK {
			t.Fatalf("status %d, want 200 without signing in", r.Status)
		}
		for _, want := range []string{"SLCSC-OPEN-2027", "Clinical systems open framework", "EPR, ePMA and integration", "Procurement Act 2023",
			"Open for applications", "midday on Monday 1 February 2027 (UK time)", "Lot 1: Acute EPR", "Any supplier can apply",
			"You need to sign in as a supplier to apply", "/sign-in?return_to=%2fframeworks%2f" + open.ID + "%2fapply"} {
			if !strings.Contains(strings.ToLower(r.Body), strings.ToLower(want)) {
				t.Errorf("the list lacks %q", want)
			}
		}
		for _, not := range []string{"SLCSC-CLOSED-2027", "SLCSC-DRAFT-2027"} {
			if strings.Contains(r.Body, not) {
				t.Errorf("the list shows %s", not)
			}
		}

		b := h.Browser(t)
		b.SignInAs("demo-supplier")
		if r := b.Get("/open-frameworks"); !strings.Contains(r.Body, `href="/frameworks/`+open.ID+`/apply"`) {
			t.Fatal("a signed-in supplier gets no link to apply")
		}
	})
}
