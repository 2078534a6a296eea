package documents

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tink-crypto/tink-go/v2/insecuresecretdataaccess"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/streamingaead/aesgcmhkdf"
)

// Segment geometry of AES256_GCM_HKDF_1MB: 1 MiB ciphertext segments with a
// 16-byte tag; the first also carries the 40-byte header.
const (
	segment      = 1 << 20
	firstPlain   = segment - 16 - (1 + 32 + 7)
	laterPlain   = segment - 16
	headerLength = 1 + 32 + 7
)

func testKeyring(t testing.TB) *Keyring {
	t.Helper()
	master := make([]byte, MasterKeySize)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	k, err := NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func encrypt(t testing.TB, k *Keyring, plain, associated []byte) (ciphertext, wrapped []byte) {
	t.Helper()
	var buf bytes.Buffer
	w, wrapped, err := k.Encrypt(&buf, associated)
	if err != nil {
		t.Fatal(err)
	}
	// Write in odd-sized pieces so segment boundaries fall mid-write.
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 300_007)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), wrapped
}

func decrypt(k *Keyring, ciphertext, wrapped, associated []byte) ([]byte, error) {
	r, err := k.Decrypt(bytes.NewReader(ciphertext), wrapped, associated)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	k := testKeyring(t)
	sizes := []int{0, 1, segment - 1, segment, segment + 1, 5 * segment,
		firstPlain - 1, firstPlain, firstPlain + 1, firstPlain + laterPlain, firstPlain + laterPlain + 1}
	for _, size := range sizes {
		plain := randomBytes(t, size)
		id := []byte("doc-" + string(rune('a'+size%26)))
		ct, wrapped := encrypt(t, k, plain, id)
		if size >= 16 && bytes.Contains(ct, plain[:min(size, 64)]) {
			t.Errorf("size %d: ciphertext contains the plaintext", size)
		}
		got, err := decrypt(k, ct, wrapped, id)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip gave %d different bytes", size, len(got))
		}
	}
}

func TestRoundTripSmallReads(t *testing.T) {
	k := testKeyring(t)
	plain := randomBytes(t, 2*segment+123)
	ct, wrapped := encrypt(t, k, plain, []byte("id"))
	r, err := k.Decrypt(bytes.NewReader(ct), wrapped, []byte("id"))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	p := make([]byte, 4093)
	for {
		n, err := r.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, plain) {
		t.Fatal("round trip with small reads differs")
	}
}

func TestEachEncryptionIsFresh(t *testing.T) {
	k := testKeyring(t)
	plain := []byte("the same tender pack twice")
	ct1, w1 := encrypt(t, k, plain, []byte("id"))
	ct2, w2 := encrypt(t, k, plain, []byte("id"))
	if bytes.Equal(ct1, ct2) || bytes.Equal(w1, w2) {
		t.Fatal("two encryptions of the same content are identical: data keys are not fresh")
	}
}

func TestEncryptWritesNothingUntilUsed(t *testing.T) {
	// The upload pipeline makes the pipe, calls Encrypt, and only then starts
	// the reader (the backend's Put): Encrypt must not block on the pipe.
	k := testKeyring(t)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var (
		w       io.WriteCloser
		wrapped []byte
		err     error
	)
	go func() {
		defer close(done)
		w, wrapped, err = k.Encrypt(pw, []byte("id"))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Encrypt blocked writing to a pipe nobody reads yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := w.Write([]byte("hello"))
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	r, err := k.Decrypt(pr, wrapped, []byte("id"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	k := testKeyring(t)
	ct, wrapped := encrypt(t, k, []byte("bid pricing"), []byte("id"))
	_, err := decrypt(testKeyring(t), ct, wrapped, []byte("id"))
	if err == nil {
		t.Fatal("decrypted with another master key")
	}
	if !errors.Is(err, ErrTampered) {
		t.Errorf("err = %v, want ErrTampered", err)
	}
}

func TestWrongAssociatedData(t *testing.T) {
	k := testKeyring(t)
	ct, wrapped := encrypt(t, k, []byte("bid pricing"), []byte("doc-1"))
	if _, err := decrypt(k, ct, wrapped, []byte("doc-2")); !errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v, want ErrTampered", err)
	}
	// Even with the key wrapping bypassed, the content itself is bound to
	// the document ID.
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), k.kek, keysetAssociatedData([]byte("doc-1")))
	if err != nil {
		t.Fatal(err)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sa.NewDecryptingReader(bytes.NewReader(ct), []byte("doc-2"))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Error("content decrypted under another document ID")
	}
	if _, err := k.Decrypt(bytes.NewReader(ct), wrapped, nil); err == nil {
		t.Error("Decrypt accepted empty associated data")
	}
	if _, _, err := k.Encrypt(io.Discard, nil); err == nil {
		t.Error("Encrypt accepted empty associated data")
	}
}

