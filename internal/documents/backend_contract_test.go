package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// BackendHarness is what RunBackendContract needs to know of one Backend
// implementation. It is exported (from a test file) so that the S3 tests,
// which live in package documents_test to use s3test, run the same
// contract as the local store's.
type BackendHarness struct {
	// New returns an empty backend of its own.
	New func(t *testing.T) Backend
	// Leftovers names what Puts in progress or interrupted have left in b
	// (partial files, incomplete multipart uploads).
	Leftovers func(t *testing.T, b Backend) []string
	// Stray, when set, stores things beside the objects that Put can never
	// have written (bad names, other folders), which List must skip.
	Stray func(t *testing.T, b Backend)
}

// RunBackendContract checks the behaviour Backend promises, whatever the
// storage behind it.
func RunBackendContract(t *testing.T, h BackendHarness) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, h BackendHarness, b Backend)
	}{
		{"PutOpenDeleteList", contractPutOpenDeleteList},
		{"InvalidKeys", contractInvalidKeys},
		{"FailingReader", contractFailingReader},
		{"ReaderErrorTypes", contractReaderErrorTypes},
		{"CancelledMidCopy", contractCancelledMidCopy},
		{"ReplaceIsAtomic", contractReplaceIsAtomic},
		{"ListSkipsPartial", contractListSkipsPartial},
		{"CancelledList", contractCancelledList},
		{"CleanPartialDuringPut", contractCleanPartialDuringPut},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, h, h.New(t)) })
	}
}

func readObject(t *testing.T, b Backend, key string) []byte {
	t.Helper()
	rc, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func listed(t *testing.T, b Backend) map[string]time.Time {
	t.Helper()
	got := map[string]time.Time{}
	if err := b.List(context.Background(), func(key string, modified time.Time) error {
		got[key] = modified
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func contractPutOpenDeleteList(t *testing.T, h BackendHarness, b Backend) {
	ctx := context.Background()
	// Object stores may keep whole seconds only.
	start := time.Now().Add(-2 * time.Second)

	objects := map[string][]byte{
		"0b7f4a2e-1111-4c6e-9d55-0123456789ab": []byte("tender pack"),
		"0bAAAAAA":                             {},
		"ffffffff-big":                         randomBytes(t, 3<<20+5),
	}
	for key, content := range objects {
		n, err := b.Put(ctx, key, bytes.NewReader(content))
		if err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
		if n != int64(len(content)) {
			t.Errorf("Put %s wrote %d bytes, want %d", key, n, len(content))
		}
	}
	for key, content := range objects {
		if got := readObject(t, b, key); !bytes.Equal(got, content) {
			t.Errorf("Open %s: %d bytes, want the %d stored", key, len(got), len(content))
		}
	}

	got := listed(t, b)
	if len(got) != len(objects) {
		t.Errorf("List gave %v, want the %d stored keys", got, len(objects))
	}
	for key := range objects {
		mod, ok := got[key]
		if !ok {
			t.Errorf("List missed %s", key)
		} else if mod.Before(start) || mod.After(time.Now().Add(time.Second)) {
			t.Errorf("List gave %s modified %v, want between %v and now", key, mod, start)
		}
	}

	// An error from fn stops the listing and comes back.
	stop := errors.New("stop")
	calls := 0
	if err := b.List(ctx, func(string, time.Time) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with a failing fn: err %v after %d calls", err, calls)
	}

	if err := b.Delete(ctx, "0bAAAAAA"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, "0bAAAAAA"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Open after Delete: err = %v, want ErrObjectNotFound", err)
	}
	if err := b.Delete(ctx, "0bAAAAAA"); err != nil {
		t.Errorf("Delete of an absent object: %v", err)
	}
	if err := b.Delete(ctx, "neverstored"); err != nil {
		t.Errorf("Delete of a key never stored: %v", err)
	}
	if _, err := b.Open(ctx, "neverstored"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("Open of a missing key: err = %v, want ErrObjectNotFound", err)
	}
	if _, ok := listed(t, b)["0bAAAAAA"]; ok {
		t.Error("List still shows a deleted object")
	}
	if p := h.Leftovers(t, b); len(p) != 0 {
		t.Errorf("leftovers after successful Puts: %v", p)
	}
}

func contractInvalidKeys(t *testing.T, h BackendHarness, b Backend) {
	ctx := context.Background()
	bad := []string{"", "../x", "a/b", "../../../../etc/passwd", "short", "abcdefg",
		strings.Repeat("a", 129), "abcd.efgh", "abcd efgh", "abcd_efgh", "..abcdefgh", "abcdefgh\x00",
		`abcd\efgh`, "abcdéfgh"}
	for _, key := range bad {
		if _, err := b.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := b.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Open(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if err := b.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q): err = %v, want ErrInvalidKey", key, err)
		}
	}
	if p := h.Leftovers(t, b); len(p) != 0 {
		t.Errorf("refused keys left partial writes: %v", p)
	}
	if got := listed(t, b); len(got) != 0 {
		t.Errorf("refused keys stored objects: %v", got)
	}
	// The extremes of what is valid are stored and listed as given.
	good := []string{"abcdefgh", strings.Repeat("Z", MaxKeyLen), "--------", "0b7f4a2e-1111-4c6e-9d55-0123456789ab"}
	for _, key := range good {
		if !ValidKey(key) {
			t.Fatalf("ValidKey(%q) = false", key)
		}
		if _, err := b.Put(ctx, key, strings.NewReader(key)); err != nil {
			t.Errorf("Put(%q): %v", key, err)
		} else if got := readObject(t, b, key); string(got) != key {
			t.Errorf("Open(%q) = %q", key, got)
		}
	}
	if got := listed(t, b); len(got) != len(good) {
		t.Errorf("List = %v, want the %d valid keys", got, len(good))
	}
}

func contractFailingReader(t *testing.T, h BackendHarness, b Backend) {
	broken := errors.New("client went away")
	r := &failingReader{r: bytes.NewReader(randomBytes(t, 8<<20)), n: 3<<20 + 17, err: broken}
	n, err := b.Put(context.Background(), "halfway-1", r)
	if !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	if n != 3<<20+17 {
		t.Errorf("Put reported %d bytes, want the %d read", n, 3<<20+17)
	}
	if _, err := b.Open(context.Background(), "halfway-1"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("object exists after a failed Put: %v", err)
	}
	if p := h.Leftovers(t, b); len(p) != 0 {
		t.Errorf("leftovers after a failed Put: %v", p)
	}
}

// contractReaderErrorTypes checks a caller's own error type survives Put,
// as the upload pipeline needs to tell "file too large" from a disk error.
func contractReaderErrorTypes(t *testing.T, _ BackendHarness, b Backend) {
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("some bytes"))
		pw.CloseWithError(&os.PathError{Op: "limit", Path: "upload", Err: os.ErrInvalid})
	}()
	_, err := b.Put(context.Background(), "typed-err", pr)
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

func contractCancelledMidCopy(t *testing.T, h BackendHarness, b Backend) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancellingReader{cancel: cancel, limit: 5 << 20}
	done := make(chan error, 1)
	go func() {
		_, err := b.Put(ctx, "cancelled-1", r)
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
	if _, err := b.Open(context.Background(), "cancelled-1"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("object exists after a cancelled Put: %v", err)
	}
	if p := h.Leftovers(t, b); len(p) != 0 {
		t.Errorf("leftovers after a cancelled Put: %v", p)
	}

	// An already-cancelled context stores nothing at all.
	if _, err := b.Put(ctx, "cancelled-2", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: err = %v", err)
	}
	if got := listed(t, b); len(got) != 0 {
		t.Errorf("objects stored: %v", got)
	}
}

func contractReplaceIsAtomic(t *testing.T, h BackendHarness, b Backend) {
	ctx := context.Background()
	oldContent := randomBytes(t, 2<<20)
	if _, err := b.Put(ctx, "replaced", bytes.NewReader(oldContent)); err != nil {
		t.Fatal(err)
	}
	// A reader that opened the old object keeps reading all of it.
	rc, err := b.Open(ctx, "replaced")
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
		_, err := b.Put(ctx, "replaced", pr)
		done <- err
	}()
	if _, err := pw.Write([]byte("new ")); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, b, "replaced"); !bytes.Equal(got, oldContent) {
		t.Error("the old object changed while its replacement was being written")
	}
	if _, err := pw.Write([]byte("content")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, b, "replaced"); string(got) != "new content" {
		t.Errorf("after replacing: %q", got)
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), oldContent) {
		t.Error("a reader of the old object saw the new one")
	}
	if got := listed(t, b); len(got) != 1 {
		t.Errorf("List after replacing: %v", got)
	}
	if p := h.Leftovers(t, b); len(p) != 0 {
		t.Errorf("leftovers after replacing: %v", p)
	}
}

