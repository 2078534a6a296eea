package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/notify/mailpittest"
)

// The requirements the consortium lead imports: two sections, enough rows
// for two lots (lot 1 takes three of them, lot 2 the other two).
const journeyCSV = "Section,Reference,Requirement,Priority,Weight,Response type,Guidance,Mark 0,Mark 1,Mark 2,Mark 3,Mark 4\n" +
	"Medicines,EPR-MED-001,The system must support electronic prescribing,Must,10,Scored (0-4),Look for live sites,No response,Partial,Meets,Exceeds in part,Exceeds\n" +
	"Medicines,EPR-MED-002,Allergies are checked at prescribing,Must,5,Pass/fail,,,,,,\n" +
	"Interoperability,EPR-INT-001,FHIR UK Core APIs are offered,Should,8,Pass/fail,,,,,,\n" +
	"Medicines,EPR-MED-003,Doses for children are calculated by weight,Should,6,Pass/fail,,,,,,\n" +
	"Interoperability,EPR-INT-002,Discharge summaries reach GP systems electronically,Must,7,Scored (0-4),Ask for message volumes,No response,Partial,Meets,Exceeds in part,Exceeds\n"

const (
	journeyCatalogue = "EPR requirements 2026"
	journeyReference = "SLCSC-EPR-2027"
	journeyTitle     = "Clinical systems framework"
	lot1Title        = "Patient administration and EPR"
	lot2Title        = "Clinical portal"
	meridian         = "Meridian Health Systems Ltd"
	sarahEmail       = "sarah.lund@meridian.example.com"
	jamesEmail       = "james.whitfield@northgate.example.com"

	askedQuestion  = "Meridian Health Systems hosts in its own data centre: does lot 1 accept supplier-hosted systems?"
	publicQuestion = "Does lot 1 accept systems hosted in a supplier's own data centre?"
	publicAnswer   = "Yes, if the hosting meets the requirements in lot 1."
	notAppointed   = "Your quality score (50%) was below the appointed supplier's (100%)."
)

// The framework's application deadline: midday on 1 December 2026 (UK time
// is GMT then), a week after apptest.Start.
var journeyDeadline = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// journey is one run of the framework journey on one database.
type journey struct {
	t  *testing.T
	h  *apptest.Harness
	b  *browser
	fw string // the framework's path, /frameworks/<id>

	lead, sarah, james, evaluator, trust *session
	// lead2 is the consortium's second lead, who turns the second opening key.
	lead2 *session
	// mail, when set, is the real SMTP server the portal sends through;
	// invitation links are then read from it rather than the outbox.
	mail *mailpittest.Server
	// appointBoth appoints Northgate too, so that two suppliers can bid.
	appointBoth bool
}

// TestFrameworkJourney drives a real Chromium through a whole framework
// procurement, on every database kind, through the pages only (the
// invitation links are read from the development outbox, as the supplier
// would read their email): the consortium lead builds and publishes a
// requirement catalogue from a CSV upload, sets up a framework with two
// lots and publishes it, and invites two suppliers; each supplier accepts,
// applies to lot 1 through the task list and gets a receipt; one asks a
// clarification question that the lead answers for everyone; after the
// deadline the evaluator scores both applications, the lead appoints one,
// starts the standstill, and once it ends the agreement is live and a
// member trust can see it. Every page is checked for console errors and
// Content-Security-Policy refusals.
func TestFrameworkJourney(t *testing.T) {
	exe := chromiumPath(t)
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		started := time.Now()
		j := &journey{t: t, h: h, b: startBrowser(t, exe)}
		j.lead = j.open("lead")
		j.sarah = j.open("sarah")
		j.james = j.open("james")
		j.evaluator = j.open("evaluator")
		j.trust = j.open("trust-lead")
		j.lead2 = j.open("lead-2")

		j.frameworkToLive()
		t.Logf("%s: framework journey took %s", h.Kind, time.Since(started).Round(time.Millisecond))
	})
}

// open starts a session whose console is checked when the test ends.
func (j *journey) open(name string) *session {
	s := j.b.session(j.t, j.h, name)
	j.t.Cleanup(s.checkConsole)
	return s
}

