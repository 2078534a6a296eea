// Package store opens the portal's database (SQLite by default, PostgreSQL
// when the URL says so), applies the versioned migrations embedded in the
// binary and runs transactions.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Kind names the database engine behind a DB.
type Kind string

// The two engines the portal runs on.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// maxOpenPostgres bounds each instance's PostgreSQL connections, so that
// several instances fit within the server's max_connections (100 by
// default).
const maxOpenPostgres = 20

// DB is the portal's database handle: GORM for queries plus what the store
// needs to know about the engine (locking differs between the two).
type DB struct {
	*gorm.DB
	Kind    Kind
	changes *Changes
}

// KindOf says which engine a database URL selects.
func KindOf(url string) Kind { return Kind(config.KindOfURL(url)) }

// Open connects to the database named by url. A SQLite path gets its folder
// created, WAL journalling, foreign keys and immediate write locks so that
// concurrent writers queue instead of failing.
func Open(url string, log *slog.Logger) (*DB, error) {
	kind := KindOf(url)
	cfg := &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
	var dialector gorm.Dialector
	switch kind {
	case Postgres:
		dialector = postgres.Open(url)
	default:
		path := strings.TrimPrefix(url, "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if dir := filepath.Dir(path); dir != "." && dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database folder %s: %w", dir, err)
			}
		}
		dialector = sqlite.Open(path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	}
	gdb, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", kind, err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", kind, err)
	}
	if kind == SQLite {
		// One writer at a time is SQLite's rule; a small pool keeps readers
		// concurrent under WAL without piling up lock waits.
		sqlDB.SetMaxOpenConns(4)
	} else {
		// As many idle connections as open ones: database/sql keeps only
		// two idle by default, and under load every other query then
		// closed its connection and the next opened a new one, a
		// PostgreSQL backend started and torn down per query (most of the
		// database's CPU time on a busy signed-in page).
		sqlDB.SetMaxOpenConns(maxOpenPostgres)
		sqlDB.SetMaxIdleConns(maxOpenPostgres)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("reach %s database: %w", kind, err)
	}
	if log != nil {
		log.Info("database opened", "kind", kind)
	}
	db := &DB{DB: gdb, Kind: kind}
	db.changes = newChanges(db, log)
	return db, nil
}

// Close releases the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// columnTypes fills the {{NAME}} placeholders of the migration files, the
// only places where the two engines' SQL differs.
var columnTypes = map[Kind]map[string]string{
	Postgres: {"TIMESTAMP": "TIMESTAMPTZ", "DATE": "DATE", "SERIAL": "BIGSERIAL PRIMARY KEY", "BLOB": "BYTEA"},
	SQLite:   {"TIMESTAMP": "DATETIME", "DATE": "DATE", "SERIAL": "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB": "BLOB"},
}

// migrations returns the embedded migration files rendered for kind.
func migrations(kind Kind) (fs.FS, error) {
	out := fstest.MapFS{}
	err := fs.WalkDir(migrationFiles, "migrations", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := migrationFiles.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		for name, typ := range columnTypes[kind] {
			text = strings.ReplaceAll(text, "{{"+name+"}}", typ)
		}
		if strings.Contains(text, "{{") {
			return fmt.Errorf("migration %s has an unknown {{placeholder}}", path)
		}
		out[filepath.Base(path)] = &fstest.MapFile{Data: []byte(text)}
		return nil
	})
	return out, err
}

func (db *DB) provider() (*goose.Provider, error) {
	fsys, err := migrations(db.Kind)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB.DB()
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.Kind == Postgres {
		dialect = goose.DialectPostgres
		// Several instances may start together; the lock makes one migrate
		// while the others wait.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, sqlDB, fsys, opts...)
}

// Migrate applies every pending migration and reports how many ran.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("prepare migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("apply migrations: %w", err)
	}
	return len(results), nil
}

// MigrationsCurrent reports whether every embedded migration has been applied.
func (db *DB) MigrationsCurrent(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, err
	}
	return !pending, nil
}

// ErrConflict reports that a record changed since it was read; the person
// should reload and try again rather than overwrite someone else's change.
var ErrConflict = errors.New("the record was changed by someone else")

// ErrNotFound reports that a record does not exist or is not visible.
var ErrNotFound = errors.New("not found")

// Tx runs fn in one transaction: everything fn writes, including its audit
// entry, commits together or not at all. Work registered with BeforeCommit
// runs after fn has returned without error, just before the commit; work
// registered with AfterCommit, once the commit has succeeded.
func (db *DB) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	hooks := &txHooks{}
	ctx = context.WithValue(ctx, txHooksKey{}, hooks)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		for i := 0; i < len(hooks.before); i++ { // a hook may register another
			if err := hooks.before[i](tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, fn := range hooks.after {
		fn()
	}
	return nil
}

type txHooksKey struct{}

type txHooks struct {
	before []func(tx *gorm.DB) error
	after  []func()
}

func hooksOf(tx *gorm.DB) *txHooks {
	if tx.Statement == nil || tx.Statement.Context == nil {
		return nil
	}
	hooks, _ := tx.Statement.Context.Value(txHooksKey{}).(*txHooks)
	return hooks
}

// BeforeCommit registers fn to run inside tx, a transaction opened by Tx,
// after the transaction's own work and just before its commit, and reports
// whether it did; for any other tx it does nothing and reports false, and
// the caller does its work at once. The audit log uses it so that the
// lock serialising its chain is held for the commit only, not for the
// whole transaction: at a deadline hundreds of transactions append at
// once.
func BeforeCommit(tx *gorm.DB, fn func(tx *gorm.DB) error) bool {
	hooks := hooksOf(tx)
	if hooks == nil {
		return false
	}
	hooks.before = append(hooks.before, fn)
	return true
}

// AfterCommit registers fn to run once tx, a transaction opened by Tx, has
// committed (never when it rolls back), and reports whether it did; for
// any other tx it does nothing and reports false.
func AfterCommit(tx *gorm.DB, fn func()) bool {
	hooks := hooksOf(tx)
	if hooks == nil {
		return false
	}
	hooks.after = append(hooks.after, fn)
	return true
}

// SQL returns the underlying database/sql handle.
func (db *DB) SQL() (*sql.DB, error) { return db.DB.DB() }

// LikeEscape is the clause that goes after every LIKE built with Prefix or
// Contains, so % and _ typed by a person match themselves on both engines.
const LikeEscape = `ESCAPE '\'`

// Prefix is a case-insensitive LIKE pattern (compare with LOWER(column))
// matching values that start with s.
func Prefix(s string) string { return likeText(s) + "%" }

// Contains is a case-insensitive LIKE pattern (compare with LOWER(column))
// matching values that contain s.
func Contains(s string) string { return "%" + likeText(s) + "%" }

func likeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(strings.TrimSpace(s)))
}
