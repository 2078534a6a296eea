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

func render(w io.Writer, r *run, commands []string, m machine) {
	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "Written by `cmd/benchreport` from the benchmark output on %s; do not edit by hand, run the command below again.\n\n", m.Date)
	fmt.Fprintf(w, "## Command\n\n```sh\n%s\n```\n\n", strings.Join(commands, "\n"))
	fmt.Fprintf(w, "## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(w, "| Date | %s |\n| Go | %s |\n| OS/arch | %s |\n| CPU | %s |\n| Logical CPUs | %d |\n| Temporary folder (where the store and dd wrote) | `%s` |\n\n",
		m.Date, m.Go, m.OSArch, mdCell(m.CPU), m.Cores, m.TempDir)

	fmt.Fprintf(w, "## Targets\n\n%s\n\n", targetsIntro)
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