// frameworkToLive runs the framework's steps through the pages, from the
// requirements to a live agreement: catalogue, framework, invitations,
// both suppliers' applications, a clarification, evaluation, appointment
// and the end of the standstill.
func (j *journey) frameworkToLive() {
	j.buildCatalogue()
	j.setUpFramework()
	sarahLink, jamesLink := j.inviteSuppliers()
	j.apply(j.sarah, "demo-supplier", sarahLink, meridian, "Live at 40 trusts with closed-loop prescribing.")
	j.apply(j.james, "demo-supplier-2", jamesLink, "Northgate", "Piloting at two trusts.")
	j.clarify()
	j.evaluate()
	j.appoint()
	j.goLive()
}

// buildCatalogue: the lead creates a catalogue, imports the CSV through
// the upload form and publishes version 1.
func (j *journey) buildCatalogue() {
	s := j.lead
	s.signIn("demo-consortium-lead")
	s.clickLink("Requirements")
	s.expectPath("/catalogues")
	s.expectText("h1", "Requirement catalogues")
	s.typeInto("title", journeyCatalogue)
	s.shot("j01-catalogues")
	s.click("Create catalogue", button("Create catalogue"), 200)
	if !regexp.MustCompile(`^/catalogues/[0-9a-f-]{36}$`).MatchString(s.path()) {
		s.fatalf("after creating the catalogue the browser is at %s", s.path())
	}
	s.expectFlash("Catalogue created")
	s.expectText("h1", journeyCatalogue)

	csv := filepath.Join(j.t.TempDir(), "requirements.csv")
	if err := os.WriteFile(csv, []byte(journeyCSV), 0o644); err != nil {
		j.t.Fatal(err)
	}
	s.do("choose the CSV file", chromedp.SetUploadFiles(chromedp.ID("file"), []string{csv}))
	s.click("Import", button("Import"), 200)
	s.expectFlash("Imported 5 rows: 5 added")
	s.expectText("main", "5 requirements in 2 sections")
	s.expectText("main", "EPR-INT-002")
	s.shot("j02-catalogue-imported")
	s.click("Publish a new version", button("Publish a new version"), 200)
	s.expectFlash("Version 1 published")
	s.expectText("main", "Version 1 is the latest published")
	s.shot("j03-catalogue-published")
}

// setUpFramework: the lead creates a framework with its dates typed into
// the date inputs, adds two lots, copies requirements from the published
// catalogue into each, sets the criteria and publishes.
func (j *journey) setUpFramework() {
	s := j.lead
	s.clickLink("Frameworks")
	s.expectPath("/frameworks")
	s.expectText("h1", "Framework agreements")
	s.typeInto("reference", journeyReference)
	s.typeInto("title", journeyTitle)
	s.typeInto("description", "EPR, ePMA and integration for acute trusts")
	s.choose("regime-pa2023")
	s.choose("kind-closed")
	s.typeDate("term_start", "1", "4", "2027", "")
	s.typeDate("term_end", "31", "3", "2031", "")
	s.typeDate("applications_open", "23", "11", "2026", "9am")
	s.typeDate("clarification_deadline", "30", "11", "2026", "17:00")
	s.typeDate("application_deadline", "1", "12", "2026", "12:00")
	s.shot("j04-framework-new")
	s.click("Create draft framework", button("Create draft framework"), 200)
	if !regexp.MustCompile(`^/frameworks/[0-9a-f-]{36}$`).MatchString(s.path()) {
		s.fatalf("after creating the framework the browser is at %s", s.path())
	}
	j.fw = s.path()
	s.expectFlash("Framework created as a draft")
	s.expectText("h1", journeyTitle)
	s.expectText("#state", "Draft")
	s.expectText("main dl", "midday on Tuesday 1 December 2026")

	for _, lot := range []string{lot1Title, lot2Title} {
		s.typeInto("title", lot)
		s.typeInto("min_suppliers", "1")
		s.typeInto("max_suppliers", "3")
		s.choose("call_off-both")
		s.click("Add lot "+lot, button("Add lot"), 200)
		s.expectFlash("Lot added")
	}
	for i, refs := range []string{"EPR-MED-001, EPR-MED-002, EPR-INT-001", "EPR-MED-003, EPR-INT-002"} {
		n := i + 1
		s.selectOption(fmt.Sprintf("catalogue-%d", n), journeyCatalogue+", version 1")
		s.typeInto(fmt.Sprintf("references-%d", n), refs)
		s.click(fmt.Sprintf("Copy requirements into lot %d", n), button(fmt.Sprintf("Copy requirements into lot %d", n)), 200)
		s.expectFlash("Requirements copied into the lot")
	}
	s.expectText("#lots ~ .nhsuk-card", "Lot 1: "+lot1Title)
	s.expectText("main", "3 requirements.")
	s.expectText("main", "2 requirements.")

	s.typeInto("criterion-name-0", "Quality")
	s.typeInto("criterion-weight-0", "80")
	s.typeInto("criterion-name-1", "Social value")
	s.typeInto("criterion-weight-1", "20")
	s.click("Save criteria", button("Save criteria"), 200)
	s.expectFlash("Evaluation criteria saved")
	s.shot("j05-framework-draft")

	s.click("Publish framework", button("Publish framework"), 200)
	s.expectFlash("Framework published")
	s.expectText("#state", "Open")
	s.expectText("main", "Quality: 80")
	if eval[bool](s, `!!document.querySelector('form[action$="/publish"]')`) {
		s.fatalf("the published framework still offers to publish")
	}
	s.shot("j06-framework-published")
}

