package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/nhsprocure/portal/internal/app/apptest"
)

const (
	// stepTimeout bounds every single browser action (a navigation, a click
	// and the page load it causes, a read).
	stepTimeout = 60 * time.Second
	// browserLifetime bounds one browser, whatever happens: when it ends the
	// browser is killed and any action still running fails.
	browserLifetime = 5 * time.Minute
	// artifactsDir receives a screenshot of every main page (gitignored).
	artifactsDir = "testdata/artifacts"

	stGeorges     = "St George's University Hospitals NHS Foundation Trust"
	newSupplier   = "Ridgeway Clinical Analytics Ltd"
	forbiddenHead = "You do not have permission to see this page"
)

// TestBrowserJourneys drives a real Chromium through the portal as three of
// the demo people, on every database kind: the platform administrator signs
// in through the real pages, adds a supplier (with a mistake the portal must
// catch and show in the NHS.UK error summary) and signs out; a supplier user
// is refused the administration and audit pages; a trust lead cannot open
// another trust's page but sees their own. Every page is checked for the
// NHS.UK styles and script (the script adds classes and initialises the
// header) and for console errors, most of all Content-Security-Policy
// refusals.
func TestBrowserJourneys(t *testing.T) {
	exe := chromiumPath(t)
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := startBrowser(t, exe)

		t.Run("platform admin adds a supplier and signs out", func(t *testing.T) {
			s := b.session(t, h, "admin")
			defer s.checkConsole()
			s.signIn("demo-platform-admin")
			s.expectText(`[data-testid="signed-in-as"]`, "Priya Shah")
			s.expectText(`[data-testid="acting-for"]`, "NHS Procurement Portal")
			s.expectNav(true, "Administration", "Audit log")
			s.shot("03-admin-home")

			s.navigate("/admin/organisations", 200)
			s.expectText("h1", "Organisations")
			if !s.hasLink("main table", stGeorges) {
				s.fatalf("the organisations list has no link to %s", stGeorges)
			}
			s.shot("04-admin-organisations")

			// Add a supplier with a Companies House number the check page lets
			// through (it only checks what is required) but the service refuses.
			s.navigate("/admin/organisations/new", 200)
			s.do("choose the Supplier radio", chromedp.Click(chromedp.JSPath(
				`document.querySelector('input[name="kind"][value="supplier"]').labels[0]`)))
			if !eval[bool](s, `document.querySelector('input[name="kind"][value="supplier"]').checked`) {
				s.fatalf("clicking the Supplier label did not select the Supplier radio")
			}
			s.do("type the name and a bad Companies House number",
				chromedp.SendKeys(chromedp.ID("name"), newSupplier),
				chromedp.SendKeys(chromedp.ID("companiesHouseNumber"), "123"))
			s.shot("05-admin-new-organisation")
			s.click("Continue", button("Continue"), 200)
			s.expectPath("/admin/organisations/new")
			s.expectText("h1", "Check the organisation's details")
			s.expectText("main dl", newSupplier)
			s.shot("06-admin-check-invalid")

			s.click("Add organisation (bad number)", button("Add organisation"), 400)
			s.expectPath("/admin/organisations")
			s.do("wait for the error summary", chromedp.WaitVisible(chromedp.CSS(".nhsuk-error-summary")))
			s.expectText(".nhsuk-error-summary", "There is a problem")
			s.expectText(".nhsuk-error-summary", "Companies House number")
			s.expectText("#companiesHouseNumber-error", "Companies House number")
			if got := s.value("#name"); got != newSupplier {
				s.fatalf("after the error the name field holds %q, want %q", got, newSupplier)
			}
			if !eval[bool](s, `document.querySelector('input[name="kind"][value="supplier"]').checked`) {
				s.fatalf("after the error the Supplier radio is no longer selected")
			}
			if !eval[bool](s, `document.title.startsWith('Error: ')`) {
				s.fatalf("the page title of a form with errors does not start with \"Error: \": %q", eval[string](s, `document.title`))
			}
			// The NHS.UK script initialises the error summary (and moves focus to it).
			if !eval[bool](s, `document.querySelector('.nhsuk-error-summary').hasAttribute('data-nhsuk-error-summary-init')`) {
				s.fatalf("the NHS.UK error summary component was not initialised by the script")
			}
			s.shot("07-admin-form-error")

			s.do("correct the Companies House number",
				chromedp.Clear(chromedp.ID("companiesHouseNumber")),
				chromedp.SendKeys(chromedp.ID("companiesHouseNumber"), "09876543"))
			s.click("Continue", button("Continue"), 200)
			s.expectText("h1", "Check the organisation's details")
			s.expectText("main dl", "09876543")
			s.shot("08-admin-check")
			s.click("Add organisation", button("Add organisation"), 200)
			if p := s.path(); !strings.HasPrefix(p, "/admin/organisations/") || p == "/admin/organisations/new" {
				s.fatalf("after adding the organisation the browser is at %s, want /admin/organisations/<id>", p)
			}
			s.expectText(".nhsuk-notification-banner--success", "Organisation added")
			s.expectText("h1", newSupplier)
			s.expectText("main dl", "09876543")
			s.shot("09-admin-organisation-added")

			s.click("Sign out", css(`header button.nhsuk-header__account-button`), 200)
			s.expectPath("/signed-out")
			s.expectText("h1", "You have signed out")
			if n := eval[int](s, `document.querySelectorAll('[data-testid="signed-in-as"]').length`); n != 0 {
				s.fatalf("the signed-out page still shows who is signed in")
			}
			s.shot("10-signed-out")
			// The session really ended: the administration page is not shown.
			s.navigateAny("/admin")
			if s.path() == "/admin" && eval[bool](s, `document.querySelector('h1') && document.querySelector('h1').textContent.trim() === 'Administration'`) {
				s.fatalf("after signing out /admin still shows the administration page")
			}
		})

		t.Run("supplier is refused administration and audit", func(t *testing.T) {
			s := b.session(t, h, "supplier")
			defer s.checkConsole()
			s.signIn("demo-supplier")
			s.expectText(`[data-testid="signed-in-as"]`, "Sarah Lund")
			s.expectText(`[data-testid="acting-for"]`, "Meridian Health Systems Ltd")
			s.expectNav(false, "Administration", "Audit log")
			s.shot("11-supplier-home")

			s.navigate("/admin", 403)
			s.expectText("h1", forbiddenHead)
			s.shot("12-supplier-admin-403")
			s.navigate("/audit", 403)
			s.expectText("h1", forbiddenHead)
			s.shot("13-supplier-audit-403")
		})

		t.Run("trust lead sees only their own trust", func(t *testing.T) {
			var gstt string
			if err := h.App.DB.WithContext(t.Context()).
				Raw("SELECT id FROM organisations WHERE ods_code = ?", "RJ1").Scan(&gstt).Error; err != nil || gstt == "" {
				t.Fatalf("look up Guy's and St Thomas' (RJ1): id %q, %v", gstt, err)
			}
			s := b.session(t, h, "trust-lead")
			defer s.checkConsole()
			s.signIn("demo-trust-lead")
			s.expectText(`[data-testid="signed-in-as"]`, "Aisha Khan")
			s.expectText(`[data-testid="acting-for"]`, stGeorges)
			s.expectNav(false, "Administration")

			s.navigate("/organisations/"+gstt, 404)
			s.expectText("h1", "Page not found")
			if strings.Contains(eval[string](s, `document.querySelector('main').innerText`), "Guy") {
				s.fatalf("the not-found page names the other trust")
			}
			s.shot("14-trust-lead-other-trust-404")

			s.click("Your organisation", chromedp.JSPath(
				`Array.from(document.querySelectorAll('header a')).find(a => a.textContent.trim() === 'Your organisation')`), 200)
			s.expectText("h1", stGeorges)
			s.expectText("main", "RJ7")
			s.expectText("main table", "Aisha Khan")
			s.expectText("main table", "Ben Carter")
			s.shot("15-trust-lead-own-trust")
		})
	})
}