func contractListSkipsPartial(t *testing.T, h BackendHarness, b Backend) {
	ctx := context.Background()
	if _, err := b.Put(ctx, "finished", strings.NewReader("done")); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := b.Put(ctx, "inprogress", pr)
		done <- err
	}()
	if _, err := pw.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if h.Stray != nil {
		h.Stray(t, b)
	}
	if p := h.Leftovers(t, b); len(p) != 1 {
		t.Fatalf("want one partial write while Put runs, have %v", p)
	}
	got := listed(t, b)
	if _, ok := got["finished"]; !ok || len(got) != 1 {
		t.Errorf("List = %v, want only the finished object", got)
	}
	pw.CloseWithError(errors.New("abandoned"))
	if err := <-done; err == nil {
		t.Fatal("abandoned Put succeeded")
	}
}

func contractCancelledList(t *testing.T, _ BackendHarness, b Backend) {
	for i := range 3 {
		if _, err := b.Put(context.Background(), fmt.Sprintf("object-%d", i), strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := b.List(ctx, func(string, time.Time) error { calls++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("List: err %v after %d calls, want context.Canceled after 1", err, calls)
	}
}

// contractCleanPartialDuringPut shows a Put whose partial write is cleaned
// away fails rather than publishing a missing or incomplete object.
func contractCleanPartialDuringPut(t *testing.T, h BackendHarness, b Backend) {
	ctx := context.Background()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := b.Put(ctx, "cleaned-away", pr)
		done <- err
	}()
	if _, err := pw.Write([]byte("first chunk")); err != nil {
		t.Fatal(err)
	}
	if n, err := b.CleanPartial(ctx, 0); err != nil || n != 1 {
		t.Fatalf("CleanPartial = %d, %v; want the one Put in progress", n, err)
	}
	_, _ = pw.Write([]byte("second chunk"))
	pw.Close()
	if err := <-done; err == nil {
		t.Fatal("Put succeeded although its partial write was removed")
	}
	if _, err := b.Open(ctx, "cleaned-away"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("object exists: %v", err)
	}
	if p := h.Leftovers(t, b); len(p) != 0 {
		t.Errorf("leftovers: %v", p)
	}
}