// inviteSuppliers: the lead invites Sarah (Meridian) and James (Northgate)
// from the framework page; the links come from the development outbox.
func (j *journey) inviteSuppliers() (sarahLink, jamesLink string) {
	s := j.lead
	for _, inv := range []struct{ email, supplier string }{{sarahEmail, meridian}, {jamesEmail, "Northgate"}} {
		s.typeInto("email", inv.email)
		s.selectOption("organisation", inv.supplier)
		s.click("Send invitation to "+inv.email, button("Send invitation"), 200)
		s.expectFlash("Invitation sent")
		s.expectText("#suppliers ~ table", inv.email)
	}
	s.expectText("#suppliers ~ table", "Northgate")
	s.shot("j07-framework-invited")
	return j.invitationLink(sarahEmail), j.invitationLink(jamesEmail)
}

var invitationPath = regexp.MustCompile(`/invitations/[A-Za-z0-9_-]{43}`)

// invitationLink waits for the invitation email to address to reach the
// development outbox, or the SMTP server when there is one (sent by the
// real job queue), and returns its link.
func (j *journey) invitationLink(address string) string {
	j.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if j.mail != nil {
			for _, m := range j.mail.Messages(j.t) {
				if slices.Contains(m.To, address) && invitationPath.MatchString(m.Text) {
					return invitationPath.FindString(m.Text)
				}
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		msgs, err := j.h.App.Notify.Outbox(context.Background(), 100)
		if err != nil {
			j.t.Fatal(err)
		}
		for _, m := range msgs {
			if m.ToAddress != address {
				continue
			}
			link := invitationPath.FindString(m.BodyText)
			if link == "" {
				j.t.Fatalf("the invitation email to %s has no link:\n%s", address, m.BodyText)
			}
			return link
		}
		time.Sleep(100 * time.Millisecond)
	}
	j.t.Fatalf("no invitation email reached %s within 30s", address)
	return ""
}

// apply: the supplier opens its link, signs in from it, accepts, fills in
// each task of its application to lot 1, checks its answers, submits and
// gets a receipt with a SHA-256 fingerprint.
func (j *journey) apply(s *session, subject, link, supplier, essay string) {
	s.navigate(link, 200)
	s.expectText("h1", "Apply to join "+journeyTitle)
	s.expectText("main", journeyReference)
	s.shot("j08-" + s.name + "-invitation")
	s.click("Sign in on the invitation", css(`main a.nhsuk-button`), 200)
	s.expectPath("/sign-in")
	s.click("Development sign-in (demo users)", chromedp.JSPath(
		`Array.from(document.querySelectorAll('main a.nhsuk-button')).find(a => a.textContent.trim() === 'Development sign-in (demo users)')`), 200)
	s.expectPath("/dev-idp/login")
	s.click("sign in as "+subject, css(`[data-testid="sign-in-as-`+subject+`"]`), 200)
	s.expectPath(link)
	s.expectText("main", "Accept the invitation")
	s.click("Accept", buttonPrefix("Accept for "+supplier), 200)
	s.expectPath(j.fw + "/apply")
	s.expectFlash("Invitation accepted: you can now apply")
	s.expectText("h1", journeyTitle)
	s.shot("j09-" + s.name + "-apply")

	s.clickLink("Apply for lot 1")
	s.expectText("h1", "Your application for lot 1: "+lot1Title)
	s.expectText("main", "You have completed 0 of 2 sections")
	s.shot("j10-" + s.name + "-tasks")
	for i, section := range []string{"Medicines", "Interoperability"} {
		s.clickLink(section)
		s.expectText("h1", section)
		s.answerAll(essay)
		if i == 0 {
			s.shot("j11-" + s.name + "-section")
		}
		s.click("Save "+section, button("Save and return to your application"), 200)
		s.expectFlash("Your answers have been saved")
		s.expectText("#section-"+fmt.Sprint(i+1)+"-status", "Completed")
	}
	s.clickLink("Make the declarations")
	s.expectText("h1", "Declarations")
	for _, id := range eval[[]string](s, `Array.from(document.querySelectorAll('input[name="declaration"]')).map(i => i.id)`) {
		s.choose(id)
	}
	s.shot("j12-" + s.name + "-declarations")
	s.click("Save declarations", button("Save and return to your application"), 200)
	s.expectFlash("Your declarations have been saved")
	s.expectText("#declarations-status", "Completed")

	s.clickLink("Check your answers and submit")
	s.expectText("h1", "Check your answers before submitting your application")
	s.expectText("main", essay)
	s.expectText("main", "We meet this")
	s.shot("j13-" + s.name + "-check")
	s.click("Submit application", button("Submit application"), 200)
	if !strings.HasSuffix(s.path(), "/receipts/1") {
		s.fatalf("after submitting the browser is at %s, want the receipt", s.path())
	}
	s.expectText("h1", "Application received")
	s.expectText("main dl", supplier)
	if sha := strings.TrimSpace(s.text("main dl .portal-mono")); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sha) {
		s.fatalf("the receipt's SHA-256 fingerprint is %q, want 64 hex digits", sha)
	}
	s.shot("j14-" + s.name + "-receipt")
}

