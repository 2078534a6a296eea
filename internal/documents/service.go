// Package documents stores the files that tender packs, applications and
// bids carry. Uploads stream through checks (name, type by extension and by
// content, size, zip bombs), a SHA-256 of the plain content and envelope
// encryption straight into the storage backend: no whole file is held in
// memory and no plain content touches the disk. A record is written only
// after the encrypted object is durably in place, in one transaction with its
// audit entry; an object without a record is an orphan that Sweep removes.
package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
)

// Document is one stored file.
type Document struct {
	ID             string
	OrganisationID string
	OwnerType      string
	OwnerID        string
	Name           string
	FileType       string
	ContentType    string
	SizeBytes      int64
	SHA256         string `gorm:"column:sha256"`
	StorageKey     string
	WrappedKey     []byte
	UploadedBy     string
	CreatedAt      time.Time
}

// Limits bound what one upload and one organisation may store.
type Limits struct {
	MaxFileBytes  int64
	OrgQuotaBytes int64
	Zip           ZipLimits
}

// Service stores and retrieves documents.
type Service struct {
	DB     *store.DB
	Audit  *audit.Log
	Clock  clock.Clock
	Keys   *Keyring
	Store  Backend
	Limits Limits
}

// Upload is one file arriving.
type Upload struct {
	OrganisationID string
	OwnerType      string // what the file belongs to ("library", later "framework", "bid", ...)
	OwnerID        string
	Name           string
	Body           io.Reader
}

// TooLargeError refuses a file over the per-file limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("The file is larger than %s, the most one upload may be. Make it smaller or split it into parts.", HumanSize(e.Limit))
}

// HumanSize writes a byte count the way people read it.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// limited fails as soon as more than max bytes have been read, so an
// oversized file is refused before the rest of it is read.
type limited struct {
	r   io.Reader
	max int64
	n   int64
}

func (l *limited) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, &TooLargeError{Limit: l.max}
	}
	return n, err
}

