package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/seed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/web"
)

// Load of the signed-in pages benchmark.
const (
	pageUsers    = 50   // people signed in at once, each with their own session
	pageRequests = 3000 // requests per page, shared among them
)

// benchPages are the signed-in pages a buyer uses most, as paths for one
// person: their dashboard, their competitions, and the opened bids of one
// competition their trust leads.
var benchPages = []struct {
	name string
	path func(u pageUser) string
}{
	{"dashboard", func(pageUser) string { return "/" }},
	{"competitions", func(pageUser) string { return "/competitions" }},
	{"bids", func(u pageUser) string { return "/competitions/" + u.competitionID + "/bids" }},
}

type pageUser struct {
	index                  int
	subject, competitionID string
	browser                *apptest.Browser
}

// BenchmarkSignedInPages loads the national data set (portal seed --scale
// national) into PostgreSQL, signs in 50 trust procurement leads (each
// leading an opened competition) through the development provider, and
// has all 50 request each page at once, 3,000 requests per page. Beside
// each page, on another loopback port and to the same 50 clients, a bare
// Echo handler serves the same layout: it renders the same page template
// from the very data the portal rendered it from, with no middleware,
// session, database or authorisation work, the baseline of what the
// portal's own work costs on top. A second, static baseline serves the
// bytes the portal sent (HTTP and the client alone). It reports p50, p99
// and requests per second for the portal and both baselines, the ratios
// of throughputs, and the process's peak memory while the pages were
// served (the process also holds the 50 clients and the bare servers). The
// process's garbage collector is set as portal serve sets it
// (PORTAL_MEMORY_LIMIT), for the baselines as for the portal.
// Targets: p99 under 100 ms, at least a quarter of the bare throughput.
func BenchmarkSignedInPages(b *testing.B) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		b.Skip("the signed-in pages benchmark runs on PostgreSQL: set " + storetest.EnvPostgres)
	}
	h := apptest.New(b, store.Postgres, nil)
	defer tuneLikeAnInstance(b, h)()
	ctx := context.Background()
	began := time.Now()
	counts, err := seed.Load(ctx, seed.Deps{DB: h.App.DB, Audit: h.App.Audit, Sealed: h.App.Sealed, Now: h.Clock.Now(),
		DevIssuer: app.DevIssuer(h.App.Config)}, seed.Scales["national"], 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("national data set loaded in %s: %d competitions, %d bids, %d contracts, %d audit entries",
		time.Since(began).Round(time.Second), counts.Competitions, counts.Bids, counts.Contracts, counts.AuditEntries)
	users := signInLeads(b, h)
	for _, page := range benchPages {
		b.Run(page.name, func(b *testing.B) {
			bodies := make([]string, len(users))
			rendered := make([]renderedPage, len(users))
			for i, u := range users {
				h.App.Server.WatchRendering(func(name string, p *web.Page) { rendered[i] = renderedPage{name, p} })
				r := u.browser.Get(page.path(u))
				h.App.Server.WatchRendering(nil)
				if r.Status != http.StatusOK || rendered[i].page == nil {
					b.Fatalf("%s for %s: status %d, rendered %q", page.path(u), u.subject, r.Status, rendered[i].name)
				}
				bodies[i] = r.Body
			}
			bare := bareServer(b, len(users), func(c echo.Context, i int) error {
				c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
				c.Response().WriteHeader(http.StatusOK)
				return h.App.Server.RenderPage(c.Response(), rendered[i].name, rendered[i].page)
			})
			static := bareServer(b, len(users), func(c echo.Context, i int) error {
				return c.HTMLBlob(http.StatusOK, []byte(bodies[i]))
			})
			for range b.N {
				mem := domaintest.SampleMemory(50 * time.Millisecond)
				cpu, err := domaintest.ReadCPU()
				if err != nil {
					b.Fatal(err)
				}
				stopProfile := profilePage(b, page.name)
				portal, portalWall := hammer(b, users, func(u pageUser) string { return h.URL + page.path(u) })
				stopProfile()
				cpuAfter, err := domaintest.ReadCPU()
				if err != nil {
					b.Fatal(err)
				}
				peak := mem.Stop()
				base, baseWall := hammer(b, users, func(u pageUser) string { return bare + page.path(u) + "?user=" + strconv.Itoa(u.index) })
				bytesOnly, staticWall := hammer(b, users, func(u pageUser) string { return static + page.path(u) + "?user=" + strconv.Itoa(u.index) })
				rps := float64(len(portal)) / portalWall.Seconds()
				bareRPS := float64(len(base)) / baseWall.Seconds()
				staticRPS := float64(len(bytesOnly)) / staticWall.Seconds()
				b.ReportMetric(domaintest.PercentileMS(portal, 0.50), "p50-ms")
				b.ReportMetric(domaintest.PercentileMS(portal, 0.99), "p99-ms")
				b.ReportMetric(rps, "req/s")
				b.ReportMetric(domaintest.PercentileMS(base, 0.50), "bare-p50-ms")
				b.ReportMetric(domaintest.PercentileMS(base, 0.99), "bare-p99-ms")
				b.ReportMetric(bareRPS, "bare-req/s")
				b.ReportMetric(rps/bareRPS, "ratio-vs-bare")
				b.ReportMetric(staticRPS, "static-req/s")
				b.ReportMetric(rps/staticRPS, "ratio-vs-static")
				b.ReportMetric(domaintest.MiB(peak.RSSBytes), "rss-peak-MiB")
				b.ReportMetric(domaintest.MiB(peak.HeapBytes), "heap-peak-MiB")
				b.Logf("%d users, %d requests of %s (%d bytes for the first user); %s", len(users), len(portal), page.name, len(bodies[0]), cpuAfter.Since(cpu))
			}
		})
	}
}