// answerAll answers every requirement on an application section page:
// "We meet this" where there is a choice, and the essay in every text box.
func (s *session) answerAll(essay string) {
	s.t.Helper()
	type field struct {
		Yes  string `json:"yes"`
		Text string `json:"text"`
	}
	fields := eval[[]field](s, `Array.from(document.querySelectorAll('main form fieldset')).map(f => {
		const yes = f.querySelector('input[type="radio"][value="yes"]');
		const text = f.querySelector('textarea');
		return {yes: yes ? yes.id : '', text: text ? text.id : ''};
	})`)
	if len(fields) == 0 {
		s.fatalf("the section page has no requirements to answer")
	}
	for _, f := range fields {
		if f.Yes != "" {
			s.choose(f.Yes)
		}
		if f.Text != "" {
			s.typeInto(f.Text, essay)
		}
	}
}

// clarify: Sarah asks a question; the lead answers it for everyone,
// reworded; James sees the answer, without a word of who asked.
func (j *journey) clarify() {
	sarah := j.sarah
	sarah.navigate(j.fw+"/apply", 200)
	sarah.clickLink("Ask a question or read the answers given to everyone")
	sarah.expectPath(j.fw + "/questions")
	sarah.expectText("#question-deadline", "5pm on Monday 30 November 2026")
	sarah.typeInto("text", askedQuestion)
	sarah.click("Send question", button("Send question"), 200)
	sarah.expectFlash("Your question has been sent")
	sarah.expectText("main", "Waiting for an answer")
	sarah.shot("j15-sarah-questions")

	lead := j.lead
	lead.navigate(j.fw, 200)
	lead.expectText("main", "2 applications have been submitted so far")
	lead.clickLink("Clarification questions")
	lead.expectPath(j.fw + "/clarifications")
	lead.expectText("main", "Question from "+meridian)
	lead.expectText("#open-count", "1")
	q := eval[string](lead, `document.querySelector('main form[action$="/answer"] input[name="mode"][value="public"]').id`)
	lead.choose(q)
	pq := eval[string](lead, `document.querySelector('main textarea[name="public_question"]').id`)
	ans := eval[string](lead, `document.querySelector('main textarea[name="answer"]').id`)
	lead.do("reword the question", chromedp.WaitVisible(chromedp.ID(pq)), chromedp.Clear(chromedp.ID(pq)))
	lead.typeInto(pq, publicQuestion)
	lead.typeInto(ans, publicAnswer)
	lead.shot("j16-lead-clarification-answer")
	lead.click("Send answer", buttonPrefix("Send answer"), 200)
	lead.expectPath(j.fw + "/clarifications")
	lead.expectFlash("Answer shared with every supplier taking part")
	lead.expectText("#open-count", "0")

	james := j.james
	james.navigate(j.fw+"/apply", 200)
	james.clickLink("Ask a question or read the answers given to everyone")
	james.expectPath(j.fw + "/questions")
	james.expectText("main", "You have not asked any questions.")
	james.expectText("#answers ~ .nhsuk-card", publicQuestion)
	james.expectText("#answers ~ .nhsuk-card", publicAnswer)
	if main := james.text("main"); strings.Contains(main, "Meridian") || strings.Contains(main, "supplier-hosted") {
		james.fatalf("Northgate's questions page gives away who asked the public question:\n%s", main)
	}
	james.shot("j17-james-public-answer")
}