// Put checks, hashes, encrypts and stores an upload, then records it. Any
// refusal leaves nothing stored.
func (s *Service) Put(ctx context.Context, actor audit.Actor, up Upload) (*Document, error) {
	name, err := CleanName(up.Name)
	if err != nil {
		return nil, err
	}
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(up.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	ft, err := Check(name, head)
	if err != nil {
		return nil, err
	}
	used, err := s.Used(ctx, up.OrganisationID)
	if err != nil {
		return nil, err
	}
	if used+int64(len(head)) > s.Limits.OrgQuotaBytes {
		return nil, s.quotaError(used)
	}

	doc := &Document{
		ID: uuid.NewString(), OrganisationID: up.OrganisationID, OwnerType: up.OwnerType, OwnerID: up.OwnerID,
		Name: name, FileType: ft.Label, ContentType: ft.MIME[0], UploadedBy: actor.UserID,
	}
	if doc.OwnerType == "" {
		doc.OwnerType = "library"
	}
	doc.StorageKey = uuid.NewString()
	hash := sha256.New()
	src := &limited{r: io.MultiReader(bytes.NewReader(head), up.Body), max: s.Limits.MaxFileBytes}
	var plain io.Reader = src

	// A zip-based file is inspected as it streams past, never stored plain.
	var zipDone chan error
	var zipW *io.PipeWriter
	if ft.Zip {
		var zipR *io.PipeReader
		zipR, zipW = io.Pipe()
		zipDone = make(chan error, 1)
		go func() { zipDone <- InspectZip(zipR, s.Limits.Zip); _ = zipR.Close() }()
		plain = io.TeeReader(plain, zipW)
	}

	encR, encW := io.Pipe()
	enc, wrapped, err := s.Keys.Encrypt(encW, []byte(doc.ID))
	if err != nil {
		return nil, fmt.Errorf("start encryption: %w", err)
	}
	doc.WrappedKey = wrapped
	go func() {
		err := copyHashing(enc, plain, hash)
		if err == nil {
			err = enc.Close()
		}
		if zipW != nil {
			_ = zipW.CloseWithError(err)
		}
		_ = encW.CloseWithError(err)
	}()
	_, err = s.Store.Put(ctx, doc.StorageKey, encR)
	_ = encR.CloseWithError(err) // unblock the copier if the store gave up early
	var zipErr error
	if zipDone != nil {
		zipErr = <-zipDone
	}
	if err != nil {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return nil, tl
		}
		return nil, fmt.Errorf("store upload: %w", err)
	}
	discard := func() { _ = s.Store.Delete(context.WithoutCancel(ctx), doc.StorageKey) }
	if zipErr != nil {
		discard()
		var rej *RejectError
		if errors.As(zipErr, &rej) {
			return nil, &RejectError{Message: "The file ‘" + name + "’ cannot be accepted. " + rej.Message}
		}
		return nil, zipErr
	}
	doc.SizeBytes = src.n
	doc.SHA256 = hex.EncodeToString(hash.Sum(nil))
	doc.CreatedAt = s.Clock.Now()
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		// Serialise the quota check per organisation: on PostgreSQL two
		// uploads could otherwise both read the old total and both commit.
		// (SQLite transactions take the write lock when they begin.)
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec("SELECT id FROM organisations WHERE id = ? FOR UPDATE", doc.OrganisationID).Error; err != nil {
				return fmt.Errorf("lock organisation for quota: %w", err)
			}
		}
		var total int64
		if err := tx.Model(&Document{}).Where("organisation_id = ?", doc.OrganisationID).Select("COALESCE(SUM(size_bytes), 0)").Scan(&total).Error; err != nil {
			return fmt.Errorf("check quota: %w", err)
		}
		if total+doc.SizeBytes > s.Limits.OrgQuotaBytes {
			return s.quotaError(total)
		}
		if err := tx.Create(doc).Error; err != nil {
			return fmt.Errorf("record document: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "document.upload", ObjectType: "document", ObjectID: doc.ID,
			Detail: map[string]any{"name": doc.Name, "size": doc.SizeBytes, "sha256": doc.SHA256, "owner_type": doc.OwnerType, "owner_id": doc.OwnerID},
		})
	})
	if err != nil {
		discard()
		return nil, err
	}
	return doc, nil
}