// tuneLikeAnInstance sets the process's garbage collector as portal serve
// sets an instance's (app.TuneMemory), so a load benchmark measures what
// runs in production, and returns what restores it.
func tuneLikeAnInstance(b *testing.B, h *apptest.Harness) (restore func()) {
	b.Helper()
	tuned, restore := app.TuneMemory(h.App.Config.MemoryLimit)
	b.Logf("garbage collector tuned as an instance's: %v (memory limit %d MiB)", tuned, h.App.Config.MemoryLimit>>20)
	return restore
}

// envPageProfiles names a folder to write a CPU profile of each page's
// portal run to (PAGE.cpu.prof), leaving out the seed and the baselines.
const envPageProfiles = "PORTAL_BENCH_PROFILES"

// profilePage starts a CPU profile of one page's run if envPageProfiles is
// set, and returns what stops it.
func profilePage(b *testing.B, page string) (stop func()) {
	b.Helper()
	dir := os.Getenv(envPageProfiles)
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, page+".cpu.prof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// renderedPage is a page as the portal rendered it: template and data.
type renderedPage struct {
	name string
	page *web.Page
}

// signInLeads signs in the trust procurement leads of the pageUsers trusts
// leading the most opened competitions, each in a browser of their own,
// with the opened competition of theirs that has the most bids.
func signInLeads(b *testing.B, h *apptest.Harness) []pageUser {
	b.Helper()
	var rows []struct{ Subject, CompetitionID string }
	err := h.App.DB.Raw(`
		SELECT u.subject, c.id AS competition_id
		FROM competitions c
		JOIN memberships m ON m.organisation_id = c.lead_org_id AND m.role = 'trust_lead'
		JOIN users u ON u.id = m.user_id
		WHERE c.opened_at IS NOT NULL
		  AND c.id = (SELECT c2.id FROM competitions c2 WHERE c2.lead_org_id = c.lead_org_id AND c2.opened_at IS NOT NULL
		              ORDER BY (SELECT COUNT(*) FROM competition_bids cb WHERE cb.competition_id = c2.id) DESC, c2.id LIMIT 1)
		ORDER BY (SELECT COUNT(*) FROM competitions c3 WHERE c3.lead_org_id = c.lead_org_id) DESC, u.subject
		LIMIT ?`, pageUsers).Scan(&rows).Error
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) < pageUsers {
		b.Fatalf("only %d trust leads lead an opened competition, want %d", len(rows), pageUsers)
	}
	users := make([]pageUser, len(rows))
	for i, r := range rows {
		users[i] = pageUser{index: i, subject: r.Subject, competitionID: r.CompetitionID, browser: h.Browser(b)}
		users[i].browser.SignInAs(r.Subject)
	}
	return users
}

// bareServer answers each user's request (its ?user= the user's index)
// with serve(c, the index), from a bare Echo handler: no middleware, no
// session, no database. It returns its base URL.
func bareServer(b *testing.B, users int, serve func(c echo.Context, user int) error) string {
	b.Helper()
	e := echo.New()
	e.GET("/*", func(c echo.Context) error {
		i, err := strconv.Atoi(c.QueryParam("user"))
		if err != nil || i < 0 || i >= users {
			return echo.ErrNotFound
		}
		return serve(c, i)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// hammer has every user request their URL until pageRequests requests
// have been made in all, all users at once, and returns each request's
// latency and the wall time. Any status but 200 fails the benchmark.
func hammer(b *testing.B, users []pageUser, url func(pageUser) string) ([]time.Duration, time.Duration) {
	b.Helper()
	per := pageRequests / len(users)
	times := make([][]time.Duration, len(users))
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	began := time.Now()
	for i, u := range users {
		wg.Go(func() {
			target := url(u)
			for range per {
				t0 := time.Now()
				resp, err := u.browser.Client.Get(target)
				if err == nil {
					err = drain(resp)
				}
				times[i] = append(times[i], time.Since(t0))
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(began)
	var all []time.Duration
	for i := range users {
		if errs[i] != nil {
			b.Fatalf("%s: %v", users[i].subject, errs[i])
		}
		all = append(all, times[i]...)
	}
	return all, wall
}

// drain reads and closes a response, failing on any status but 200.
func drain(resp *http.Response) error {
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
