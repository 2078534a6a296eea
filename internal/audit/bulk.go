package audit

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// bulkBatch is how many entries one INSERT carries.
const bulkBatch = 1000

// AppendHistory links entries onto the end of the chain, in the order
// given, and writes them inside tx. Unlike Append it keeps each entry's
// own OccurredAt (made UTC, to the microsecond), so a large data set's
// history (portal seed --scale) can be loaded with its dates; the chain
// holds as for any other entry and Verify checks it. Seq, PrevHash and
// Hash are filled in; an empty Outcome becomes Success.
func (l *Log) AppendHistory(tx *gorm.DB, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	prev, err := lockHead(tx)
	if err != nil {
		return err
	}
	for i := range entries {
		e := &entries[i]
		e.Seq = 0
		e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Microsecond)
		if e.Outcome == "" {
			e.Outcome = Success
		}
		e.PrevHash = prev
		e.Hash = e.computeHash()
		prev = e.Hash
	}
	if err := tx.CreateInBatches(entries, bulkBatch).Error; err != nil {
		return fmt.Errorf("write audit history: %w", err)
	}
	return nil
}
