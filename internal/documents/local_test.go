package documents

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func newTestLocal(t *testing.T) *Local {
	t.Helper()
	l, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func partialFiles(t *testing.T, l *Local) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(l.Root, "partial"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestNewLocalFolders(t *testing.T) {
	root := filepath.Join(t.TempDir(), "docs")
	l, err := NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"objects", "partial"} {
		info, err := os.Stat(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		if !info.IsDir() || info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want a 0700 directory", dir, info.Mode())
		}
	}
	if !filepath.IsAbs(l.Root) {
		t.Errorf("Root %q is not absolute", l.Root)
	}
	if _, err := NewLocal(root); err != nil {
		t.Errorf("NewLocal on an existing store: %v", err)
	}
}

// TestLocalContract runs the behaviour every Backend promises on the local
// store; the tests below cover what is particular to it.
func TestLocalContract(t *testing.T) {
	RunBackendContract(t, BackendHarness{
		New:       func(t *testing.T) Backend { return newTestLocal(t) },
		Leftovers: func(t *testing.T, b Backend) []string { return partialFiles(t, b.(*Local)) },
		// Something that Put never writes: a stray file and a misplaced key.
		Stray: func(t *testing.T, b Backend) {
			objects := filepath.Join(b.(*Local).Root, "objects")
			if err := os.WriteFile(filepath.Join(objects, "stray.txt"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(objects, "zz"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(objects, "zz", "misplaced"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// TestLocalLayout: an object lives in the fan-out folder named by its key's
// first two characters, readable by the portal's user only.
func TestLocalLayout(t *testing.T) {
	l := newTestLocal(t)
	for _, key := range []string{"0b7f4a2e-1111-4c6e-9d55-0123456789ab", "ffffffff-big"} {
		if _, err := l.Put(context.Background(), key, strings.NewReader("tender pack")); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(l.Root, "objects", key[:2], key))
		if err != nil {
			t.Fatalf("object %s not at objects/%s/: %v", key, key[:2], err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("object %s mode %v, want 0600", key, info.Mode().Perm())
		}
	}
}

func TestLocalCleanPartial(t *testing.T) {
	l := newTestLocal(t)
	ctx := context.Background()
	partial := filepath.Join(l.Root, "partial")
	old := filepath.Join(partial, "orphan.123.part")
	fresh := filepath.Join(partial, "fresh.456.part")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("half an upload"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, twoHoursAgo, twoHoursAgo); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Put(ctx, "realobject", strings.NewReader("keep me")); err != nil {
		t.Fatal(err)
	}

	n, err := l.CleanPartial(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("CleanPartial removed %d files, want 1", n)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("the orphaned partial file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("the fresh partial file was removed")
	}
	if got := readObject(t, l, "realobject"); string(got) != "keep me" {
		t.Errorf("stored object changed: %q", got)
	}
	if n, err := l.CleanPartial(ctx, 0); err != nil || n != 1 {
		t.Errorf("CleanPartial(0) = %d, %v; want the fresh file removed too", n, err)
	}
	if got := listed(t, l); len(got) != 1 {
		t.Errorf("CleanPartial touched stored objects: %v", got)
	}
}

// slowEndless feeds a Put forever, a little at a time.
type slowEndless struct{}

func (slowEndless) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	p = p[:min(len(p), 4096)]
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestLocalCrashMidPut kills a process with SIGKILL in the middle of a Put:
// nothing is published, and the leftover is a partial file CleanPartial
// removes. The test re-runs its own binary as the process to kill.
func TestLocalCrashMidPut(t *testing.T) {
	if os.Getenv("DOCS_CRASH") == "1" {
		l := &Local{Root: os.Getenv("DOCS_CRASH_ROOT")}
		fmt.Println("putting")
		_, err := l.Put(context.Background(), "crashed-object", slowEndless{})
		fmt.Println("Put returned:", err) // never reached: killed first
		os.Exit(3)
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGKILL")
	}
	l := newTestLocal(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLocalCrashMidPut$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DOCS_CRASH=1", "DOCS_CRASH_ROOT="+l.Root)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "putting\n" {
		t.Fatalf("child said %q, %v", line, err)
	}

	// Wait until the copy is well under way.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var size int64
		if p := partialFiles(t, l); len(p) == 1 {
			if info, err := os.Stat(filepath.Join(l.Root, "partial", p[0])); err == nil {
				size = info.Size()
			}
		}
		if size >= 256<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child's Put did not get going (partial file %d bytes)", size)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", err)
	}

	ctx := context.Background()
	if _, err := l.Open(ctx, "crashed-object"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Open after the crash: err = %v, want ErrObjectNotFound", err)
	}
	if got := listed(t, l); len(got) != 0 {
		t.Errorf("List after the crash: %v", got)
	}
	if p := partialFiles(t, l); len(p) != 1 {
		t.Fatalf("want the one partial file the crash left, have %v", p)
	}
	n, err := l.CleanPartial(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("CleanPartial = %d, %v; want 1", n, err)
	}
	if p := partialFiles(t, l); len(p) != 0 {
		t.Errorf("partial files left: %v", p)
	}
}