// chromiumPath finds the browser, skipping the test when there is none
// outside CI and failing it in CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	want := os.Getenv("PORTAL_CHROMIUM")
	if want == "" {
		want = "/usr/bin/chromium"
	}
	p, err := exec.LookPath(want)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "" {
		t.Skipf("no Chromium at %s (set PORTAL_CHROMIUM to its path): %v", want, err)
	}
	t.Fatalf("CI is set but there is no Chromium at %s (set PORTAL_CHROMIUM): %v", want, err)
	return ""
}

// browser is one Chromium process with its own, fresh profile.
type browser struct {
	ctx    context.Context // a chromedp context whose browser is running
	output *lockedBuffer   // the browser's stdout and stderr, for failures
}

func startBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	out := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
		chromedp.CombinedOutput(out),
	)
	life, cancelLife := context.WithTimeout(context.Background(), browserLifetime)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so it runs first: the browser has exited
	// before its profile folder is removed.
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelLife()
	})
	// The first run starts the browser and ties it to ctx, so it cannot take
	// a per-step context; a watchdog bounds it instead.
	watchdog := time.AfterFunc(stepTimeout, cancelAlloc)
	err := chromedp.Do(ctx)
	watchdog.Stop()
	if err != nil {
		t.Fatalf("start %s: %v\n%s", exe, err, out.String())
	}
	return &browser{ctx: ctx, output: out}
}