// copyHashing copies src to dst while hashing every chunk on a second
// goroutine, so SHA-256 and encryption use two cores instead of taking turns
// on one (together they are most of an upload's CPU time).
func copyHashing(dst io.Writer, src io.Reader, h hash.Hash) error {
	buf := make([]byte, 1<<20)
	chunks, hashed := make(chan []byte), make(chan struct{})
	defer close(chunks)
	go func() {
		for c := range chunks {
			h.Write(c)
			hashed <- struct{}{}
		}
	}()
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			chunks <- buf[:n]
			_, werr := dst.Write(buf[:n])
			<-hashed // the buffer is reused only once both are done with it
			if werr != nil {
				return werr
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

func (s *Service) quotaError(used int64) error {
	return &RejectError{Message: fmt.Sprintf("Your organisation has used %s of its %s for documents, so this file does not fit. Remove documents you no longer need or ask the platform administrators for more space.",
		HumanSize(used), HumanSize(s.Limits.OrgQuotaBytes))}
}

// Used is how many bytes an organisation's documents take.
func (s *Service) Used(ctx context.Context, orgID string) (int64, error) {
	var total int64
	err := s.DB.WithContext(ctx).Model(&Document{}).Where("organisation_id = ?", orgID).Select("COALESCE(SUM(size_bytes), 0)").Scan(&total).Error
	if err != nil {
		return 0, fmt.Errorf("sum document sizes: %w", err)
	}
	return total, nil
}

// Get returns one document's record.
func (s *Service) Get(ctx context.Context, id string) (*Document, error) {
	var d Document
	err := s.DB.WithContext(ctx).Where("id = ?", id).First(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find document: %w", err)
	}
	return &d, nil
}

// List returns an organisation's documents attached to one owner, newest
// first.
func (s *Service) List(ctx context.Context, orgID, ownerType, ownerID string) ([]Document, error) {
	var out []Document
	err := s.DB.WithContext(ctx).Omit("wrapped_key").
		Where("organisation_id = ? AND owner_type = ? AND owner_id = ?", orgID, ownerType, ownerID).
		Order("created_at DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	return out, nil
}

// Open returns the plain content of doc for download. The whole stored file
// is first decrypted and hashed, so tampering is found before anything is
// sent and the person sees an error page rather than a broken file; the
// finding is audited. Callers check permission before calling.
func (s *Service) Open(ctx context.Context, actor audit.Actor, doc *Document) (io.ReadCloser, error) {
	if err := s.Verify(ctx, doc); err != nil {
		if errors.Is(err, ErrTampered) {
			_ = s.Audit.Record(ctx, s.DB, actor, audit.Event{
				Action: "document.integrity_failed", ObjectType: "document", ObjectID: doc.ID, Outcome: audit.Failure,
			})
		}
		return nil, err
	}
	rc, err := s.Store.Open(ctx, doc.StorageKey)
	if err != nil {
		return nil, fmt.Errorf("open stored document: %w", err)
	}
	plain, err := s.Keys.Decrypt(rc, doc.WrappedKey, []byte(doc.ID))
	if err != nil {
		_ = rc.Close() // opened for reading only; the decryption error is the one to report
		return nil, err
	}
	if err := s.Audit.Record(ctx, s.DB, actor, audit.Event{Action: "document.download", ObjectType: "document", ObjectID: doc.ID}); err != nil {
		_ = rc.Close() // opened for reading only; the audit error is the one to report
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{plain, rc}, nil
}

// Verify decrypts the stored file to its end and compares its hash with
// the one recorded at upload, recording nothing: downloads call it before
// sending a byte, and a backup's check calls it on every document.
func (s *Service) Verify(ctx context.Context, doc *Document) error {
	rc, err := s.Store.Open(ctx, doc.StorageKey)
	if errors.Is(err, ErrObjectNotFound) {
		return fmt.Errorf("%w: the stored file is missing", ErrTampered)
	}
	if err != nil {
		return fmt.Errorf("open stored document: %w", err)
	}
	defer rc.Close()
	plain, err := s.Keys.Decrypt(rc, doc.WrappedKey, []byte(doc.ID))
	if err != nil {
		return err
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(h, plain, buf); err != nil {
		return fmt.Errorf("check stored document: %w", err) // ErrTampered, or a disk error
	}
	if hex.EncodeToString(h.Sum(nil)) != doc.SHA256 {
		return fmt.Errorf("%w: content hash differs from the one recorded at upload", ErrTampered)
	}
	return nil
}

// Sweep removes stored objects that no record points to (left by a process
// that died between storing a file and recording it) once they are older
// than age, and partial writes older than age.
func (s *Service) Sweep(ctx context.Context, age time.Duration) (int, error) {
	cutoff := time.Now().Add(-age)
	var candidates []string
	err := s.Store.List(ctx, func(key string, modified time.Time) error {
		if modified.Before(cutoff) {
			candidates = append(candidates, key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list stored documents: %w", err)
	}
	removed := 0
	for start := 0; start < len(candidates); start += 500 {
		batch := candidates[start:min(start+500, len(candidates))]
		var known []string
		if err := s.DB.WithContext(ctx).Model(&Document{}).Where("storage_key IN ?", batch).Pluck("storage_key", &known).Error; err != nil {
			return removed, fmt.Errorf("match stored documents: %w", err)
		}
		isKnown := make(map[string]bool, len(known))
		for _, k := range known {
			isKnown[k] = true
		}
		for _, key := range batch {
			if !isKnown[key] {
				if err := s.Store.Delete(ctx, key); err != nil {
					return removed, err
				}
				removed++
			}
		}
	}
	partial, err := s.Store.CleanPartial(ctx, age)
	return removed + partial, err
}
