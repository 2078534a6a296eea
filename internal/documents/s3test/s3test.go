// Package s3test runs a real S3 server for tests: versitygw, an S3 gateway
// that stores buckets as folders, started on a free loopback port over a
// temporary folder. Tests of the S3 document backend talk to it exactly as
// the portal talks to AWS S3 or any other S3-compatible store.
package s3test

import (
	"bytes"
	"context"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/nhsprocure/portal/internal/documents"
)

// Install is the command that installs the server (`make test` runs it).
const Install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Bucket is the bucket Start creates.
const Bucket = "portal-documents"

const (
	accessKey = "portal-test-access"
	secretKey = "portal-test-secret-key"
	region    = "us-east-1"
)

// Start runs a versitygw server for the test, with one empty bucket
// (Bucket), and returns the configuration that reaches it. The server and
// its folder are removed when the test ends.
//
// When versitygw is not installed the test is skipped with the command that
// installs it, except under CI=true, where it fails: CI must never pass by
// skipping the S3 tests.
func Start(t testing.TB) documents.S3Config {
	t.Helper()
	bin, ok := binary()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatalf("versitygw is not installed (on PATH or in GOPATH/bin); install it with: %s", Install)
		}
		t.Skipf("versitygw is not installed; install it with: %s", Install)
	}
	root := t.TempDir()
	addr := freeAddr(t)
	out := &syncBuffer{}
	// #nosec G204 -- the binary found above and arguments made here
	cmd := exec.Command(bin, "--access", accessKey, "--secret", secretKey, "--region", region,
		"--port", addr, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	cfg := documents.S3Config{Endpoint: addr, Region: region, Bucket: Bucket, AccessKey: accessKey, SecretKey: secretKey}
	client := Client(t, cfg)
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		probe, cancel := context.WithTimeout(ctx, time.Second)
		_, err := client.ListBuckets(probe)
		cancel()
		if err == nil {
			break
		}
		select {
		case werr := <-exited:
			exited <- werr // for the clean-up
			t.Fatalf("versitygw exited (%v) before answering:\n%s", werr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s within 20s (%v):\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := client.MakeBucket(ctx, Bucket, minio.MakeBucketOptions{Region: region}); err != nil {
		t.Fatalf("create bucket %s: %v\n%s", Bucket, err, out.String())
	}
	return cfg
}

// Client returns a plain S3 client for cfg, for tests that need to reach
// behind the backend (to leave an upload incomplete, say). It sends each
// request once: a test server that fails should fail the test at once.
func Client(t testing.TB, cfg documents.S3Config) *minio.Client {
	t.Helper()
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.UseSSL,
		Region:     cfg.Region,
		MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// binary finds versitygw on PATH, else where `go install` puts it.
func binary() (string, bool) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, true
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gopath := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gopath, "bin"))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "versitygw")
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 { // #nosec G703 -- a test helper looking for the versitygw binary in the Go bin folders
			return p, true
		}
	}
	return "", false
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// syncBuffer collects the server's output, written by the process's two
// pipes' copiers while a failing test may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