// session is one person in a browser context of their own (own cookies,
// storage and cache), like a fresh incognito window.
type session struct {
	t    *testing.T
	h    *apptest.Harness
	b    *browser
	name string
	ctx  context.Context

	mu        sync.Mutex
	page      string          // the main frame's current URL
	messages  []consoleEntry  // everything the console and network reported
	docErrors map[string]bool // pages that answered 4xx (each navigation checks its status itself)
	requests  map[network.RequestID]string
}

type consoleEntry struct {
	kind string // "exception", "console.error", "log/security/error", "http", ...
	page string // the page shown when it happened
	text string
	src  string // where the browser says it came from, when it says
	bad  bool   // worth failing the test for
}

// summary is the kind and the first line of the text.
func (e consoleEntry) summary() string {
	line, _, _ := strings.Cut(e.text, "\n")
	return fmt.Sprintf("[%s] %s", e.kind, line)
}

func (e consoleEntry) String() string {
	if e.src != "" && e.src != e.page {
		return fmt.Sprintf("[%s] %s (from %s on %s)", e.kind, e.text, e.src, e.page)
	}
	return fmt.Sprintf("[%s] %s (on %s)", e.kind, e.text, e.page)
}

func (b *browser) session(t *testing.T, h *apptest.Harness, name string) *session {
	t.Helper()
	s := &session{t: t, h: h, b: b, name: name, docErrors: map[string]bool{}, requests: map[network.RequestID]string{}}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(s.listen))
	t.Cleanup(cancel)
	// As for the browser, the first run ties the tab to ctx.
	watchdog := time.AfterFunc(stepTimeout, cancel)
	err := chromedp.Do(ctx)
	watchdog.Stop()
	if err != nil {
		t.Fatalf("open a tab in a new browser context: %v\n%s", err, b.output.String())
	}
	s.ctx = ctx
	return s
}