// evaluate: the lead assigns Ben Carter; the deadline passes; the lead
// opens the applications; Ben scores both (Meridian 4, Northgate 2 on the
// scored requirement, every pass/fail a pass) and submits.
func (j *journey) evaluate() {
	lead := j.lead
	lead.navigate(j.fw, 200)
	lead.clickLink("Evaluators and evaluation")
	lead.expectPath(j.fw + "/evaluation")
	lead.expectText("h1", "Evaluation")
	ben := eval[string](lead, `Array.from(document.querySelectorAll('input[name="evaluator"]')).find(i => i.labels[0].textContent.includes('Ben Carter')).id`)
	lead.choose(ben)
	lead.click("Save evaluators", button("Save evaluators"), 200)
	lead.expectFlash("Evaluators saved")
	lead.expectText("#evaluators ~ ul", "Ben Carter")
	lead.expectText("main", "Applications stay sealed until the deadline")
	lead.shot("j18-lead-evaluators")

	// The deadline passes; a week on, every session has expired.
	j.h.Clock.Set(journeyDeadline.Add(time.Minute))
	lead.signIn("demo-consortium-lead")
	lead.navigate(j.fw+"/evaluation", 200)
	lead.expectText("#state", "Evaluation")
	// Two keys, two leads: the first key alone opens nothing.
	lead.click("Turn your key", button("Turn your key to open the applications"), 200)
	lead.expectFlash("Your key is turned")
	lead.expectText("main", "You have turned your key")
	lead2 := j.lead2
	lead2.signIn("demo-consortium-lead-2")
	lead2.navigate(j.fw+"/evaluation", 200)
	lead2.expectText("main", "Key turned by Tom Reilly")
	lead2.click("Turn the second key", button("Turn the second key and open the applications"), 200)
	lead2.expectFlash("Applications opened")
	lead.navigate(j.fw+"/evaluation", 200)
	lead.expectText("main", meridian)
	lead.expectText("main", "Northgate")
	lead.shot("j19-lead-opened")

	ev := j.evaluator
	ev.signIn("demo-evaluator")
	ev.expectText(`[data-testid="signed-in-as"]`, "Ben Carter")
	ev.clickLink("Evaluations")
	ev.expectPath("/evaluations")
	ev.clickLink(journeyReference + " " + journeyTitle)
	ev.expectPath(j.fw + "/evaluate")
	ev.shot("j20-evaluator-applications")
	suppliers := eval[[]string](ev, `Array.from(document.querySelectorAll('main table a')).map(a => a.textContent.trim())`)
	if len(suppliers) != 2 {
		ev.fatalf("the evaluator has %d applications to score (%q), want 2", len(suppliers), suppliers)
	}
	for i, name := range suppliers {
		ev.clickLink(name)
		ev.expectText("h1", name)
		mark := "2"
		if name == meridian {
			mark = "4"
		}
		ev.scoreAll(mark)
		if i == 0 {
			ev.shot("j21-evaluator-score")
		}
		ev.click("Submit my scores for "+name, button("Submit my scores"), 200)
		ev.expectPath(j.fw + "/evaluate")
		ev.expectFlash("Your scores have been submitted")
	}
	if n := eval[int](ev, `Array.from(document.querySelectorAll('main table td')).filter(td => td.textContent.trim() === 'Submitted').length`); n != 2 {
		ev.fatalf("%d applications show the scores as submitted, want 2", n)
	}
}

