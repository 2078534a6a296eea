package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// startsPerOp is how many times one benchmark operation starts the portal,
// so one operation (-benchtime=1x) already gives a median.
const startsPerOp = 5

// BenchmarkStartup builds the portal binary and times `portal serve` from
// the moment the process is started to its first 200 from /readyz (the
// database answers and every migration is applied), on a loopback port, on
// SQLite and, when set, PostgreSQL. The database is migrated and holds the
// demo data already: a first start, untimed, did that. Each start is the
// development configuration, so it includes the idempotent check of the
// demo data and the built-in identity provider; the process is stopped
// with SIGTERM (untimed) before the next. It reports the slowest start of
// the run ("startup-ms") and the median ("startup-p50-ms"); ns/op is the
// mean of one start.
func BenchmarkStartup(b *testing.B) {
	bin := buildPortal(b)
	for _, kind := range storetest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			dsn := storetest.URL(b, kind)
			dataDir := b.TempDir()
			if _, err := startPortal(b, bin, dsn, dataDir); err != nil {
				b.Fatalf("first start (migrations and demo data): %v", err)
			}
			var starts []time.Duration
			b.ResetTimer()
			for b.Loop() {
				for range startsPerOp {
					took, err := startPortal(b, bin, dsn, dataDir)
					if err != nil {
						b.Fatal(err)
					}
					starts = append(starts, took)
				}
			}
			var total time.Duration
			for _, d := range starts {
				total += d
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(len(starts)), "ns/op")
			b.ReportMetric(domaintest.PercentileMS(starts, 1.00), "startup-ms")
			b.ReportMetric(domaintest.PercentileMS(starts, 0.50), "startup-p50-ms")
			b.Logf("%s: %d starts of portal serve to its first ready answer: %v", kind, len(starts), starts)
		})
	}
}

// buildPortal compiles this command into a temporary folder.
func buildPortal(b *testing.B) string {
	b.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skip("the go command is not on PATH: cannot build the portal")
	}
	bin := filepath.Join(b.TempDir(), "portal")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startPortal runs `portal serve` on dsn with a free loopback port, waits
// for /readyz to answer 200 and returns how long that took from starting
// the process, then stops the process with the timer stopped. It fails
// when the process exits or is not ready within 30 seconds, or does not
// stop cleanly within 30 seconds of SIGTERM.
func startPortal(b *testing.B, bin, dsn, dataDir string) (time.Duration, error) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = portalEnv(map[string]string{
		"PORTAL_ADDR": addr, "PORTAL_BASE_URL": "http://" + addr,
		"PORTAL_DATABASE_URL": dsn, "PORTAL_DATA_DIR": dataDir, "PORTAL_LOG_LEVEL": "warn",
	})
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	exited := make(chan error, 1)

	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start portal serve: %w", err)
	}
	go func() { exited <- cmd.Wait() }()
	err = waitReady("http://"+addr+"/readyz", exited)
	took := time.Since(began)
	b.StopTimer()
	defer b.StartTimer()
	if err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return 0, fmt.Errorf("%w; its output:\n%s", err, logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("stop portal serve: %w", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			return 0, fmt.Errorf("portal serve after SIGTERM: %w; its output:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return 0, fmt.Errorf("portal serve did not stop within 30 s of SIGTERM; its output:\n%s", logs.String())
	}
	return took, nil
}

// waitReady asks url every millisecond until it answers 200, the process
// exits (a value on exited) or 30 seconds pass.
func waitReady(url string, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("portal serve exited before it was ready: %v", err)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("portal serve was not ready within 30 s")
}

// portalEnv is this process's environment without any PORTAL_ variable,
// plus set: the portal sees only the configuration given here.
func portalEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTAL_") {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}
