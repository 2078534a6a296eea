package documents

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tink-crypto/tink-go/v2/aead/aesgcm"
	"github.com/tink-crypto/tink-go/v2/insecuresecretdataaccess"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/secretdata"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// MasterKeySize is the length of PORTAL_MASTER_KEY once base64-decoded: an
// AES-256 key.
const MasterKeySize = 32

// ErrTampered means a stored document, or the wrapped data key stored beside
// it, is not what this portal wrote for that document: bytes were changed,
// cut off, appended, or the file (or key) belongs to another document. It is
// also what a wrong master key looks like, since the two cannot be told apart
// cryptographically.
var ErrTampered = errors.New("stored document failed its integrity check")

// keysetLabel is put in front of the document's associated data when the data
// key is wrapped, so a ciphertext made with the master key for this purpose
// can never be accepted by any other use of the same key (domain separation).
const keysetLabel = "nhsprocure/portal document data key v1\x00"

// Keyring wraps per-document data keys with the key-encryption key.
//
// Every document gets its own random data key (envelope encryption) so that
// the database holds only wrapped keys that are useless without the master
// key, one leaked data key exposes one document, and the master key could
// later be rotated by rewrapping small keys instead of re-encrypting files.
// A Keyring is safe for concurrent use.
type Keyring struct {
	kek tink.AEAD
}

// NewKeyring makes a keyring from a 32-byte master key (PORTAL_MASTER_KEY).
//
// The key-encryption key is tink's AES-256-GCM AEAD made from the raw bytes
// with the aead/aesgcm key API (aesgcm.NewKey with VariantNoPrefix, then
// aesgcm.NewAEAD): a 12-byte random IV and 16-byte tag, and no tink output
// prefix because there is only ever one master key in play. tink copies the
// key bytes, so the caller may wipe masterKey afterwards.
func NewKeyring(masterKey []byte) (*Keyring, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("documents: master key must be %d bytes, not %d", MasterKeySize, len(masterKey))
	}
	params, err := aesgcm.NewParameters(aesgcm.ParametersOpts{
		KeySizeInBytes: MasterKeySize,
		IVSizeInBytes:  12,
		TagSizeInBytes: 16,
		Variant:        aesgcm.VariantNoPrefix,
	})
	if err != nil {
		return nil, fmt.Errorf("documents: master key parameters: %w", err)
	}
	key, err := aesgcm.NewKey(secretdata.NewBytesFromData(masterKey, insecuresecretdataaccess.Token{}), 0, params)
	if err != nil {
		return nil, fmt.Errorf("documents: master key: %w", err)
	}
	kek, err := aesgcm.NewAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("documents: master key: %w", err)
	}
	return &Keyring{kek: kek}, nil
}

func keysetAssociatedData(associated []byte) []byte {
	return append([]byte(keysetLabel), associated...)
}

// Encrypt returns a writer that encrypts everything written to it into dst
// with a fresh data key, and that data key wrapped by the master key, to be
// stored beside the document (162 bytes).
//
// The content is encrypted with tink streaming AEAD AES256_GCM_HKDF_1MB
// (streamingaead.AES256GCMHKDF1MBKeyTemplate): 1 MiB segments, each
// authenticated on its own, so memory stays near 2 MiB whatever the size of
// the document and a reader can check the file a segment at a time.
//
// associated binds the ciphertext and the wrapped key to their record (the
// document ID): decrypting with any other associated data fails, so one
// document's file or key cannot be passed off as another's. It must not be
// empty.
//
// Encrypt itself writes nothing to dst, so dst may be an io.Pipe whose
// reader starts later. Data reaches dst a whole 1 MiB segment at a time
// (the first one carrying the 40-byte header); Close must be called to write
// the final segment: without it the stream is incomplete and will not
// decrypt. Close does not close dst. Write errors from dst are returned as
// they are; the stream cannot be resumed after one. The writer is not safe
// for concurrent use.
func (k *Keyring) Encrypt(dst io.Writer, associated []byte) (w io.WriteCloser, wrappedKey []byte, err error) {
	if len(associated) == 0 {
		return nil, nil, errors.New("documents: encrypt: associated data (the document ID) is required")
	}
	handle, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		return nil, nil, fmt.Errorf("documents: new data key: %w", err)
	}
	var buf bytes.Buffer
	// The binary writer stores only the encrypted keyset (no cleartext
	// KeysetInfo), so the wrapped key reveals nothing but its length.
	if err := handle.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), k.kek, keysetAssociatedData(associated)); err != nil {
		return nil, nil, fmt.Errorf("documents: wrap data key: %w", err)
	}
	primitive, err := streamingaead.New(handle)
	if err != nil {
		return nil, nil, fmt.Errorf("documents: data key primitive: %w", err)
	}
	held := &holdingWriter{dst: dst}
	w, err = primitive.NewEncryptingWriter(held, associated)
	if err != nil {
		return nil, nil, fmt.Errorf("documents: start encryption: %w", err)
	}
	held.release = true
	return w, buf.Bytes(), nil
}

