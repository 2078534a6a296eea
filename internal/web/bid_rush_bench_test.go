package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// BenchmarkBidRushHTTP200 is the deadline rush through the portal's HTTP
// server on PostgreSQL, signed in as 200 different suppliers through the
// development OpenID provider. Each supplier has its bid drafted already
// (answers, prices, declarations: saved through the domain beforehand) and,
// starting at a random moment within the same 10 seconds, does what its
// browser would in the last minutes: open the document library, upload a
// 1 MB PDF, open the bid's documents task and attach it, open check your
// answers and submit. It reports the latency of the whole sequence and of
// the submit request alone at p50 and p99 (and the worst), how many bids
// were lost (suppliers without a sealed submission), server errors
// (responses 500 or above) and other failures (any unexpected status or
// transport error). Lost, server errors and failures must all be 0, or
// the benchmark fails.
func BenchmarkBidRushHTTP200(b *testing.B) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		b.Skip("the bid rush runs on PostgreSQL: set " + storetest.EnvPostgres)
	}
	for range b.N {
		b.StopTimer()
		h := apptest.New(b, store.Postgres, nil)
		ctx := context.Background()
		fw, lot := openLot(b, h, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), domaintest.RushSuppliers)
		suppliers := h.AddSuppliers(b, "bidder", domaintest.RushSuppliers)
		for _, s := range suppliers {
			h.Apply(b, fw, lot.ID, s.Actor, s.Email, "Live at 40 trusts.")
		}
		h.GoLive(b, fw)
		aisha := h.Actor(b, "demo-trust-lead", orgs.KindTrust, "RJ7")
		comp, _ := biddingCompetition(b, h, aisha, lot.ID, h.UserID(b, "demo-evaluator"))
		bidders := make([]*rushBidder, len(suppliers))
		for i, s := range suppliers {
			content := domaintest.CompleteBid(b, h.App.Competition, comp, s.Label+" answers", int64(1000+i))
			if err := h.App.Competition.SaveBidDraft(ctx, s.Actor, comp.ID, s.OrgID, content, 0); err != nil {
				b.Fatal(err)
			}
			browser := h.Browser(b)
			browser.SignInAs(s.Subject)
			bidders[i] = &rushBidder{base: h.URL, client: browser.Client, page: "/competitions/" + comp.ID + "/bid",
				name: fmt.Sprintf("case-study-%03d.pdf", i), doc: domaintest.RushPDF(b)}
		}

		var wg sync.WaitGroup
		b.StartTimer()
		start := time.Now()
		for _, r := range bidders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(mrand.Int64N(int64(domaintest.RushWindow))))
				began := time.Now()
				r.err = r.bid()
				r.total = time.Since(began)
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()

		sealedBids, err := h.App.Sealed.Count(ctx, competition.BidBox(comp))
		if err != nil {
			b.Fatal(err)
		}
		var totals, submits []time.Duration
		serverErrors, failures := 0, 0
		for _, r := range bidders {
			serverErrors += r.serverErrors
			if r.err != nil {
				failures++
				if failures <= 3 {
					b.Log(r.err)
				}
				continue
			}
			totals = append(totals, r.total)
			submits = append(submits, r.submit)
		}
		lost := domaintest.RushSuppliers - sealedBids
		if len(totals) > 0 {
			b.ReportMetric(domaintest.PercentileMS(totals, 0.50), "p50-ms")
			b.ReportMetric(domaintest.PercentileMS(totals, 0.99), "p99-ms")
			b.ReportMetric(domaintest.PercentileMS(totals, 1.00), "max-ms")
			b.ReportMetric(domaintest.PercentileMS(submits, 0.50), "submit-p50-ms")
			b.ReportMetric(domaintest.PercentileMS(submits, 0.99), "submit-p99-ms")
		}
		b.ReportMetric(float64(lost), "lost")
		b.ReportMetric(float64(serverErrors), "server-errors")
		b.ReportMetric(float64(failures), "errors")
		b.ReportMetric(elapsed.Seconds(), "rush-s")
		b.Logf("%d signed-in suppliers over HTTP, %d MB documents, started within %s: %d sealed, %d server errors, %d failures, all done in %s",
			domaintest.RushSuppliers, domaintest.RushDocBytes/1_000_000, domaintest.RushWindow, sealedBids, serverErrors, failures, elapsed.Round(time.Millisecond))
		if lost != 0 || serverErrors > 0 || failures > 0 {
			b.Fatalf("%d of %d bids sealed, %d server errors, %d failures", sealedBids, domaintest.RushSuppliers, serverErrors, failures)
		}
	}
}

// rushBidder is one signed-in supplier in the rush. Its requests run on
// their own goroutine, so problems are returned, not reported through
// testing.B.
type rushBidder struct {
	base, page, name string
	client           *http.Client
	doc              []byte

	total, submit time.Duration
	serverErrors  int
	err           error
}

var (
	rushCSRF     = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	rushDraft    = regexp.MustCompile(`name="draft_version" value="(\d+)"`)
	rushVersion  = regexp.MustCompile(`name="version" value="(\d+)"`)
	rushDocument = regexp.MustCompile(`^/documents/([0-9a-f-]{36})$`)
	rushReceipt  = regexp.MustCompile(`/bid/receipts/\d+$`)
)

// bid uploads the document, attaches it and submits the bid.
func (r *rushBidder) bid() error {
	page, err := r.get("/documents")
	if err != nil {
		return err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", field(rushCSRF, page))
	part, _ := w.CreateFormFile("file", r.name)
	_, _ = part.Write(r.doc)
	_ = w.Close()
	loc, err := r.post("/documents", w.FormDataContentType(), &body)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	m := rushDocument.FindStringSubmatch(loc)
	if m == nil {
		return fmt.Errorf("upload redirected to %q, want the new document", loc)
	}
	if page, err = r.get(r.page + "/documents"); err != nil {
		return err
	}
	form := url.Values{"_csrf": {field(rushCSRF, page)}, "draft_version": {field(rushDraft, page)}, "document": {m[1]}}
	if _, err := r.post(r.page+"/documents", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if page, err = r.get(r.page + "/check"); err != nil {
		return err
	}
	form = url.Values{"_csrf": {field(rushCSRF, page)}, "version": {field(rushVersion, page)}}
	began := time.Now()
	loc, err = r.post(r.page+"/submit", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	r.submit = time.Since(began)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if !rushReceipt.MatchString(loc) {
		return fmt.Errorf("submit redirected to %q, want the receipt", loc)
	}
	return nil
}

func field(re *regexp.Regexp, page string) string {
	if m := re.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// get fetches a page, which must answer 200.
func (r *rushBidder) get(path string) (string, error) {
	resp, err := r.client.Get(r.base + path)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		r.count(resp.StatusCode)
		return "", fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return string(raw), nil
}

// post sends a form, which must answer 303; it returns where to.
func (r *rushBidder) post(path, contentType string, body io.Reader) (string, error) {
	resp, err := r.client.Post(r.base+path, contentType, body)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusSeeOther {
		r.count(resp.StatusCode)
		return "", fmt.Errorf("POST %s: status %d", path, resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

func (r *rushBidder) count(status int) {
	if status >= 500 {
		r.serverErrors++
	}
}