// listen records console messages, uncaught exceptions, browser log entries
// (where Content-Security-Policy refusals appear) and failed sub-resources.
// A resource of another origin that cannot be fetched (the test machine may
// have no internet) is noted but is not the portal's fault; a refusal by the
// portal's own Content-Security-Policy always is.
// It runs in the tab's message loop: it must be quick and run no command.
func (s *session) listen(ev any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	add := func(kind, text, src string, bad bool) {
		s.messages = append(s.messages, consoleEntry{kind: kind, page: s.page, text: text, src: src, bad: bad})
	}
	switch ev := ev.(type) {
	case *page.EventFrameNavigated:
		if ev.Frame != nil && ev.Frame.ParentID == "" {
			s.page = ev.Frame.URL
		}
	case *runtime.EventConsoleAPICalled:
		// The NHS.UK frontend's initAll reports a component that fails to
		// start with console.log(error), so an Error argument counts too.
		var parts []string
		bad := ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert
		for _, a := range ev.Args {
			switch {
			case a == nil:
				continue
			case len(a.Value) > 0:
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			default:
				parts = append(parts, a.Description)
			}
			bad = bad || a.Subtype == runtime.RemoteObjectSubtypeError
		}
		text := strings.Join(parts, " ")
		add("console."+string(ev.Type), text, "", bad || csp(text))
	case *runtime.EventExceptionThrown:
		text, src := "", ""
		if d := ev.ExceptionDetails; d != nil {
			text = d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			if d.URL != "" {
				src = fmt.Sprintf("%s:%d", d.URL, d.LineNumber+1)
			}
		}
		add("exception", text, src, true)
	case *log.EventEntryAdded:
		e := ev.Entry
		if e == nil {
			return
		}
		bad := csp(e.Text) || e.Level == log.EntryLevelError &&
			!(e.Source == log.EntrySourceNetwork && (s.docErrors[e.URL] || e.URL != "" && !s.ours(e.URL)))
		add(fmt.Sprintf("log/%s/%s", e.Source, e.Level), e.Text, e.URL, bad)
	case *network.EventResponseReceived:
		r := ev.Response
		switch {
		case r == nil || r.Status < 400:
		case ev.Type == network.ResourceTypeDocument:
			// The step that loaded the page checks its status.
			s.docErrors[r.URL] = true
		default:
			add("http", fmt.Sprintf("%d %s (%s)", r.Status, r.URL, ev.Type), r.URL, true)
		}
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			s.requests[ev.RequestID] = ev.Request.URL
		}
	case *network.EventLoadingFailed:
		if ev.Canceled || ev.BlockedReason == network.BlockedReasonCsp {
			return // a CSP refusal is reported, with its detail, as a log entry
		}
		text := ev.ErrorText
		if ev.BlockedReason != "" {
			text += " blocked: " + string(ev.BlockedReason)
		}
		u := s.requests[ev.RequestID]
		add("network", fmt.Sprintf("%s %s: %s", ev.Type, u, text), u, u == "" || s.ours(u))
	}
}

// ours reports whether u is on the portal's origin.
func (s *session) ours(u string) bool { return strings.HasPrefix(u, s.h.URL+"/") }

func csp(text string) bool {
	return strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Content-Security-Policy") ||
		strings.HasPrefix(text, "Refused to")
}

// checkConsole fails the test for every problem the browser reported: CSP
// refusals, uncaught exceptions, errors in the console (including a NHS.UK
// component that failed to start), sub-resources that failed to load. The
// same message on several pages is reported once, with the pages counted.
func (s *session) checkConsole() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	type group struct {
		first string // the first line of the message
		pages []string
	}
	var cspProblems, other, noted []*group
	seen := map[string]*group{}
	for _, m := range s.messages {
		key := m.summary()
		if m.src != "" && !strings.Contains(key, m.src) && !s.ours(m.src) {
			key += " <" + m.src + ">"
		}
		g := seen[key]
		if g == nil {
			g = &group{first: key}
			seen[key] = g
			switch {
			case !m.bad:
				noted = append(noted, g)
			case csp(m.text):
				cspProblems = append(cspProblems, g)
			default:
				other = append(other, g)
			}
		}
		g.pages = append(g.pages, m.page)
	}
	list := func(gs []*group) string {
		var b strings.Builder
		for _, g := range gs {
			fmt.Fprintf(&b, "\n  %s\n    on %d page(s), first %s", g.first, len(g.pages), g.pages[0])
		}
		return b.String()
	}
	if len(noted) > 0 {
		s.t.Logf("%s: the browser also said (not failures):%s", s.name, list(noted))
	}
	if len(cspProblems) > 0 {
		s.t.Errorf("%s: %d distinct Content-Security-Policy refusal(s):%s", s.name, len(cspProblems), list(cspProblems))
	}
	if len(other) > 0 {
		s.t.Errorf("%s: %d distinct browser error(s):%s", s.name, len(other), list(other))
	}
}

// signIn goes through the real pages: the home page's Sign in button, the
// sign-in page's provider button, the provider's button for subject.
func (s *session) signIn(subject string) {
	s.t.Helper()
	s.navigate("/", 200)
	s.click("the home page's Sign in button", css(`main a.nhsuk-button[href="/sign-in"]`), 200)
	s.expectPath("/sign-in")
	s.expectText("h1", "Sign in")
	if s.name == "admin" {
		s.shot("01-sign-in")
	}
	s.click("Development sign-in (demo users)", chromedp.JSPath(
		`Array.from(document.querySelectorAll('main a.nhsuk-button')).find(a => a.textContent.trim() === 'Development sign-in (demo users)')`), 200)
	s.expectPath("/dev-idp/login")
	s.expectText("h1", "Sign in as a demo user")
	if s.name == "admin" {
		s.shot("02-dev-idp-login")
	}
	s.click("sign in as "+subject, css(`[data-testid="sign-in-as-`+subject+`"]`), 200)
	s.expectPath("/")
}