func TestTampering(t *testing.T) {
	k := testKeyring(t)
	id := []byte("doc-1")
	plain := randomBytes(t, 3*segment+777)
	ct, wrapped := encrypt(t, k, plain, id)

	other := randomBytes(t, len(plain))
	otherCT, otherWrapped := encrypt(t, k, other, []byte("doc-2"))

	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	cases := []struct {
		name    string
		ct      []byte
		wrapped []byte
	}{
		{"flipped header byte", flip(5), wrapped},
		{"flipped byte in first segment", flip(headerLength + 1000), wrapped},
		{"flipped byte in middle segment", flip(segment + 1000), wrapped},
		{"flipped byte in last segment", flip(len(ct) - 100), wrapped},
		{"flipped last tag byte", flip(len(ct) - 1), wrapped},
		{"truncated mid-segment", ct[:len(ct)-10], wrapped},
		{"truncated at segment boundary", ct[:3*segment], wrapped},
		{"truncated to the header", ct[:headerLength], wrapped},
		{"truncated to nothing", nil, wrapped},
		{"appended bytes", append(bytes.Clone(ct), 0, 1, 2), wrapped},
		{"appended a whole segment", append(bytes.Clone(ct), ct[segment:2*segment]...), wrapped},
		{"segments swapped", append(append(append(bytes.Clone(ct[:segment]), ct[2*segment:3*segment]...), ct[segment:2*segment]...), ct[3*segment:]...), wrapped},
		{"other document's file", otherCT, wrapped},
		{"other document's file and key", otherCT, otherWrapped},
		{"flipped wrapped key", ct, func() []byte { w := bytes.Clone(wrapped); w[len(w)-3] ^= 1; return w }()},
		{"empty wrapped key", ct, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := decrypt(k, c.ct, c.wrapped, id)
			if err == nil {
				t.Fatalf("tampered document decrypted (%d bytes)", len(got))
			}
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("err = %v, want ErrTampered", err)
			}
		})
	}

	// Damage is found when the reader reaches it, not before: everything
	// before the damaged segment was authentic and is returned.
	r, err := k.Decrypt(bytes.NewReader(flip(2*segment+10)), wrapped, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v, want ErrTampered", err)
	}
	if len(got) != firstPlain+laterPlain || !bytes.Equal(got, plain[:len(got)]) {
		t.Errorf("read %d authentic bytes before the damage, want %d", len(got), firstPlain+laterPlain)
	}
	// The error sticks.
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, ErrTampered) {
		t.Errorf("second Read err = %v, want ErrTampered", err)
	}
}

