package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/devidp"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// newcomer is a supplier contact the portal does not know yet: signed in,
// no organisation.
var newcomer = devidp.User{Subject: "newcomer", Name: "Chloe Hart", Email: "chloe.hart@aurora.example.com"}

// withNewcomer keeps the demo users on the development provider and adds
// the newcomer.
func withNewcomer(_ *config.Config, opt *app.Options) {
	opt.DevUsers = func(context.Context) ([]devidp.User, error) {
		out := []devidp.User{newcomer}
		for _, u := range orgs.DemoUsers {
			out = append(out, devidp.User{Subject: u.Subject, Name: u.Name, Email: u.Email})
		}
		return out, nil
	}
}

// openForApplications sets up, through the domain, a published closed
// framework of the London consortium with one lot holding goodCSV's three
// requirements, open for applications until deadline.
func openForApplications(t *testing.T, h *apptest.Harness, deadline time.Time) (*framework.Framework, framework.Lot) {
	t.Helper()
	return openLot(t, h, deadline, 3)
}

// openLot is openForApplications with room for up to maxSuppliers on the lot.
func openLot(t testing.TB, h *apptest.Harness, deadline time.Time, maxSuppliers int) (*framework.Framework, framework.Lot) {
	t.Helper()
	ctx := context.Background()
	londonID, cat := publishedCatalogue(t, h, "EPR requirements")
	lead := audit.Actor{Label: "test"}
	fw, err := h.App.Framework.CreateFramework(ctx, lead, londonID, framework.FrameworkInput{
		Reference: "SLCSC-EPR-2027", Title: "Clinical systems", Regime: framework.RegimePA2023, Kind: framework.KindClosed,
		TermStart: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), TermEnd: time.Date(2031, 3, 31, 0, 0, 0, 0, time.UTC),
		ApplicationsOpen: apptest.Start, ClarificationDeadline: deadline.Add(-24 * time.Hour), ApplicationDeadline: deadline,
	})
	if err != nil {
		t.Fatal(err)
	}
	lot, err := h.App.Framework.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Patient administration and EPR", Min: 1, Max: maxSuppliers, CallOff: framework.CallOffBoth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Framework.CopyRequirements(ctx, lead, lot.ID, cat.ID, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.App.Framework.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 100}}); err != nil {
		t.Fatal(err)
	}
	if err := h.App.Framework.Publish(ctx, lead, fw.ID); err != nil {
		t.Fatal(err)
	}
	fw, _ = h.App.Framework.Framework(ctx, fw.ID)
	return fw, *lot
}

var invitationLink = regexp.MustCompile(`/invitations/[A-Za-z0-9_-]{43}`)