// --- actions, each bounded by stepTimeout ---

func (s *session) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, stepTimeout)
}

func (s *session) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := s.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.fatalf("%s: %v", what, err)
	}
}

func run[T any](s *session, what string, a chromedp.Action[T]) T {
	s.t.Helper()
	ctx, cancel := s.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		s.fatalf("%s: %v", what, err)
	}
	return v
}

func eval[T any](s *session, js string) T {
	s.t.Helper()
	return run(s, "evaluate "+js, chromedp.Evaluate[T](js))
}

// navigate loads path and checks the page's HTTP status (after redirects).
func (s *session) navigate(path string, status int) {
	s.t.Helper()
	resp := run(s, "open "+path, chromedp.NavigateResponse(s.h.URL+path))
	s.checkResponse("open "+path, resp, status)
}

// navigateAny loads path whatever it answers.
func (s *session) navigateAny(path string) {
	s.t.Helper()
	run(s, "open "+path, chromedp.NavigateResponse(s.h.URL+path))
}

// click clicks what sel finds and waits for the page it leads to.
func (s *session) click(what string, sel chromedp.JSPath, status int) {
	s.t.Helper()
	ctx, cancel := s.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		s.fatalf("click %s: %v", what, err)
	}
	s.checkResponse("click "+what, resp, status)
}

func (s *session) checkResponse(what string, resp *network.Response, status int) {
	s.t.Helper()
	if resp == nil {
		s.fatalf("%s: no response", what)
	}
	if int(resp.Status) != status {
		s.fatalf("%s: %s answered %d, want %d", what, resp.URL, resp.Status, status)
	}
	s.checkPage()
}

// checkPage checks that the portal's page has the NHS.UK styles (the header's
// blue band) and that the NHS.UK script module ran (it marks the body and
// initialises the header component).
func (s *session) checkPage() {
	s.t.Helper()
	type look struct {
		Header      bool   `json:"header"`
		HeaderBg    string `json:"headerBg"`
		JSEnabled   bool   `json:"jsEnabled"`
		Supported   bool   `json:"supported"`
		HeaderInit  bool   `json:"headerInit"`
		ButtonColor string `json:"buttonColor"`
	}
	l := eval[look](s, `(() => {
		const h = document.querySelector('header.nhsuk-header');
		const b = document.querySelector('.nhsuk-button');
		return {
			header: !!h,
			headerBg: h ? getComputedStyle(h).backgroundColor : '',
			jsEnabled: document.body.classList.contains('js-enabled'),
			supported: document.body.classList.contains('nhsuk-frontend-supported'),
			headerInit: !!h && h.hasAttribute('data-nhsuk-header-init'),
			buttonColor: b ? getComputedStyle(b).backgroundColor : '',
		};
	})()`)
	switch {
	case !l.Header:
		s.fatalf("the page has no NHS.UK header")
	case l.HeaderBg != "rgb(0, 94, 184)":
		s.fatalf("the NHS.UK styles did not load: the header's background is %q, want NHS blue rgb(0, 94, 184)", l.HeaderBg)
	case !l.JSEnabled || !l.Supported:
		s.fatalf("the portal's script module did not run (body classes js-enabled %v, nhsuk-frontend-supported %v)", l.JSEnabled, l.Supported)
	case !l.HeaderInit:
		s.fatalf("the NHS.UK frontend script did not initialise the header (no data-nhsuk-header-init)")
	}
	s.checkAccessibility()
}

