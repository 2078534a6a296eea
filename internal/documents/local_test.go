package documents

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

func readObject(t *testing.T, l *Local, key string) []byte {
	t.Helper()
	rc, err := l.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listed(t *testing.T, l *Local) map[string]time.Time {
	t.Helper()
	got := map[string]time.Time{}
	if err := l.List(context.Background(), func(key string, modified time.Time) error {
		got[key] = modified
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
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

func TestLocalPutOpenDeleteList(t *testing.T) {
	l := newTestLocal(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Second)

	objects := map[string][]byte{
		"0b7f4a2e-1111-4c6e-9d55-0123456789ab": []byte("tender pack"),
		"0bAAAAAA":                             {},
		"ffffffff-big":                         randomBytes(t, 3<<20+5),
	}
	for key, content := range objects {
		n, err := l.Put(ctx, key, bytes.NewReader(content))
		if err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
		if n != int64(len(content)) {
			t.Errorf("Put %s wrote %d bytes, want %d", key, n, len(content))
		}
	}
	for key, content := range objects {
		if got := readObject(t, l, key); !bytes.Equal(got, content) {
			t.Errorf("Open %s: %d bytes differ", key, len(got))
		}
		info, err := os.Stat(filepath.Join(l.Root, "objects", key[:2], key))
		if err != nil {
			t.Fatalf("object %s not at objects/%s/: %v", key, key[:2], err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("object %s mode %v, want 0600", key, info.Mode().Perm())
		}
	}

	got := listed(t, l)
	if len(got) != len(objects) {
		t.Errorf("List gave %v, want the %d stored keys", got, len(objects))
	}
	for key := range objects {
		mod, ok := got[key]
		if !ok {
			t.Errorf("List missed %s", key)
		} else if mod.Before(start) || mod.After(time.Now().Add(time.Second)) {
			t.Errorf("List gave %s modified %v", key, mod)
		}
	}

	// An error from fn stops the listing and comes back.
	stop := errors.New("stop")
	calls := 0
	if err := l.List(ctx, func(string, time.Time) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with a failing fn: err %v after %d calls", err, calls)
	}

	if err := l.Delete(ctx, "0bAAAAAA"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Open(ctx, "0bAAAAAA"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Open after Delete: err = %v, want ErrObjectNotFound", err)
	}
	if err := l.Delete(ctx, "0bAAAAAA"); err != nil {
		t.Errorf("Delete of an absent object: %v", err)
	}
	if _, err := l.Open(ctx, "neverstored"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Open of a missing key: err = %v, want ErrObjectNotFound", err)
	}
	if _, ok := listed(t, l)["0bAAAAAA"]; ok {
		t.Error("List still shows a deleted object")
	}
	if p := partialFiles(t, l); len(p) != 0 {
		t.Errorf("partial files left after successful Puts: %v", p)
	}
}

func TestLocalInvalidKeys(t *testing.T) {
	l := newTestLocal(t)
	ctx := context.Background()
	bad := []string{"", "../x", "a/b", "../../../../etc/passwd", "short", "abcdefg",
		strings.Repeat("a", 129), "abcd.efgh", "abcd efgh", "abcd_efgh", "..abcdefgh", "abcdefgh\x00",
		`abcd\efgh`, "abcdéfgh"}
	for _, key := range bad {
		if _, err := l.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := l.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Open(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if err := l.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q): err = %v, want ErrInvalidKey", key, err)
		}
	}
	for _, key := range []string{"abcdefgh", strings.Repeat("Z", 128), "--------", "0b7f4a2e-1111-4c6e-9d55-0123456789ab"} {
		if !ValidKey(key) {
			t.Errorf("ValidKey(%q) = false", key)
		}
	}
	if p := partialFiles(t, l); len(p) != 0 {
		t.Errorf("refused keys left partial files: %v", p)
	}
	if got := listed(t, l); len(got) != 0 {
		t.Errorf("refused keys stored objects: %v", got)
	}
}

func TestLocalFailingReader(t *testing.T) {
	l := newTestLocal(t)
	broken := errors.New("client went away")
	r := &failingReader{r: bytes.NewReader(randomBytes(t, 8<<20)), n: 3<<20 + 17, err: broken}
	n, err := l.Put(context.Background(), "halfway-1", r)
	if !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	if n != 3<<20+17 {
		t.Errorf("Put reported %d bytes", n)
	}
	if _, err := l.Open(context.Background(), "halfway-1"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("object exists after a failed Put: %v", err)
	}
	if p := partialFiles(t, l); len(p) != 0 {
		t.Errorf("partial files left: %v", p)
	}
}

// TestLocalReaderErrorTypes checks a caller's own error type survives Put,
// as the upload pipeline needs to tell "file too large" from a disk error.
func TestLocalReaderErrorTypes(t *testing.T) {
	l := newTestLocal(t)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("some bytes"))
		pw.CloseWithError(&os.PathError{Op: "limit", Path: "upload", Err: os.ErrInvalid})
	}()
	_, err := l.Put(context.Background(), "typed-err", pr)
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "limit" {
		t.Fatalf("err = %v, want the reader's *os.PathError", err)
	}
}

// cancellingReader produces data forever and cancels its context after
// limit bytes, as a request whose client disconnects mid-upload.
type cancellingReader struct {
	cancel context.CancelFunc
	limit  int
	n      int
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	c.n += len(p)
	if c.n >= c.limit {
		c.cancel()
	}
	return len(p), nil
}

func TestLocalCancelledMidCopy(t *testing.T) {
	l := newTestLocal(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancellingReader{cancel: cancel, limit: 5 << 20}
	done := make(chan error, 1)
	go func() {
		_, err := l.Put(ctx, "cancelled-1", r)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Put kept copying after its context was cancelled")
	}
	if r.n > 8<<20 {
		t.Errorf("Put read %d MiB after cancellation at 5 MiB", r.n>>20)
	}
	if _, err := l.Open(context.Background(), "cancelled-1"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("object exists after a cancelled Put: %v", err)
	}
	if p := partialFiles(t, l); len(p) != 0 {
		t.Errorf("partial files left: %v", p)
	}

	// An already-cancelled context stores nothing at all.
	if _, err := l.Put(ctx, "cancelled-2", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: err = %v", err)
	}
	if got := listed(t, l); len(got) != 0 {
		t.Errorf("objects stored: %v", got)
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

// TestLocalCleanPartialDuringPut shows a Put whose partial file is cleaned
// away fails rather than publishing a missing or incomplete object.
func TestLocalCleanPartialDuringPut(t *testing.T) {
	l := newTestLocal(t)
	ctx := context.Background()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := l.Put(ctx, "cleaned-away", pr)
		done <- err
	}()
	if _, err := pw.Write([]byte("first chunk")); err != nil {
		t.Fatal(err)
	}
	if n, err := l.CleanPartial(ctx, 0); err != nil || n != 1 {
		t.Fatalf("CleanPartial = %d, %v", n, err)
	}
	_, _ = pw.Write([]byte("second chunk"))
	pw.Close()
	if err := <-done; err == nil {
		t.Fatal("Put succeeded although its partial file was removed")
	}
	if _, err := l.Open(ctx, "cleaned-away"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("object exists: %v", err)
	}
}

func TestLocalReplaceIsAtomic(t *testing.T) {
	l := newTestLocal(t)
	ctx := context.Background()
	oldContent := randomBytes(t, 2<<20)
	if _, err := l.Put(ctx, "replaced", bytes.NewReader(oldContent)); err != nil {
		t.Fatal(err)
	}
	// A reader that opened the old object keeps reading all of it.
	rc, err := l.Open(ctx, "replaced")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}

	// While the new content streams in, the old object is still whole.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := l.Put(ctx, "replaced", pr)
		done <- err
	}()
	if _, err := pw.Write([]byte("new ")); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, l, "replaced"); !bytes.Equal(got, oldContent) {
		t.Error("the old object changed while its replacement was being written")
	}
	if _, err := pw.Write([]byte("content")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, l, "replaced"); string(got) != "new content" {
		t.Errorf("after replacing: %q", got)
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), oldContent) {
		t.Error("a reader of the old object saw the new one")
	}
	if got := listed(t, l); len(got) != 1 {
		t.Errorf("List after replacing: %v", got)
	}
}

func TestLocalListSkipsPartial(t *testing.T) {
	l := newTestLocal(t)
	ctx := context.Background()
	if _, err := l.Put(ctx, "finished", strings.NewReader("done")); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := l.Put(ctx, "inprogress", pr)
		done <- err
	}()
	if _, err := pw.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	// Something that Put never writes: a stray file and a misplaced key.
	if err := os.WriteFile(filepath.Join(l.Root, "objects", "stray.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(l.Root, "objects", "zz"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.Root, "objects", "zz", "misplaced"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	if p := partialFiles(t, l); len(p) != 1 {
		t.Fatalf("want one partial file while Put runs, have %v", p)
	}
	got := listed(t, l)
	if _, ok := got["finished"]; !ok || len(got) != 1 {
		t.Errorf("List = %v, want only the finished object", got)
	}
	pw.CloseWithError(errors.New("abandoned"))
	if err := <-done; err == nil {
		t.Fatal("abandoned Put succeeded")
	}
}

func TestLocalCancelledList(t *testing.T) {
	l := newTestLocal(t)
	for i := range 3 {
		if _, err := l.Put(context.Background(), fmt.Sprintf("object-%d", i), strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := l.List(ctx, func(string, time.Time) error { calls++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("List: err %v after %d calls, want context.Canceled after 1", err, calls)
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
