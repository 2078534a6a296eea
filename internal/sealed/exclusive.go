package sealed

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/nhsprocure/portal/internal/store"
)

// openingLock is the first half of the PostgreSQL advisory lock key held
// while a scope is opened; the second half is the scope's hash. audit uses
// 7_244_001 and jobs 7_244_002.
const openingLock = 7_244_003

// Exclusively runs open while no other opening of the same scope (what the
// keys are turned for, as in TurnKey) runs, in this process or in any
// other instance on the same database. Opening decrypts the box before the
// transaction that records the opening, so without this two keyholders
// turning the second key at once, or one person's form submitted twice
// through two instances, would both decrypt the box (each audited as an
// opening) and only then find that one of them had recorded it. open must
// check, first of all, whether the box has been opened already: a second
// opener waits here for the first and then finds it opened.
//
// On PostgreSQL the lock is a session advisory lock held on a connection
// of its own, which nothing but another opening waits for, so it cannot
// deadlock with the row and audit-chain locks open takes; it goes with the
// connection if the process dies. SQLite serves one process, where a mutex
// does the same.
func (s *Service) Exclusively(ctx context.Context, scope string, open func() error) (err error) {
	if scope == "" {
		return errors.New("sealed: an opening needs a scope")
	}
	if s.DB.Kind != store.Postgres {
		s.opening.Lock()
		defer s.opening.Unlock()
		return open()
	}
	sqlDB, err := s.DB.SQL()
	if err != nil {
		return fmt.Errorf("sealed: lock the opening: %w", err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sealed: lock the opening: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", openingLock, scope); err != nil {
		return fmt.Errorf("sealed: lock the opening: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even if ctx has ended.
		unlockCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, uerr := conn.ExecContext(unlockCtx, "SELECT pg_advisory_unlock($1, hashtext($2))", openingLock, scope); uerr != nil {
			// Returned to the pool, the connection would keep the lock;
			// discard it instead, which ends its session and the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("sealed: unlock the opening: %w", uerr))
		}
	}()
	return open()
}