// invitationFromOutbox waits for the invitation email to address to reach
// the development outbox (through the real job queue) and returns its link.
func invitationFromOutbox(t *testing.T, h *apptest.Harness, address string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		msgs, err := h.App.Notify.Outbox(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.ToAddress == address {
				link := invitationLink.FindString(m.BodyText)
				if link == "" {
					t.Fatalf("invitation email has no link:\n%s", m.BodyText)
				}
				return link
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no invitation email reached %s", address)
	return ""
}

func sectionPath(app string, n int) string { return app + "/section/" + strconv.Itoa(n) }

// TestSupplierApplicationJourney: the lead invites a known supplier and a
// newcomer by email; each accepts (the newcomer registering on the way);
// the supplier applies through the task list, check your answers and
// submit, with receipts for submit, resubmit and withdraw; the consortium
// sees only a count; stale versions conflict; the deadline refuses writes
// and names itself; uninvited suppliers see nothing.
func TestSupplierApplicationJourney(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			h := apptest.New(t, kind, withNewcomer)
			ctx := context.Background()
			deadline := time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
			fw, lot := openForApplications(t, h, deadline)
			page := "/frameworks/" + fw.ID
			meridian, _ := h.App.Orgs.Organisations(ctx, orgs.KindSupplier, "Meridian")

			lead := h.Browser(t)
			lead.SignInAs("demo-consortium-lead")
			if r := lead.PostForm(page, page+"/invitations", url.Values{"email": {"not an address"}}); r.Status != http.StatusBadRequest ||
				!strings.Contains(r.Body, "correct format") {
				t.Fatalf("bad email: status %d", r.Status)
			}
			for _, inv := range []url.Values{
				{"email": {"sarah.lund@meridian.example.com"}, "supplier": {meridian[0].ID}},
				{"email": {"chloe.hart@aurora.example.com"}},
			} {
				if r := lead.PostForm(page, page+"/invitations", inv); r.Status != http.StatusSeeOther {
					t.Fatalf("invite %s: status %d\n%s", inv.Get("email"), r.Status, r.Body)
				}
			}
			sarahLink := invitationFromOutbox(t, h, "sarah.lund@meridian.example.com")
			chloeLink := invitationFromOutbox(t, h, "chloe.hart@aurora.example.com")

			// Before sign-in the link shows the framework and asks to sign in.
			anon := h.Browser(t)
			if r := anon.Get(sarahLink); r.Status != http.StatusOK || !strings.Contains(r.Body, "Clinical systems") || !strings.Contains(r.Body, "Sign in") {
				t.Fatalf("invitation before sign-in: status %d", r.Status)
			}
			if r := anon.Get("/invitations/not-a-real-token"); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "newer invitation") {
				t.Fatalf("unknown invitation: status %d", r.Status)
			}

			// An uninvited supplier sees nothing of the framework.
			// (Writes before the window opens are refused: see
			// TestApplicationsRefusedOutsideTheWindow.)
			other := h.Browser(t)
			other.SignInAs("demo-supplier-2")
			for _, p := range []string{page + "/apply", page + "/lots/" + lot.ID + "/application"} {
				if r := other.Get(p); r.Status != http.StatusNotFound {
					t.Fatalf("uninvited supplier GET %s: status %d", p, r.Status)
				}
			}

			sarah := h.Browser(t)
			sarah.SignInAs("demo-supplier")
			if r := sarah.PostForm(sarahLink, sarahLink+"/accept", nil); r.Status != http.StatusSeeOther || r.Location != page+"/apply" {
				t.Fatalf("accept: status %d location %q\n%s", r.Status, r.Location, r.Body)
			}
			apply := sarah.Get(page + "/apply")
			if apply.Status != http.StatusOK || !strings.Contains(apply.Body, "Apply for lot 1") {
				t.Fatalf("apply page: status %d", apply.Status)
			}
			app := page + "/lots/" + lot.ID + "/application"
			tasks := sarah.Get(app)
			if tasks.Status != http.StatusOK || !strings.Contains(tasks.Body, "Medicines") || !strings.Contains(tasks.Body, "Interoperability") ||
				!strings.Contains(tasks.Body, "Cannot start yet") {
				t.Fatalf("task list: status %d\n%s", tasks.Status, tasks.Body)
			}
			reqs, _ := h.App.Framework.LotRequirements(ctx, lot.ID)
			byRef := map[string]string{}
			for _, r := range reqs {
				byRef[r.Reference] = r.ID
			}
			// Submitting now lists what is missing, linked to its task.
			check := sarah.Get(app + "/check")
			if !strings.Contains(check.Body, "Describe how you meet EPR-MED-001") || !strings.Contains(check.Body, app+"/declarations") ||
				strings.Contains(check.Body, "Submit application") {
				t.Fatalf("check page with gaps:\n%s", check.Body)
			}
			if r := sarah.PostForm(app+"/check", app+"/submit", url.Values{"version": {"0"}}); r.Status != http.StatusBadRequest {
				t.Fatalf("submit with gaps: status %d", r.Status)
			}
			// Section 1 (Medicines) and 2 (Interoperability).
			r := saveTask(t, sarah, sectionPath(app, 1), url.Values{
				"text-" + byRef["EPR-MED-001"]: {"Live at 40 trusts with closed-loop prescribing."}, "meets-" + byRef["EPR-MED-002"]: {"yes"},
			})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("save section 1: status %d\n%s", r.Status, r.Body)
			}
			// A second tab still showing the page before that save is told,
			// and its answers are not saved over the first tab's.
			stale := url.Values{"meets-" + byRef["EPR-INT-001"]: {"no"}, "draft_version": {"0"}}
			if r := sarah.PostForm(sectionPath(app, 2), sectionPath(app, 2), stale); r.Status != http.StatusConflict || !strings.Contains(r.Body, "another tab") {
				t.Fatalf("stale save: status %d", r.Status)
			}
			saveTask(t, sarah, sectionPath(app, 2), url.Values{"meets-" + byRef["EPR-INT-001"]: {"yes"}, "text-" + byRef["EPR-INT-001"]: {"FHIR R4 UK Core."}})
			saveTask(t, sarah, app+"/declarations", url.Values{"declaration": {"exclusion", "conflicts", "accurate"}})
			check = sarah.Get(app + "/check")
			if !strings.Contains(check.Body, "Submit application") || !strings.Contains(check.Body, "closed-loop prescribing") {
				t.Fatalf("check page when complete:\n%s", check.Body)
			}
			// One second before the deadline: accepted. (Two months on, the
			// sessions have expired: sign in again.)
			h.Clock.Set(deadline.Add(-time.Second))
			sarah.SignInAs("demo-supplier")
			lead.SignInAs("demo-consortium-lead")
			r = sarah.PostForm(app+"/check", app+"/submit", url.Values{"version": {"0"}})
			if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Location, "/receipts/1") {
				t.Fatalf("submit: status %d\n%s", r.Status, r.Body)
			}
			receipt := sarah.Get(r.Location)
			rcs, _ := h.App.Sealed.Receipts(ctx, framework.ApplicationBox(fw, lot.ID), meridian[0].ID)
			if len(rcs) != 1 || !strings.Contains(receipt.Body, rcs[0].SHA256) || !strings.Contains(receipt.Body, "11:59:59am on 1 February 2027") {
				t.Fatalf("receipt page (receipts %+v):\n%s", rcs, receipt.Body)
			}
			// A second tab still holding version 0 is told, not obeyed.
			if r := sarah.PostForm(app+"/check", app+"/submit", url.Values{"version": {"0"}}); r.Status != http.StatusConflict || !strings.Contains(r.Body, "another tab") {
				t.Fatalf("stale resubmit: status %d", r.Status)
			}
			// Another invited supplier sees only its own, empty application:
			// never Sarah's answers or receipts.
			applyAsInvited(t, h, fw, "demo-supplier-2", "Northgate", "james.whitfield@northgate.example.com")
			james := h.Browser(t)
			james.SignInAs("demo-supplier-2")
			for _, p := range []string{app, app + "/check", sectionPath(app, 1)} {
				if r := james.Get(p); r.Status != http.StatusOK || strings.Contains(r.Body, "closed-loop") || strings.Contains(r.Body, rcs[0].SHA256) {
					t.Fatalf("another supplier's %s: status %d, shows Sarah's application", p, r.Status)
				}
			}
			if r := james.Get(app + "/receipts/1"); r.Status != http.StatusNotFound {
				t.Fatalf("another supplier's receipt: status %d", r.Status)
			}
			// The consortium sees a count, never who.
			lp := lead.Get(page)
			if !strings.Contains(lp.Body, "1 application has been submitted") || strings.Contains(lp.Body, "closed-loop") {
				t.Fatalf("lead's framework page before the deadline:\n%s", lp.Body)
			}
			if strings.Contains(strings.SplitN(lp.Body, `id="suppliers"`, 2)[0], "Meridian") {
				t.Fatal("the lead's page names a supplier in the applications section before the deadline")
			}
			// Withdraw (version 1) and get a receipt; the receipt email went to Sarah.
			r = sarah.PostForm(app, app+"/withdraw", url.Values{"version": {"1"}})
			if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Location, "/receipts/2") {
				t.Fatalf("withdraw: status %d\n%s", r.Status, r.Body)
			}
			if w := sarah.Get(r.Location); !strings.Contains(w.Body, "Application withdrawn") {
				t.Fatalf("withdrawal receipt:\n%s", w.Body)
			}
			sarahUser := h.UserID(t, "demo-supplier")
			var subjects []string
			notes, _ := h.App.Notify.List(ctx, sarahUser, 50)
			for _, n := range notes {
				if n.Kind == notify.KindBidReceipt {
					subjects = append(subjects, n.Subject)
				}
			}
			if len(subjects) != 2 || !slices.ContainsFunc(subjects, func(s string) bool {
				return strings.HasPrefix(s, "Receipt: withdrawal of the application for SLCSC-EPR-2027")
			}) || !slices.ContainsFunc(subjects, func(s string) bool { return strings.HasPrefix(s, "Receipt: application for SLCSC-EPR-2027") }) {
				t.Fatalf("Sarah's receipt notifications: %q, want the application's and the withdrawal's", subjects)
			}
			// At the deadline exactly: refused, naming the deadline and the attempt.
			h.Clock.Set(deadline)
			r = sarah.PostForm(app+"/check", app+"/submit", url.Values{"version": {"2"}})
			if r.Status != http.StatusConflict || !strings.Contains(r.Body, "The deadline was midday on 1 February 2027") ||
				!strings.Contains(r.Body, "12:00:00pm on 1 February 2027") {
				t.Fatalf("submit at the deadline: status %d\n%s", r.Status, r.Body)
			}
			if r := sarah.PostForm(sectionPath(app, 1), sectionPath(app, 1), url.Values{"text-" + byRef["EPR-MED-001"]: {"late"}}); r.Status != http.StatusConflict {
				t.Fatalf("save after the deadline: status %d", r.Status)
			}
			h.Clock.Set(apptest.Start.Add(time.Hour))
			lead.SignInAs("demo-consortium-lead")

			// The newcomer registers a supplier and accepts in one go.
			chloe := h.Browser(t)
			chloe.SignInAs("newcomer")
			if r := chloe.Get(chloeLink); !strings.Contains(r.Body, "Register your organisation") {
				t.Fatalf("newcomer's invitation page:\n%s", r.Body)
			}
			if r := chloe.PostForm(chloeLink+"/register", chloeLink+"/register", url.Values{"name": {""}, "companiesHouseNumber": {""}}); r.Status != http.StatusBadRequest ||
				!strings.Contains(r.Body, "registered name") {
				t.Fatalf("blank registration: status %d", r.Status)
			}
			form := url.Values{"name": {"Aurora Health Software Ltd"}, "companiesHouseNumber": {"09876543"}}
			if r := chloe.PostForm(chloeLink+"/register", chloeLink+"/register", form); r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your answers") {
				t.Fatalf("registration check: status %d", r.Status)
			}
			if n, _ := h.App.Orgs.Organisations(ctx, orgs.KindSupplier, "Aurora"); len(n) != 0 {
				t.Fatal("the check page saved the organisation")
			}
			r = chloe.PostForm(chloeLink+"/register", chloeLink+"/register/confirm", form)
			if r.Status != http.StatusSeeOther || r.Location != page+"/apply" {
				t.Fatalf("register: status %d\n%s", r.Status, r.Body)
			}
			if p := chloe.Get(page + "/apply"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Aurora Health Software Ltd") {
				t.Fatalf("newcomer's apply page: status %d", p.Status)
			}
			if r := chloe.Get(chloeLink); !strings.Contains(r.Body, "has been accepted") {
				t.Fatal("a used invitation link does not say it was accepted")
			}
		})
	}
}