// scoreAll marks every requirement on the score page: mark out of 4 for
// scored ones, pass for pass/fail ones, with a justification for each.
func (s *session) scoreAll(mark string) {
	s.t.Helper()
	ids := eval[[]string](s, fmt.Sprintf(`Array.from(document.querySelectorAll(
		'main input[type="radio"][name^="score-"][value="%s"], main input[type="radio"][name^="pass-"][value="pass"]')).map(i => i.id)`, mark))
	texts := eval[[]string](s, `Array.from(document.querySelectorAll('main textarea[name^="justification-"]')).map(t => t.id)`)
	if len(ids) == 0 || len(ids) != len(texts) {
		s.fatalf("the score page has %d marks and %d justifications to give", len(ids), len(texts))
	}
	for _, id := range ids {
		s.choose(id)
	}
	for _, id := range texts {
		s.typeInto(id, "Evidence given against the descriptors.")
	}
}

// appoint: the lead sees the results, appoints Meridian, does not appoint
// Northgate (with the reason) unless appointBoth, confirms and starts the
// standstill.
func (j *journey) appoint() {
	lead := j.lead
	lead.navigate(j.fw+"/evaluation", 200)
	lead.expectText("main table", "100.0%")
	lead.expectText("main table", "50.0%")
	yes := lead.decision(meridian, "yes")
	lead.choose(yes)
	if j.appointBoth {
		lead.choose(lead.decision("Northgate", "yes"))
	} else {
		no := lead.decision("Northgate", "no")
		lead.choose(no)
		reason := "reason-" + strings.TrimSuffix(strings.TrimPrefix(no, "appoint-"), "-no")
		lead.typeInto(reason, notAppointed)
	}
	lead.shot("j22-lead-decisions")
	lead.click("Save decisions", button("Save decisions"), 200)
	lead.expectFlash("Decisions saved")
	if !eval[bool](lead, fmt.Sprintf(`document.getElementById(%s).checked`, jsString(yes))) {
		lead.fatalf("after saving, %s is not shown as appointed", meridian)
	}
	lead.click("Confirm appointments and start the standstill", button("Confirm appointments and start the standstill"), 200)
	lead.expectFlash("Standstill started and award letters sent")
	lead.expectText("#state", "Standstill")
	lead.expectText("main", "The standstill ends")
	lead.shot("j23-lead-standstill")
}

// decision is the id of the radio for choice ("yes" or "no") in the
// decision about the supplier whose name starts with supplier.
func (s *session) decision(supplier, choice string) string {
	s.t.Helper()
	id := eval[string](s, fmt.Sprintf(`(() => {
		const f = Array.from(document.querySelectorAll('main fieldset')).find(f => f.querySelector('legend').textContent.trim().startsWith(%s));
		const i = f && f.querySelector('input[type="radio"][value=%s]');
		return i ? i.id : '';
	})()`, jsString(supplier), jsString(choice)))
	if id == "" {
		s.fatalf("no decision %q for %s on the evaluation page", choice, supplier)
	}
	return id
}

