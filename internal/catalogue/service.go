package catalogue

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
)

// Service changes and reads catalogues. Every change runs in one
// transaction with its audit entry.
type Service struct {
	DB    *store.DB
	Audit *audit.Log
	Clock clock.Clock
}

// newID returns a random identifier, so URLs never reveal how many records
// exist.
func newID() string { return uuid.NewString() }

// notFound turns GORM's not-found into the store's.
func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// touch marks the catalogue changed at the start of a transaction. Because
// it writes the catalogue row, concurrent changes to one catalogue queue
// behind each other on PostgreSQL (SQLite already has one writer), which
// keeps positions and reference checks consistent. It reports
// store.ErrNotFound when the catalogue does not exist.
func (s *Service) touch(tx *gorm.DB, catalogueID string) error {
	res := tx.Model(&Catalogue{}).Where("id = ?", catalogueID).Update("updated_at", s.Clock.Now())
	if res.Error != nil {
		return fmt.Errorf("lock catalogue: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("catalogue: %w", store.ErrNotFound)
	}
	return nil
}
