package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/nhsprocure/portal/internal/documents
cpu: AMD EPYC
BenchmarkUpload1GiB-2   	       5	3100000000 ns/op	 346.4 MB/s	       900.0 dd-MB/s	         5.300 peak-heap-growth-MiB	         0.3900 ratio-vs-dd	         6.301 rss-growth-MiB	       350.0 store-MB/s	 5459172 B/op	    2815 allocs/op
--- BENCH: BenchmarkUpload1GiB-2
    upload_bench_test.go:264: iteration 1: store 3.10s
    upload_bench_test.go:264: iteration 2: store 3.05s
BenchmarkEncrypt-2   	      44	  25681885 ns/op	2613.08 MB/s	 3154191 B/op	     158 allocs/op
PASS
ok  	github.com/nhsprocure/portal/internal/documents	39.174s
`

func TestParse(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if r.GOOS != "linux" || r.GOARCH != "amd64" || r.CPU != "AMD EPYC" || len(r.Failures) != 0 {
		t.Errorf("run = %+v", r)
	}
	if len(r.Results) != 2 {
		t.Fatalf("%d results, want 2", len(r.Results))
	}
	up := r.Results[0]
	if up.baseName() != "BenchmarkUpload1GiB" || up.N != 5 || up.Pkg != "github.com/nhsprocure/portal/internal/documents" || len(up.Log) != 2 {
		t.Errorf("upload result = %+v", up)
	}
	if m, ok := up.metric("ratio-vs-dd"); !ok || m.Value != 0.39 || m.Text != "0.3900" {
		t.Errorf("ratio-vs-dd = %+v, %v", m, ok)
	}
	if len(up.Metrics) != 9 {
		t.Errorf("%d metrics, want 9", len(up.Metrics))
	}
}

func TestCheck(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range check(r) {
		got[o.Unit] = o.Verdict
	}
	want := map[string]string{"peak-heap-growth-MiB": "met", "ratio-vs-dd": "NOT met", "rss-growth-MiB": "met"}
	for unit, v := range want {
		if got[unit] != v {
			t.Errorf("%s: %q, want %q", unit, got[unit], v)
		}
	}
	empty, _ := parse(strings.NewReader("BenchmarkEncrypt-2 1 5 ns/op\n"))
	for _, o := range check(empty) {
		if o.Verdict != "not measured" {
			t.Errorf("%s without the upload benchmark: %q", o.Unit, o.Verdict)
		}
	}
}

func TestRender(t *testing.T) {
	r, _ := parse(strings.NewReader(sample))
	var sb strings.Builder
	render(&sb, r, []string{"make bench"}, thisMachine(r, time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)))
	doc := sb.String()
	for _, s := range []string{"make bench", "2026-01-02 03:04 UTC", "linux/amd64", "### BenchmarkUpload1GiB-2", "### BenchmarkEncrypt-2",
		"| ratio-vs-dd | 0.3900 |", "**NOT met**", "0.3900 (350.0 store-MB/s, 900.0 dd-MB/s)", "iteration 2: store 3.05s"} {
		if !strings.Contains(doc, s) {
			t.Errorf("report lacks %q:\n%s", s, doc)
		}
	}
}

func TestRefusesEmptyOrFailedInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "docs", "benchmarks.md")
	for name, in := range map[string]string{
		"empty":   "",
		"no runs": "goos: linux\nPASS\nok  \tx\t0.1s\n",
		"failed":  sample + "--- FAIL: BenchmarkOther-2\n    x_test.go:1: boom\nFAIL\n",
	} {
		if err := mainErr(strings.NewReader(in), out, nil, false); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: report written anyway", name)
		}
	}
	if err := mainErr(strings.NewReader(sample), out, []string{"make bench"}, false); err != nil {
		t.Fatal(err)
	}
	if err := mainErr(strings.NewReader(sample), out, nil, true); err != errTargetMissed {
		t.Errorf("strict with a missed target: %v", err)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "# Benchmarks") {
		t.Errorf("report: %v\n%s", err, b)
	}
}
