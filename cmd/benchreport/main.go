// Command benchreport turns `go test -bench` output into a Markdown report,
// docs/benchmarks.md, stating what was measured, the command, the machine,
// the date, every benchmark's figures and whether the upload targets were
// met:
//
//	go test -run '^$' -bench . ./... > bench.out
//	go run ./cmd/benchreport -o docs/benchmarks.md -command 'make bench' < bench.out
//
// It fails (exit status 1), leaving any existing report as it was, when the
// input holds no benchmark results or reports a failure. With -strict it
// also exits with status 2, after writing the report, when a target is not
// met.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// result is one benchmark line, such as
// "BenchmarkUpload1GiB-2   5   3.1e9 ns/op   346 MB/s   0.61 ratio-vs-dd".
type result struct {
	Name    string // as printed, with the -GOMAXPROCS suffix
	Pkg     string
	N       int64
	Metrics []metric // in the order printed
	Log     []string // the benchmark's log lines (--- BENCH)
}

type metric struct {
	Unit  string
	Text  string // the value as printed
	Value float64
}

func (r *result) metric(unit string) (metric, bool) {
	for _, m := range r.Metrics {
		if m.Unit == unit {
			return m, true
		}
	}
	return metric{}, false
}

// baseName drops the -GOMAXPROCS suffix: "BenchmarkUpload1GiB".
func (r *result) baseName() string {
	if i := strings.LastIndexByte(r.Name, '-'); i > 0 {
		if _, err := strconv.Atoi(r.Name[i+1:]); err == nil {
			return r.Name[:i]
		}
	}
	return r.Name
}

// run is everything read from the go test output.
type run struct {
	GOOS, GOARCH, CPU string
	Results           []*result
	Failures          []string
}

// parse reads go test -bench output. Lines it does not know are skipped.
func parse(r io.Reader) (*run, error) {
	out := &run{}
	var pkg string
	var logTo *result // the result whose --- BENCH block is being read
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if logTo != nil && strings.HasPrefix(line, "    ") {
			logTo.Log = append(logTo.Log, strings.TrimSpace(line))
			continue
		}
		logTo = nil
		switch {
		case strings.HasPrefix(line, "goos: "):
			out.GOOS = strings.TrimSpace(strings.TrimPrefix(line, "goos: "))
		case strings.HasPrefix(line, "goarch: "):
			out.GOARCH = strings.TrimSpace(strings.TrimPrefix(line, "goarch: "))
		case strings.HasPrefix(line, "cpu: "):
			out.CPU = strings.TrimSpace(strings.TrimPrefix(line, "cpu: "))
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimSpace(strings.TrimPrefix(line, "pkg: "))
		case strings.HasPrefix(line, "--- BENCH: "), strings.HasPrefix(line, "--- FAIL: "), strings.HasPrefix(line, "--- SKIP: "):
			if strings.HasPrefix(line, "--- FAIL: ") {
				out.Failures = append(out.Failures, strings.TrimSpace(line))
			}
			name := strings.Fields(line)[2]
			for i := len(out.Results) - 1; i >= 0; i-- {
				if res := out.Results[i]; res.Name == name && res.Pkg == pkg {
					logTo = res
					break
				}
			}
		case line == "FAIL" || strings.HasPrefix(line, "FAIL\t") || strings.HasPrefix(line, "panic: "):
			out.Failures = append(out.Failures, strings.TrimSpace(line))
		default:
			if res, ok := parseResult(line); ok {
				res.Pkg = pkg
				out.Results = append(out.Results, res)
			}
		}
	}
	return out, sc.Err()
}

// parseResult parses one benchmark line: the name, the iteration count, then
// value-unit pairs.
func parseResult(line string) (*result, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return nil, false
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return nil, false
	}
	res := &result{Name: f[0], N: n}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false
		}
		res.Metrics = append(res.Metrics, metric{Unit: f[i+1], Text: f[i], Value: v})
	}
	return res, true
}

// target is one requirement checked against a benchmark's metric. With
// several runs of the benchmark the worst value counts.
type target struct {
	Bench, Unit string
	What, Need  string
	Met         func(float64) bool
	Worse       func(a, b float64) bool // a is worse than b
	Suffix      string                  // shown after the value
	Context     []string                // units shown beside the value, from the same run
	Info        bool                    // also checked, but not one of the stated targets
}

