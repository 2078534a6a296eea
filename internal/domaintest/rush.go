package domaintest

import (
	"crypto/rand"
	"math"
	"slices"
	"testing"
	"time"
)

// The deadline rush both bid rush benchmarks run (the services alone, and
// the whole portal over HTTP): 200 suppliers, each with a 1 MB document,
// all starting inside the same 10 seconds.
const (
	RushSuppliers = 200
	RushWindow    = 10 * time.Second
	RushDocBytes  = 1_000_000
)

// RushPDF is a PDF of RushDocBytes random bytes, so nothing can compress
// or deduplicate it.
func RushPDF(t testing.TB) []byte {
	t.Helper()
	doc := make([]byte, RushDocBytes)
	copy(doc, "%PDF-1.7\n")
	if _, err := rand.Read(doc[16 : RushDocBytes-8]); err != nil {
		t.Fatal(err)
	}
	copy(doc[RushDocBytes-6:], "%%EOF\n")
	return doc
}

// PercentileMS is the p-th quantile (0 < p <= 1, nearest rank) of ds in
// milliseconds.
func PercentileMS(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return float64(s[max(i, 0)].Microseconds()) / 1000
}
