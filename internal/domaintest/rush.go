package domaintest

import (
	"encoding/binary"
	"math"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"
)

// A Rush is a deadline rush: Suppliers each submit a bid with a document of
// RushDocBytes, each starting at a random moment within the same Window.
type Rush struct {
	Suppliers int
	Window    time.Duration
}

// The rushes the bid rush benchmarks run.
var (
	// RushIssue is the rush the requirement states: 500 suppliers each
	// submit a bid with a 1 MB document within 60 seconds. The whole
	// portal over HTTP runs it.
	RushIssue = Rush{Suppliers: 500, Window: 60 * time.Second}
	// RushBurst is a shorter, denser rush (20 arrivals a second instead of
	// about 8) that the services alone run, below the HTTP server.
	RushBurst = Rush{Suppliers: 200, Window: 10 * time.Second}
)

// RushDocBytes is the size of every rush document: 1 MB.
const RushDocBytes = 1_000_000

// RushPDF is a PDF of RushDocBytes pseudo-random bytes drawn from seed, so
// nothing can compress or deduplicate it, while a client can make it when
// it needs it instead of holding every supplier's document for the whole
// rush. Different seeds give different documents.
func RushPDF(seed uint64) []byte {
	doc := make([]byte, RushDocBytes)
	copy(doc, "%PDF-1.7\n")
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	_, _ = mrand.NewChaCha8(key).Read(doc[16 : RushDocBytes-8]) // ChaCha8.Read never fails
	copy(doc[RushDocBytes-6:], "%%EOF\n")
	return doc
}

// RushResult is what a rush measured: how long each supplier's work took,
// and what went wrong for it (nil when nothing did), by supplier.
type RushResult struct {
	Took    []time.Duration
	Errs    []error
	Elapsed time.Duration // from the start of the window to the last finish
}

// Run runs work for every supplier i on its own goroutine, each starting at
// a random moment within the window, times each call and waits for all.
// prepare, when not nil, runs just before work on the same goroutine,
// outside its timing: the client-side making of what work sends.
func (r Rush) Run(prepare func(i int), work func(i int) error) RushResult {
	res := RushResult{Took: make([]time.Duration, r.Suppliers), Errs: make([]error, r.Suppliers)}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range r.Suppliers {
		wg.Go(func() {
			time.Sleep(time.Duration(mrand.Int64N(int64(r.Window)))) // #nosec G404 -- a benchmark's arrival time, not a secret
			if prepare != nil {
				prepare(i)
			}
			began := time.Now()
			res.Errs[i] = work(i)
			res.Took[i] = time.Since(began)
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// Succeeded is how long each supplier whose work succeeded took.
func (r RushResult) Succeeded() []time.Duration {
	var out []time.Duration
	for i, err := range r.Errs {
		if err == nil {
			out = append(out, r.Took[i])
		}
	}
	return out
}

// Failed is every error, in supplier order.
func (r RushResult) Failed() []error {
	var out []error
	for _, err := range r.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Percentile is the p-th quantile (0 < p <= 1, nearest rank) of ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// PercentileMS is Percentile in milliseconds, to the microsecond.
func PercentileMS(ds []time.Duration, p float64) float64 {
	return float64(Percentile(ds, p).Microseconds()) / 1000
}