var targets = []target{
	{
		Bench: "BenchmarkUpload1GiB", Unit: "peak-heap-growth-MiB",
		What: "Peak Go heap growth while a 1 GiB upload is stored", Need: "under 64 MiB",
		Met: func(v float64) bool { return v < 64 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " MiB",
	},
	{
		Bench: "BenchmarkUpload1GiB", Unit: "ratio-vs-dd",
		What: "Store speed ÷ dd speed, same bytes, same disk, same run", Need: "at least 0.5",
		Met: func(v float64) bool { return v >= 0.5 }, Worse: func(a, b float64) bool { return a < b },
		Context: []string{"store-MB/s", "dd-MB/s"},
	},
	{
		Bench: "BenchmarkUpload1GiB", Unit: "rss-growth-MiB",
		What: "Peak resident memory (RSS) growth of the process", Need: "under 64 MiB",
		Met: func(v float64) bool { return v < 64 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " MiB", Info: true,
	},
	{
		Bench: "BenchmarkBidRushHTTP200", Unit: "lost",
		What: "Bids lost when 200 signed-in suppliers upload a 1 MB document and submit through the HTTP server within 10 s (PostgreSQL)", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
		Context: []string{"p50-ms", "p99-ms", "submit-p50-ms", "submit-p99-ms"},
	},
	{
		Bench: "BenchmarkBidRushHTTP200", Unit: "server-errors",
		What: "Server errors (status 500 or above) in the same HTTP rush", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
	},
	{
		Bench: "BenchmarkBidRushHTTP200", Unit: "errors",
		What: "Suppliers who did not get a receipt in the same HTTP rush (any unexpected response)", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
	},
	{
		Bench: "BenchmarkExitDashboardNational", Unit: "p99-ms",
		What: "National exit dashboard, p99 of 300 signed-in requests with every trust, 765 deployments and 5,000 contracts (PostgreSQL)", Need: "under 100 ms",
		Met: func(v float64) bool { return v < 100 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms", Context: []string{"p50-ms", "max-ms"},
	},
	{
		Bench: "BenchmarkBidRush200", Unit: "lost", Info: true,
		What: "Bids lost when 200 suppliers store a 1 MB document and submit through the services within 10 s (PostgreSQL, no HTTP)", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
		Context: []string{"p50-ms", "p99-ms"},
	},
	{
		Bench: "BenchmarkBidRush200", Unit: "errors",
		What: "Errors in the same rush through the services", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
		Info: true,
	},
}

// outcome is a target's verdict: "met", "NOT met" or "not measured".
type outcome struct {
	target
	Measured string
	Verdict  string
}

func check(r *run) []outcome {
	var out []outcome
	for _, t := range targets {
		o := outcome{target: t, Measured: "–", Verdict: "not measured"}
		var worst *result
		var worstM metric
		for _, res := range r.Results {
			if res.baseName() != t.Bench {
				continue
			}
			if m, ok := res.metric(t.Unit); ok && (worst == nil || t.Worse(m.Value, worstM.Value)) {
				worst, worstM = res, m
			}
		}
		if worst != nil {
			o.Measured = worstM.Text + t.Suffix
			var ctx []string
			for _, unit := range t.Context {
				if m, ok := worst.metric(unit); ok {
					ctx = append(ctx, m.Text+" "+unit)
				}
			}
			if len(ctx) > 0 {
				o.Measured += " (" + strings.Join(ctx, ", ") + ")"
			}
			o.Verdict = "NOT met"
			if t.Met(worstM.Value) {
				o.Verdict = "met"
			}
		}
		out = append(out, o)
	}
	return out
}

// machine describes where the benchmarks ran.
type machine struct {
	Date, Go, OSArch, CPU string
	Cores                 int
	TempDir               string
}

func thisMachine(r *run, now time.Time) machine {
	m := machine{
		Date:    now.UTC().Format("2006-01-02 15:04 UTC"),
		Go:      runtime.Version(),
		OSArch:  runtime.GOOS + "/" + runtime.GOARCH,
		CPU:     cpuModel(),
		Cores:   runtime.NumCPU(),
		TempDir: os.TempDir(),
	}
	if r.GOOS != "" && r.GOARCH != "" {
		m.OSArch = r.GOOS + "/" + r.GOARCH
	}
	if m.CPU == "" {
		m.CPU = r.CPU
	}
	if m.CPU == "" {
		m.CPU = "unknown"
	}
	return m
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

const measured = `Each figure comes from ` + "`go test -bench`" + `; the tables list every metric
a benchmark reported, one column per run.

**BenchmarkUpload1GiB** (internal/documents) stores a 1 GiB PDF ("%PDF-1.7"
header, an AES-CTR key stream that nothing can compress or deduplicate,
"%%EOF") through ` + "`documents.Service.Put`" + ` exactly as an upload is stored:
name and type checks, organisation quota, SHA-256, tink streaming
AES-256-GCM encryption, the Local backend (temporary file, fsync, rename,
directory fsync), then the database record and its audit entry in SQLite.
The input comes from an in-memory generator. In every iteration, in the same
temporary folder, ` + "`dd if=<the same 1 GiB> of=<file> bs=1M conv=fsync`" + ` writes
the same bytes: its input file is made once beforehand and read from the
page cache, and conv=fsync makes dd pay the durability cost the store pays.
dd and the store take turns going first, and each timed write starts after
` + "`sync`" + ` and a 5 s pause, so both find the machine in the same state (on a
virtual machine with free page reporting, memory freed by removing the last
output goes back to the host about 2 s later, and writing into such memory
costs several times more kernel time).

- ns/op and MB/s: the store, mean over the iterations (MB = 10^6 bytes).
- store-MB/s, dd-MB/s: the median iteration of each.
- ratio-vs-dd: store speed ÷ dd speed within each iteration, median.
- peak-heap-growth-MiB: Go heap objects (runtime/metrics), sampled every
  10 ms during the upload, less the heap after a GC just before it; the worst
  iteration.
- rss-growth-MiB: the process's peak resident set (VmHWM, reset before each
  upload, and VmRSS sampled every 10 ms) less the resident set just before
  the upload; the worst iteration.
- B/op, allocs/op: allocations during the timed uploads.

The store needs the CPU for SHA-256 and AES-GCM, both on one goroutine,
where dd needs almost none, so other work on the machine lowers ratio-vs-dd:
the log lines give the load average before and after.

**BenchmarkBidRushHTTP200** (internal/web) runs the whole portal on
PostgreSQL (it is skipped without PORTAL_TEST_DATABASE_URL) and its HTTP
server on loopback: a live framework lot with 200 appointed suppliers (each
applied and was appointed through the framework's own steps), and a
published mini-competition inviting them. Each supplier signs in through
the development OpenID provider and has its bid drafted beforehand
(answers, prices per buying trust, declarations). Then, each starting at a
random moment within the same 10 seconds, it does what its browser does at
the deadline: opens the document library (GET), uploads a 1 MB PDF of
random bytes (multipart POST, encrypted into the document store), opens the
bid's documents task and attaches it (GET, POST), opens check your answers
and submits (GET, POST) and is sent to its receipt.

- p50-ms, p99-ms, max-ms: how long each supplier waited for those six
  requests together.
- submit-p50-ms, submit-p99-ms: the submit request alone, from sending it
  to the redirect to the receipt.
- lost: suppliers without a sealed bid afterwards (counted in the tender
  box); server-errors: responses with status 500 or above; errors:
  suppliers for whom any request failed or answered unexpectedly. All must
  be 0, or the benchmark fails.
- rush-s: from the first start to the last receipt.

**BenchmarkBidRush200** (internal/competition) is the same rush below the
HTTP layer, for comparison: the services called directly on PostgreSQL.
Each supplier, starting at a random moment within the same 10 seconds,
stores a 1 MB PDF in the encrypted document store, attaches it to a
complete bid, saves the bid's working copy and submits it into the sealed
tender box.

- p50-ms, p99-ms, max-ms: how long each supplier waited for the document,
  the draft and the submission together.
- lost: bids expected less bids sealed; errors: submissions that failed.
  Both must be 0, or the benchmark fails.
- rush-s: from the first start to the last receipt.

**BenchmarkExitDashboardNational** (internal/web) is the national
programme's exit dashboard through the HTTP server on PostgreSQL, signed in
as the national programme viewer, over the national data set: every open
trust in England, the 765 demo deployments with eight weeks of snapshots,
and 5,000 contracts. It makes 300 requests one after another, after one to
warm up; each computes every deployment's rating and renders the charts,
tables and first page of the drill-down.

- p50-ms, p99-ms, max-ms: the time of one request. The p99 must stay under
  100 ms.

**BenchmarkImport765** (internal/exit) imports 765 deployments from CSV
(every row checked, one transaction), on SQLite and PostgreSQL.`

func render(w io.Writer, r *run, commands []string, m machine) {
	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "Written by `cmd/benchreport` from the benchmark output on %s; do not edit by hand, run the command below again.\n\n", m.Date)
	fmt.Fprintf(w, "## Command\n\n```sh\n%s\n```\n\n", strings.Join(commands, "\n"))
	fmt.Fprintf(w, "## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(w, "| Date | %s |\n| Go | %s |\n| OS/arch | %s |\n| CPU | %s |\n| Logical CPUs | %d |\n| Temporary folder (where the store and dd wrote) | `%s` |\n\n",
		m.Date, m.Go, m.OSArch, mdCell(m.CPU), m.Cores, m.TempDir)

	fmt.Fprintf(w, "## Targets\n\nFrom the requirements: a 1 GiB upload stored with peak memory growth under 64 MiB, at no less than half the speed of `dd` writing the same bytes to the same disk, measured in the same run; 200 suppliers bidding with a 1 MB document within the same 10 seconds with no bid lost and no server error, latency recorded; and the national exit dashboard answering with p99 under 100 ms on the national data set. With several runs the worst counts.\n\n")
	fmt.Fprintf(w, "| Target | Required | Measured | Result |\n|---|---|---|---|\n")
	for _, o := range check(r) {
		what := o.What
		if o.Info {
			what += " (also checked)"
		}
		verdict := o.Verdict
		if verdict == "met" || verdict == "NOT met" {
			verdict = "**" + verdict + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdCell(what), o.Need, mdCell(o.Measured), verdict)
	}

	fmt.Fprintf(w, "\n## What is measured\n\n%s\n\n## Results\n", measured)
	// One table per benchmark (package and name), one column per run.
	type group struct {
		pkg, name string
		runs      []*result
	}
	var groups []*group
	find := func(pkg, name string) *group {
		for _, g := range groups {
			if g.pkg == pkg && g.name == name {
				return g
			}
		}
		g := &group{pkg: pkg, name: name}
		groups = append(groups, g)
		return g
	}
	for _, res := range r.Results {
		g := find(res.Pkg, res.Name)
		g.runs = append(g.runs, res)
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n### %s\n\n", g.name)
		if g.pkg != "" {
			fmt.Fprintf(w, "Package `%s`.\n\n", g.pkg)
		}
		var units []string
		for _, res := range g.runs {
			for _, mt := range res.Metrics {
				if !contains(units, mt.Unit) {
					units = append(units, mt.Unit)
				}
			}
		}
		fmt.Fprintf(w, "| Metric |")
		for i := range g.runs {
			fmt.Fprintf(w, " Run %d |", i+1)
		}
		fmt.Fprintf(w, "\n|---|%s\n| iterations |", strings.Repeat("---:|", len(g.runs)))
		for _, res := range g.runs {
			fmt.Fprintf(w, " %d |", res.N)
		}
		fmt.Fprintln(w)
		for _, unit := range units {
			fmt.Fprintf(w, "| %s |", mdCell(unit))
			for _, res := range g.runs {
				if mt, ok := res.metric(unit); ok {
					fmt.Fprintf(w, " %s |", mt.Text)
				} else {
					fmt.Fprintf(w, " – |")
				}
			}
			fmt.Fprintln(w)
		}
		for i, res := range g.runs {
			if len(res.Log) == 0 {
				continue
			}
			fmt.Fprintf(w, "\nLog of run %d:\n\n```text\n%s\n```\n", i+1, strings.Join(res.Log, "\n"))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mdCell keeps a value from breaking a Markdown table.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// writeFile replaces path with data, or leaves it alone on failure.
func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // the file is removed unused; the write error is the one to report
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		_ = f.Close() // the file is removed unused; the chmod error is the one to report
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

type commandList []string

func (c *commandList) String() string     { return strings.Join(*c, "\n") }
func (c *commandList) Set(s string) error { *c = append(*c, s); return nil }

func main() {
	var commands commandList
	out := flag.String("o", "", "write the report to this file (default: standard output)")
	strict := flag.Bool("strict", false, "exit with status 2 when a target is not met")
	flag.Var(&commands, "command", "the command that produced the input, as it should be shown (repeat for several lines)")
	flag.Parse()
	if err := mainErr(os.Stdin, *out, commands, *strict); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		if errors.Is(err, errTargetMissed) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errTargetMissed = errors.New("a target was not met")

func mainErr(in io.Reader, out string, commands []string, strict bool) error {
	r, err := parse(in)
	if err != nil {
		return fmt.Errorf("read benchmark output: %w", err)
	}
	if len(r.Failures) > 0 {
		return fmt.Errorf("the benchmark run failed, so no report was written:\n%s", strings.Join(r.Failures, "\n"))
	}
	if len(r.Results) == 0 {
		return errors.New("no benchmark results in the input (expected lines like \"BenchmarkX-2  10  123 ns/op\"), so no report was written")
	}
	if len(commands) == 0 {
		commands = []string{"go test -run '^$' -bench . ./..."}
	}
	var sb strings.Builder
	render(&sb, r, commands, thisMachine(r, time.Now()))
	if out == "" {
		_, err = io.WriteString(os.Stdout, sb.String())
	} else {
		err = writeFile(out, []byte(sb.String()))
	}
	if err != nil {
		return err
	}
	missed := 0
	for _, o := range check(r) {
		fmt.Fprintf(os.Stderr, "benchreport: %s: %s (%s, need %s)\n", o.Unit, o.Verdict, o.Measured, o.Need)
		if o.Verdict == "NOT met" && !o.Info {
			missed++
		}
	}
	if strict && missed > 0 {
		return errTargetMissed
	}
	return nil
}
