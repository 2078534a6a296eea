// Package apptest starts the whole portal for tests: real database (SQLite
// and PostgreSQL), real HTTP listener on loopback, the real in-process OpenID
// Provider, demo data, and a manual clock. Browsers sign in through the same
// OIDC flow as production.
package apptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// Start is the moment every test portal's clock starts at.
var Start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// Harness is one running portal.
type Harness struct {
	URL   string
	App   *app.App
	Clock *clock.Manual
	Kind  store.Kind
	DSN   string
}

// Each runs fn against a fresh portal on every available database.
func Each(t *testing.T, fn func(t *testing.T, h *Harness)) {
	t.Helper()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) { fn(t, New(t, kind, nil)) })
	}
}

// New starts a portal on a fresh database of the given kind. modify may
// change the configuration or options before the portal is built.
func New(t testing.TB, kind store.Kind, modify func(*config.Config, *app.Options)) *Harness {
	t.Helper()
	dsn := storetest.URL(t, kind)
	return NewOn(t, kind, dsn, Start, modify)
}

// NewOn starts a portal on an existing database (a second instance).
func NewOn(t testing.TB, kind store.Kind, dsn string, now time.Time, modify func(*config.Config, *app.Options)) *Harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := config.Load(func(name string) string {
		switch name {
		case "PORTAL_BASE_URL":
			return base
		case "PORTAL_DATABASE_URL":
			return dsn
		case "PORTAL_DATA_DIR":
			return t.TempDir()
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(now)
	opt := app.Options{Clock: clk, JobPollInterval: 100 * time.Millisecond, NoExitDemo: true}
	if modify != nil {
		modify(&cfg, &opt)
	}
	db, err := store.Open(cfg.DatabaseURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a.Server, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// Every instance watches for role changes made by others, as in
	// production, but faster so tests need not wait.
	watch, stop := context.WithCancel(context.Background())
	a.Watch(watch, 100*time.Millisecond)
	if err := a.Jobs.Start(watch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopJobs, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Jobs.Stop(stopJobs)
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = db.Close()
	})
	return &Harness{URL: base, App: a, Clock: clk, Kind: kind, DSN: dsn}
}

// Browser is an HTTP client with its own cookies that does not follow
// redirects by itself, so tests can see each step.
type Browser struct {
	t      testing.TB
	h      *Harness
	Client *http.Client
}

// Browser returns a new browser with an empty cookie jar.
func (h *Harness) Browser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, h: h, Client: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a fetched page.
type Response struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (b *Browser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return b.h.URL + u
	}
	return u
}

// Get fetches u without following redirects.
func (b *Browser) Get(u string) Response {
	b.t.Helper()
	return b.do(http.MethodGet, u, nil)
}

// Post submits form to u without following redirects.
func (b *Browser) Post(u string, form url.Values) Response {
	b.t.Helper()
	return b.do(http.MethodPost, u, form)
}

// PostForm submits form with the page's CSRF token, fetched from page first.
func (b *Browser) PostForm(page, u string, form url.Values) Response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.CSRF(page))
	return b.Post(u, form)
}

var csrfPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// CSRF returns the CSRF token from page (any page that renders a form).
func (b *Browser) CSRF(page string) string {
	b.t.Helper()
	r := b.Get(page)
	m := csrfPattern.FindStringSubmatch(r.Body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s (status %d)", page, r.Status)
	}
	return m[1]
}

func (b *Browser) do(method, u string, form url.Values) Response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.abs(u), body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: string(raw), Location: resp.Header.Get("Location"), Header: resp.Header}
}

// Follow fetches u and follows redirects, returning the final response.
func (b *Browser) Follow(u string) Response {
	b.t.Helper()
	r := b.Get(u)
	for i := 0; i < 10 && r.Location != ""; i++ {
		r = b.Get(r.Location)
	}
	return r
}

var (
	authRequestPattern = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	formActionPattern  = regexp.MustCompile(`<form method="post" action="(/dev-idp/[^"]+)"`)
)

// SignInAs signs in through the development provider as subject and returns
// the final page after the portal's redirects.
func (b *Browser) SignInAs(subject string) Response {
	b.t.Helper()
	r, err := b.TrySignInAs(subject)
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

// TrySignInAs is SignInAs returning the problem instead of failing.
func (b *Browser) TrySignInAs(subject string) (Response, error) {
	callback, err := b.AuthorizeAs(subject)
	if err != nil {
		return Response{}, err
	}
	return b.Follow(callback), nil
}

// AuthorizeAs goes through the provider's sign-in page as subject and returns
// the portal callback URL (with code and state) without visiting it.
func (b *Browser) AuthorizeAs(subject string) (string, error) {
	r := b.Get("/sign-in/" + app.DevProviderID)
	for i := 0; i < 5 && r.Location != "" && !strings.Contains(r.Location, "/dev-idp/login"); i++ {
		r = b.Get(r.Location)
	}
	if r.Location == "" {
		return "", fmt.Errorf("sign-in did not reach the provider's login page: status %d", r.Status)
	}
	login := b.Get(r.Location)
	id := authRequestPattern.FindStringSubmatch(login.Body)
	action := formActionPattern.FindStringSubmatch(login.Body)
	if id == nil || action == nil {
		return "", fmt.Errorf("provider login page has no form (status %d)", login.Status)
	}
	r = b.Post(action[1], url.Values{"authRequestID": {id[1]}, "subject": {subject}})
	for i := 0; i < 5 && r.Location != "" && !strings.Contains(r.Location, "/auth/callback/"); i++ {
		r = b.Get(r.Location)
	}
	if !strings.Contains(r.Location, "/auth/callback/") {
		return "", errors.New("provider did not redirect to the portal callback (status " + fmt.Sprint(r.Status) + ")")
	}
	return r.Location, nil
}