// applyAsInvited has a demo supplier accept an invitation to fw through the
// domain, so it may apply.
func applyAsInvited(t *testing.T, h *apptest.Harness, fw *framework.Framework, subject, orgName, email string) audit.Actor {
	t.Helper()
	ctx := context.Background()
	user := h.Actor(t, subject, orgs.KindSupplier, orgName)
	_, token, err := h.App.Framework.Invite(ctx, audit.Actor{Label: "test"}, fw.ID, email, user.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Framework.Accept(ctx, user, token, user.OrgID); err != nil {
		t.Fatal(err)
	}
	return user
}

// TestApplicationsRefusedOutsideTheWindow: before applications open, and
// once the framework is cancelled, a supplier can read the lot but not
// save or submit anything.
func TestApplicationsRefusedOutsideTheWindow(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		fw, lot := openForApplications(t, h, time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC))
		applyAsInvited(t, h, fw, "demo-supplier", "Meridian", "sarah.lund@meridian.example.com")
		app := "/frameworks/" + fw.ID + "/lots/" + lot.ID + "/application"
		sarah := h.Browser(t)
		sarah.SignInAs("demo-supplier")
		h.Clock.Set(fw.ApplicationsOpen.Add(-time.Minute))
		if r := sarah.Get(app); r.Status != http.StatusOK {
			t.Fatalf("task list before opening: status %d", r.Status)
		}
		if r := sarah.PostForm(app, app+"/declarations", url.Values{"declaration": {"accurate"}}); r.Status != http.StatusConflict || !strings.Contains(r.Body, "not taking applications yet") {
			t.Fatalf("save before opening: status %d", r.Status)
		}
		h.Clock.Set(fw.ApplicationsOpen.Add(time.Minute))
		if err := h.App.Framework.Cancel(ctx, audit.Actor{Label: "test"}, fw.ID, "Requirements changed"); err != nil {
			t.Fatal(err)
		}
		if r := sarah.PostForm(app, app+"/declarations", url.Values{"declaration": {"accurate"}}); r.Status != http.StatusConflict || !strings.Contains(r.Body, "cancelled") {
			t.Fatalf("save once cancelled: status %d", r.Status)
		}
		meridian, _ := h.App.Orgs.Organisations(ctx, orgs.KindSupplier, "Meridian")
		if _, err := h.App.Sealed.StatusOf(ctx, framework.ApplicationBox(fw, lot.ID), meridian[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("something was saved outside the window: %v", err)
		}
	})
}

var draftVersionField = regexp.MustCompile(`name="draft_version" value="(\d+)"`)

// saveTask submits a task page's form as a browser would, with the
// working copy's version the page carries.
func saveTask(t *testing.T, b *apptest.Browser, page string, form url.Values) apptest.Response {
	t.Helper()
	m := draftVersionField.FindStringSubmatch(b.Get(page).Body)
	if m == nil {
		t.Fatalf("no draft version on %s", page)
	}
	form.Set("draft_version", m[1])
	return b.PostForm(page, page, form)
}