// holdingWriter keeps what tink writes while the encrypting writer is being
// made (the 40-byte stream header) and sends it with the first real write.
// Without it Encrypt would write to dst before returning, which blocks
// forever when dst is an io.Pipe whose reader is only started afterwards.
type holdingWriter struct {
	dst     io.Writer
	held    []byte
	release bool
}

func (h *holdingWriter) Write(p []byte) (int, error) {
	if !h.release {
		h.held = append(h.held, p...)
		return len(p), nil
	}
	if len(h.held) > 0 {
		if _, err := h.dst.Write(h.held); err != nil {
			return 0, err
		}
		h.held = nil
	}
	return h.dst.Write(p)
}

// Decrypt returns a reader of the plain content of src.
//
// Each 1 MiB segment is authenticated before any of its bytes are returned,
// so the reader never hands out unverified plaintext. Tampering anywhere (a
// flipped byte, truncation, appended bytes, another document's file) makes
// Read return an error wrapping ErrTampered by the time the reader reaches
// the damaged segment or the end; truncation and appending are only
// noticeable at the end, so a caller must read to io.EOF before trusting
// that it had the whole document. Errors from src itself (disk, network) are
// returned wrapped as they are, not as ErrTampered. Errors are sticky.
//
// Decrypt itself fails, wrapping ErrTampered, when the wrapped key does not
// open with this master key and associated data: the key was changed or
// belongs to another document, or the master key is not the one the
// document was stored with.
func (k *Keyring) Decrypt(src io.Reader, wrappedKey, associated []byte) (io.Reader, error) {
	if len(associated) == 0 {
		return nil, errors.New("documents: decrypt: associated data (the document ID) is required")
	}
	handle, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrappedKey)), k.kek, keysetAssociatedData(associated))
	if err != nil {
		return nil, fmt.Errorf("%w: the data key does not unwrap with this master key and document (%v)", ErrTampered, err)
	}
	primitive, err := streamingaead.New(handle)
	if err != nil {
		return nil, fmt.Errorf("documents: data key primitive: %w", err)
	}
	sr := &sourceReader{r: src}
	r, err := primitive.NewDecryptingReader(sr, associated)
	if err != nil {
		return nil, fmt.Errorf("documents: start decryption: %w", err)
	}
	return &decryptingReader{r: r, src: sr}, nil
}

// sourceReader remembers the first real error from the ciphertext source,
// because tink reports every failure on the first segment as "no matching
// key", which would make a disk error look like tampering.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// decryptingReader turns tink's decryption failures into ErrTampered and
// keeps the first error, so a caller that retries never gets past damage.
type decryptingReader struct {
	r   io.Reader
	src *sourceReader
	err error
}

func (d *decryptingReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	// tink returns (0, nil) for an empty final segment; read on so callers
	// see data or io.EOF.
	for range 3 {
		n, err := d.r.Read(p)
		switch {
		case err == nil && n == 0 && len(p) > 0:
			continue
		case err == nil || err == io.EOF:
			if err == io.EOF {
				d.err = io.EOF
			}
			return n, err
		case d.src.err != nil:
			d.err = fmt.Errorf("documents: reading stored document: %w", d.src.err)
		default:
			d.err = fmt.Errorf("%w: %v", ErrTampered, err)
		}
		return 0, d.err
	}
	return 0, nil
}

// LoadOrCreateMasterKey reads a base64 32-byte key from path
// (PORTAL_MASTER_KEY_FILE), in standard or unpadded URL-safe base64 as the
// PORTAL_MASTER_KEY setting accepts.
//
// When create is true and the file does not exist it writes a new random key
// there with mode 0600 (development only: a production key must be made and
// backed up deliberately, since losing it loses every stored document). An
// existing file is never overwritten, even if it is unreadable or malformed,
// because replacing a master key makes all documents stored with it
// unrecoverable. The new file appears atomically (written aside, then
// hard-linked into place), so two instances starting together agree on one
// key and a crash never leaves a half-written key behind.
func LoadOrCreateMasterKey(path string, create bool) ([]byte, error) {
	key, err := readMasterKey(path)
	if err == nil || !create || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("documents: new master key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("documents: master key folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master-key-*")
	if err != nil {
		return nil, fmt.Errorf("documents: write master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("documents: write master key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process made one first: use theirs.
			return readMasterKey(path)
		}
		return nil, fmt.Errorf("documents: write master key: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("documents: write master key: %w", err)
	}
	return key, nil
}

func readMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- path is PORTAL_MASTER_KEY_FILE, set by the operator
	if err != nil {
		return nil, fmt.Errorf("documents: read master key: %w", err)
	}
	s := strings.TrimSpace(string(b))
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, fmt.Errorf("documents: master key file %s is not valid base64; make one with: openssl rand -base64 32", path)
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("documents: master key file %s must decode to exactly %d bytes, not %d", path, MasterKeySize, len(key))
	}
	return key, nil
}
