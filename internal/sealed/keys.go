package sealed

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// KeysNeeded is how many different people must turn a key before a box is
// opened (SECURITY.md: the four-eyes rule; one person twice does not
// count).
const KeysNeeded = 2

// ErrSameKeyholder refuses a person turning their key a second time.
var ErrSameKeyholder = errors.New("you have already turned your key; the other key must be turned by someone else")

// Key is one person's turned key.
type Key struct {
	Scope    string    `gorm:"column:scope;primaryKey"`
	UserID   string    `gorm:"column:user_id;primaryKey"`
	TurnedAt time.Time `gorm:"column:turned_at"`
}

// TableName names the table.
func (Key) TableName() string { return "sealed_opening_keys" }

// TurnKey records userID's key for scope (what is to be opened, such as
// "framework:<id>") inside tx, the caller's transaction, which has checked
// that the person may open and writes the audit entry. It returns every
// key turned so far, oldest first; the box may be opened once there are
// KeysNeeded of them. A second turn by the same person is ErrSameKeyholder
// and changes nothing.
func TurnKey(tx *gorm.DB, scope, userID string, now time.Time) ([]Key, error) {
	if scope == "" || userID == "" {
		return nil, errors.New("sealed: a key needs a scope and a person")
	}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Key{Scope: scope, UserID: userID, TurnedAt: now})
	if res.Error != nil {
		return nil, fmt.Errorf("turn key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrSameKeyholder
	}
	return Keys(tx, scope)
}

// Keys lists the keys turned for scope, oldest first.
func Keys(db *gorm.DB, scope string) ([]Key, error) {
	var out []Key
	if err := db.Where("scope = ?", scope).Order("turned_at, user_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	for i := range out {
		out[i].TurnedAt = out[i].TurnedAt.UTC()
	}
	return out, nil
}

// TurnCountedKey is TurnKey for callers whose keys stop counting when
// their holders lose the right to open: counted lists the keys that still
// count (read through tx). A person turning again is refused with
// ErrSameKeyholder while fewer than KeysNeeded keys count, and accepted
// (turned false, nothing recorded) once enough do, so either keyholder can
// retry an opening that failed after the second key. turned reports
// whether a new key was recorded, for the caller's audit entry.
func TurnCountedKey[K any](tx *gorm.DB, scope, userID string, now time.Time, counted func(tx *gorm.DB) ([]K, error)) (keys []K, turned bool, err error) {
	_, err = TurnKey(tx, scope, userID, now)
	switch {
	case errors.Is(err, ErrSameKeyholder):
		if keys, err = counted(tx); err != nil {
			return nil, false, err
		}
		if len(keys) < KeysNeeded {
			return keys, false, ErrSameKeyholder
		}
		return keys, false, nil
	case err != nil:
		return nil, false, err
	}
	keys, err = counted(tx)
	return keys, true, err
}
