package sealed

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Imported is one submission to store in bulk with Import: a supplier's
// entry in a box with a single submitted version.
type Imported struct {
	SubmissionID  string
	Box           Box // Type and ID only
	SupplierOrgID string
	Content       []byte
	SubmittedBy   string
	ReceivedAt    time.Time
}

// importBatch is how many rows one INSERT carries; a sealed version holds
// its ciphertext, so batches stay modest.
const importBatch = 500

// Import stores already-submitted versions in bulk inside tx, sealed
// exactly as Submit seals them (so opening and reading them later works,
// and a backup check decrypts them; the version ID is derived from the
// submission ID so the same load gives the same IDs), and returns their receipts. It is for
// loading large data sets (portal seed --scale) where one transaction and
// audit entry per bid would take hours; it checks no deadline and writes
// no audit entry, so the caller records what it loaded.
func (s *Service) Import(tx *gorm.DB, items []Imported) ([]Receipt, error) {
	subs := make([]Submission, 0, len(items))
	versions := make([]version, 0, len(items))
	receipts := make([]Receipt, 0, len(items))
	for _, it := range items {
		at := it.ReceivedAt.UTC().Truncate(time.Microsecond)
		ct, wk, err := s.seal(it.Content, versionAD(it.SubmissionID, 1))
		if err != nil {
			return nil, fmt.Errorf("import submission %s: %w", it.SubmissionID, err)
		}
		subs = append(subs, Submission{ID: it.SubmissionID, BoxType: it.Box.Type, BoxID: it.Box.ID, SupplierOrgID: it.SupplierOrgID,
			Status: StatusSubmitted, CurrentVersion: 1, Version: 1, CreatedAt: at, UpdatedAt: at})
		r := Receipt{SubmissionID: it.SubmissionID, Number: 1, Kind: KindSubmit, ReceivedAt: at, SHA256: Hash(it.Content)}
		versions = append(versions, version{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(it.SubmissionID+"/1")).String(), SubmissionID: it.SubmissionID, Number: 1, Kind: KindSubmit,
			ReceivedAt: at, SHA256: r.SHA256, Content: ct, WrappedKey: wk, SubmittedBy: it.SubmittedBy})
		receipts = append(receipts, r)
	}
	if len(subs) == 0 {
		return nil, nil
	}
	if err := tx.CreateInBatches(subs, importBatch).Error; err != nil {
		return nil, fmt.Errorf("import submissions: %w", err)
	}
	if err := tx.CreateInBatches(versions, importBatch).Error; err != nil {
		return nil, fmt.Errorf("import sealed versions: %w", err)
	}
	return receipts, nil
}