// axeTags are the axe-core rule tags of WCAG 2.2 level AA (and the A and
// earlier AA rules it includes).
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// axeSource is axe-core's script (npm, installed by make assets), read
// once.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// checkAccessibility runs axe-core in the page for WCAG 2.2 AA and fails on
// any violation, naming each rule, its impact and the elements it found.
func (s *session) checkAccessibility() {
	s.t.Helper()
	src, err := axeSource()
	if err != nil {
		s.fatalf("axe-core is not installed (run make assets): %v", err)
	}
	tags, _ := json.Marshal(axeTags)
	type violation struct {
		ID      string   `json:"id"`
		Impact  string   `json:"impact"`
		Help    string   `json:"help"`
		Targets []string `json:"targets"`
	}
	found := run(s, "check accessibility", chromedp.Evaluate[[]violation](`(async () => {
		if (!window.axe) { `+src+` }
		const r = await axe.run(document, {runOnly: {type: 'tag', values: `+string(tags)+`}, resultTypes: ['violations']});
		return r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
			targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
	})()`, chromedp.EvalAwaitPromise))
	if len(found) == 0 {
		return
	}
	var msg strings.Builder
	for _, v := range found {
		fmt.Fprintf(&msg, "\n  %s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
	}
	s.fatalf("%s is not accessible (WCAG 2.2 AA, axe-core):%s", s.path(), msg.String())
}

// --- reads and assertions ---

func (s *session) text(sel string) string {
	s.t.Helper()
	return run(s, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (s *session) value(sel string) string {
	s.t.Helper()
	return run(s, "read the value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

func (s *session) expectText(sel, want string) {
	s.t.Helper()
	if got := s.text(sel); !strings.Contains(normalise(got), want) {
		s.fatalf("%s says %q; want it to contain %q", sel, got, want)
	}
}

func (s *session) path() string {
	s.t.Helper()
	loc := run(s, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		s.fatalf("location %q: %v", loc, err)
	}
	return u.Path
}

func (s *session) expectPath(want string) {
	s.t.Helper()
	if got := s.path(); got != want {
		s.fatalf("the browser is at %s, want %s", got, want)
	}
}

// expectNav checks that the header's links include (present) or leave out
// (!present) each of labels.
func (s *session) expectNav(present bool, labels ...string) {
	s.t.Helper()
	links := eval[[]string](s, `Array.from(document.querySelectorAll('header.nhsuk-header a')).map(a => a.textContent.replace(/\s+/g, ' ').trim())`)
	for _, label := range labels {
		has := false
		for _, l := range links {
			has = has || l == label
		}
		if has != present {
			s.fatalf("header links %q: %q present = %v, want %v", links, label, has, present)
		}
	}
}

func (s *session) hasLink(within, text string) bool {
	s.t.Helper()
	return eval[bool](s, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).some(a => a.textContent.trim() === %s)`,
		jsString(within+" a"), jsString(text)))
}

// shot saves a screenshot of the viewport as <Test>-<kind>-<step>.png.
func (s *session) shot(step string) {
	s.t.Helper()
	png := run(s, "screenshot "+step, chromedp.CaptureScreenshot())
	// Named for the test too, as journeys share steps: <Test>-<kind>-<step>.
	test := strings.TrimPrefix(strings.SplitN(s.t.Name(), "/", 2)[0], "Test")
	name := filepath.Join(artifactsDir, fmt.Sprintf("%s-%s-%s.png", test, s.h.Kind, step))
	if err := os.WriteFile(name, png, 0o644); err != nil {
		s.t.Errorf("save screenshot: %v", err)
	}
}

// fatalf stops the test, keeping a screenshot of where it stopped and what
// the browser reported.
func (s *session) fatalf(format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	name := filepath.Join(artifactsDir, fmt.Sprintf("%s-FAILED-%s.png", s.h.Kind, s.name))
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		if err := os.WriteFile(name, png, 0o644); err == nil {
			msg += "\nscreenshot: " + name
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || s.ctx.Err() != nil {
		msg += "\nbrowser output:\n" + s.b.output.String()
	}
	s.mu.Lock()
	for _, m := range s.messages {
		msg += "\nbrowser said: " + m.String()
	}
	s.mu.Unlock()
	s.t.Fatal(msg)
}

// --- small helpers ---

// button selects the main content's button whose text is label.
func button(label string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(
		`Array.from(document.querySelectorAll('main button')).find(b => b.textContent.trim() === %s)`, jsString(label)))
}

// css selects the first element that matches the CSS selector sel.
func css(sel string) chromedp.JSPath {
	return chromedp.JSPath("document.querySelector(" + jsString(sel) + ")")
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func normalise(s string) string { return strings.Join(strings.Fields(s), " ") }

// lockedBuffer collects the browser's output from its own goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