// goLive: the standstill ends; the agreement page shows the framework live
// with Meridian appointed, to the lead and to a member trust's lead.
func (j *journey) goLive() {
	fw, err := j.h.App.Framework.Framework(context.Background(), strings.TrimPrefix(j.fw, "/frameworks/"))
	if err != nil || fw.StandstillEnds == nil {
		j.t.Fatalf("framework after the standstill started: %v (standstill ends %v)", err, fw)
	}
	j.h.Clock.Set(fw.StandstillEnds.Add(time.Minute))

	lead := j.lead
	lead.signIn("demo-consortium-lead")
	lead.navigate(j.fw, 200)
	lead.expectText("#state", "Live")
	lead.clickLink("Framework agreement")
	lead.expectPath(j.fw + "/agreement")
	j.checkAgreement(lead)
	lead.shot("j24-lead-agreement")

	trust := j.trust
	trust.signIn("demo-trust-lead")
	trust.expectText(`[data-testid="acting-for"]`, stGeorges)
	trust.navigate(j.fw+"/agreement", 200)
	j.checkAgreement(trust)
	trust.shot("j25-trust-lead-agreement")
}

func (j *journey) checkAgreement(s *session) {
	s.t.Helper()
	s.expectText("h1", journeyTitle)
	s.expectText("main .nhsuk-tag", "Live")
	s.expectText("main", "Lot 1: "+lot1Title)
	s.expectText("main table", meridian)
	if j.appointBoth {
		s.expectText("main table", "Northgate")
	} else if main := s.text("main"); strings.Contains(main, "Northgate") {
		s.fatalf("the agreement names Northgate, which was not appointed")
	}
}

// --- form helpers ---

// typeInto types text into the field with the id.
func (s *session) typeInto(id, text string) {
	s.t.Helper()
	s.do("type into #"+id, chromedp.SendKeys(chromedp.ID(id), text))
}

// typeDate types a date (and, when hhmm is given, a time) into the NHS.UK
// date input called name.
func (s *session) typeDate(name, day, month, year, hhmm string) {
	s.t.Helper()
	s.typeInto(name+"-day", day)
	s.typeInto(name+"-month", month)
	s.typeInto(name+"-year", year)
	if hhmm != "" {
		s.typeInto(name+"-time", hhmm)
	}
}

// choose ticks the radio or checkbox with the id by clicking its label, as
// a person would (the NHS.UK inputs themselves are drawn over).
func (s *session) choose(id string) {
	s.t.Helper()
	s.do("click the label of #"+id, chromedp.Click(chromedp.JSPath(
		fmt.Sprintf(`document.getElementById(%s).labels[0]`, jsString(id)))))
	if !eval[bool](s, fmt.Sprintf(`document.getElementById(%s).checked`, jsString(id))) {
		s.fatalf("clicking the label of #%s did not select it", id)
	}
}

// selectOption chooses, in the select with the id, the option whose text
// starts with label.
func (s *session) selectOption(id, label string) {
	s.t.Helper()
	value := eval[string](s, fmt.Sprintf(`(() => {
		const o = Array.from(document.getElementById(%s).options).find(o => o.textContent.trim().startsWith(%s));
		return o ? o.value : '\u0000';
	})()`, jsString(id), jsString(label)))
	if value == "\x00" {
		s.fatalf("the select #%s has no option %q", id, label)
	}
	s.do("choose "+label+" in #"+id, chromedp.SetValue(chromedp.ID(id), value))
}

// clickLink follows the link in the page (header or main) whose text is
// text, and expects the page it leads to to load.
func (s *session) clickLink(text string) {
	s.t.Helper()
	s.click("the link "+text, chromedp.JSPath(fmt.Sprintf(
		`Array.from(document.querySelectorAll('main a, header a')).find(a => a.textContent.replace(/\s+/g, ' ').trim() === %s)`, jsString(text))), 200)
}

// expectFlash checks the success banner.
func (s *session) expectFlash(want string) {
	s.t.Helper()
	s.expectText(".nhsuk-notification-banner--success", want)
}

// buttonPrefix selects the main content's button whose text starts with
// label (buttons may carry visually hidden words).
func buttonPrefix(label string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(
		`Array.from(document.querySelectorAll('main button')).find(b => b.textContent.replace(/\s+/g, ' ').trim().startsWith(%s))`, jsString(label)))
}