// failingReader fails with err after n bytes, like a disk error or a
// dropped upload.
type failingReader struct {
	r   io.Reader
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestSourceErrorIsNotTampering(t *testing.T) {
	k := testKeyring(t)
	plain := randomBytes(t, 3*segment)
	ct, wrapped := encrypt(t, k, plain, []byte("id"))
	diskErr := errors.New("disk on fire")
	for _, at := range []int{0, 10, 2*segment + 5} {
		r, err := k.Decrypt(&failingReader{r: bytes.NewReader(ct), n: at, err: diskErr}, wrapped, []byte("id"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		if !errors.Is(err, diskErr) || errors.Is(err, ErrTampered) {
			t.Errorf("failing at %d: err = %v, want the source error and not ErrTampered", at, err)
		}
	}
}

func TestWrappedKeyHidesDataKey(t *testing.T) {
	k := testKeyring(t)
	id := []byte("doc-1")
	_, wrapped := encrypt(t, k, []byte("x"), id)

	// Unwrap with the master key (as Decrypt does) to learn the data key.
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), k.kek, keysetAssociatedData(id))
	if err != nil {
		t.Fatal(err)
	}
	entry, err := h.Primary()
	if err != nil {
		t.Fatal(err)
	}
	dk, ok := entry.Key().(*aesgcmhkdf.Key)
	if !ok {
		t.Fatalf("data key is %T, want AES-GCM-HKDF streaming", entry.Key())
	}
	if p := dk.Parameters().(*aesgcmhkdf.Parameters); p.KeySizeInBytes() != 32 || p.SegmentSizeInBytes() != segment {
		t.Errorf("data key parameters = %d-byte key, %d-byte segments; want 32, 1 MiB", p.KeySizeInBytes(), p.SegmentSizeInBytes())
	}
	raw := dk.KeyBytes().Data(insecuresecretdataaccess.Token{})
	if len(raw) != 32 {
		t.Fatalf("data key is %d bytes", len(raw))
	}
	for i := 0; i+8 <= len(raw); i++ {
		if bytes.Contains(wrapped, raw[i:i+8]) {
			t.Fatal("wrapped key contains data key bytes in the clear")
		}
	}
	// Without the master key the wrapped key cannot be read as a keyset.
	if _, err := keyset.ReadWithNoSecrets(keyset.NewBinaryReader(bytes.NewReader(wrapped))); err == nil {
		t.Error("wrapped key parsed as a cleartext keyset")
	}
	if _, err := keyset.NewJSONReader(bytes.NewReader(wrapped)).Read(); err == nil {
		t.Error("wrapped key parsed as a JSON keyset")
	}
	if len(wrapped) > 256 {
		t.Errorf("wrapped key is %d bytes; expected a small value for a database column", len(wrapped))
	}
}

func TestNewKeyringSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewKeyring(make([]byte, n)); err == nil {
			t.Errorf("NewKeyring accepted a %d-byte key", n)
		}
	}
}

func TestKeyringCopiesMasterKey(t *testing.T) {
	master := randomBytes(t, 32)
	k, err := NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	ct, wrapped := encrypt(t, k, []byte("x"), []byte("id"))
	clear(master)
	if _, err := decrypt(k, ct, wrapped, []byte("id")); err != nil {
		t.Fatalf("wiping the caller's copy broke the keyring: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	k := testKeyring(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			plain := randomBytes(t, 100_000+i)
			id := []byte{byte(i), 'x'}
			var buf bytes.Buffer
			w, wrapped, err := k.Encrypt(&buf, id)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = w.Write(plain)
			_ = w.Close()
			got, err := decrypt(k, buf.Bytes(), wrapped, id)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("goroutine %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// generator yields n pseudo-random-looking bytes without holding them.
type generator struct{ n, i int64 }

func (g *generator) Read(p []byte) (int, error) {
	if g.i >= g.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.n-g.i)]
	for j := range p {
		p[j] = byte(g.i + int64(j)*7)
	}
	g.i += int64(len(p))
	return len(p), nil
}

// heapWatcher samples the heap while a stream runs.
type heapWatcher struct {
	r     io.Reader
	calls int
	peak  uint64
}

func (h *heapWatcher) Read(p []byte) (int, error) {
	h.calls++
	if h.calls%64 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapInuse)
	}
	return h.r.Read(p)
}

func TestEncryptStreamsInConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 256 MiB")
	}
	k := testKeyring(t)
	const size = 256 << 20
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var sink countingWriter
	w, wrapped, err := k.Encrypt(&sink, []byte("big"))
	if err != nil {
		t.Fatal(err)
	}
	src := &heapWatcher{r: &generator{n: size}}
	if _, err := io.CopyBuffer(w, src, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if growth := int64(src.peak) - int64(before.HeapInuse); growth > 16<<20 {
		t.Errorf("heap grew by %d MiB while encrypting 256 MiB; want < 16 MiB", growth>>20)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("encrypting 256 MiB allocated %d MiB in total; it should reuse its segment buffers", alloc>>20)
	}
	if sink.n <= size || len(wrapped) == 0 {
		t.Errorf("ciphertext %d bytes for %d plain", sink.n, size)
	}
	t.Logf("ciphertext %d bytes, heap peak +%d KiB, allocated %d KiB", sink.n, (int64(src.peak)-int64(before.HeapInuse))>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func TestDecryptStreamsInConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 128 MiB")
	}
	k := testKeyring(t)
	const size = 128 << 20
	// Encrypt into a pipe and decrypt from its other end, so neither side
	// ever holds the whole ciphertext.
	pr, pw := io.Pipe()
	w, wrapped, err := k.Encrypt(pw, []byte("big"))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := io.Copy(w, &generator{n: size})
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := k.Decrypt(pr, wrapped, []byte("big"))
	if err != nil {
		t.Fatal(err)
	}
	src := &heapWatcher{r: r}
	n, err := io.CopyBuffer(io.Discard, src, make([]byte, 256<<10))
	if err != nil {
		t.Fatal(err)
	}
	if n != size {
		t.Fatalf("decrypted %d bytes, want %d", n, size)
	}
	if growth := int64(src.peak) - int64(before.HeapInuse); growth > 16<<20 {
		t.Errorf("heap grew by %d MiB while decrypting 128 MiB; want < 16 MiB", growth>>20)
	}
}

func BenchmarkEncrypt(b *testing.B) {
	k := testKeyring(b)
	const size = 64 << 20
	// Write one random 1 MiB chunk over and over, so the figure is the
	// cipher's, not a generator's.
	chunk := randomBytes(b, 1<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		w, _, err := k.Encrypt(io.Discard, []byte("bench"))
		if err != nil {
			b.Fatal(err)
		}
		for range size / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	k := testKeyring(b)
	const size = 64 << 20
	var ct bytes.Buffer
	w, wrapped, err := k.Encrypt(&ct, []byte("bench"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(w, &generator{n: size}); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r, err := k.Decrypt(bytes.NewReader(ct.Bytes()), wrapped, []byte("bench"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "master.key")

	if _, err := LoadOrCreateMasterKey(path, false); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file without create: err = %v, want not-exist", err)
	}
	key, err := LoadOrCreateMasterKey(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != MasterKeySize {
		t.Fatalf("key is %d bytes", len(key))
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	again, err := LoadOrCreateMasterKey(path, true)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second load gave a different key (%v)", err)
	}
	if _, err := NewKeyring(key); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "sub", ".master-key-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Keys written by hand, in either base64 alphabet, with a newline.
	raw := randomBytes(t, 32)
	for _, text := range []string{base64.StdEncoding.EncodeToString(raw) + "\n", base64.RawURLEncoding.EncodeToString(raw)} {
		p := filepath.Join(dir, "hand.key")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadOrCreateMasterKey(p, false)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%q: got %x, %v", text, got, err)
		}
	}

	// A malformed key is an error, and is never replaced, even with create.
	for _, text := range []string{"not base64 %%%", base64.StdEncoding.EncodeToString(make([]byte, 16)), ""} {
		p := filepath.Join(dir, "bad.key")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateMasterKey(p, true); err == nil {
			t.Errorf("%q accepted", text)
		}
		if b, _ := os.ReadFile(p); string(b) != text {
			t.Errorf("%q was overwritten", text)
		}
	}
}

func TestLoadOrCreateMasterKeyRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateMasterKey(path, true)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("instances starting together got different master keys")
		}
	}
}
