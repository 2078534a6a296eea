// Package jobs runs the portal's durable background work (sending
// notifications, processing documents) with River, over the portal's own
// database: SQLite or PostgreSQL.
//
// A job is enqueued with InsertTx inside the same transaction as the change
// that causes it, so a change that rolls back enqueues nothing and one that
// commits cannot lose its job, whatever happens to the process afterwards.
// Failed jobs are retried with exponential backoff (River's default policy:
// about attempt^4 seconds) up to MaxAttempts, then kept as "dead" for an
// administrator to inspect and retry.
//
// # How River is arranged on each database
//
// SQLite: one River client on the riversqlite driver over the store's own
// *sql.DB (the glebarez/modernc pool GORM uses, 4 connections, immediate
// transactions, 10 s busy timeout). The same client inserts (inside GORM's
// *sql.Tx), works jobs and serves the administrator page. It runs in
// PollOnly mode: River's SQLite "listener" is itself a poll of a
// notification table every 50 ms, so polling for jobs every PollInterval
// (1 s) is cheaper for the single writer SQLite allows, and a job is picked
// up at most PollInterval after its transaction commits. River's writes are
// short transactions that queue behind the portal's on the write lock.
//
// PostgreSQL: two River clients on the same tables, which River supports
// (any number of clients may share a schema; a client without Queues is an
// "insert-only" client):
//
//   - the transaction client uses riverdatabasesql over the store's
//     *sql.DB. GORM's postgres driver runs on pgx's database/sql adapter, so
//     InsertTx writes through the very *sql.Tx GORM opened. The insert also
//     issues pg_notify inside that transaction, which PostgreSQL delivers
//     only on commit. This client also serves the administrator page (Jobs,
//     Retry, Cancel), so those work whether or not this process works jobs.
//   - the worker client uses riverpgxv5, River's native driver, on a pgx
//     pool that Start opens from Config.DatabaseURL. It LISTENs for those
//     notifications (jobs start as soon as their transaction commits) and
//     keeps River's fetching, completion, leader election and maintenance on
//     connections of its own, so a busy queue cannot starve web requests of
//     the store's pool. The jobs' own work still uses the store.
//
// (riverdatabasesql.NewWithPgxListener would allow one client for both, but
// it would run all of River's queries through the store's pool and through
// the lib/pq-style adapter rather than River's primary driver.)
//
// # Schema
//
// River's tables live next to the portal's: on PostgreSQL, New reads
// current_schema() from the store's connection (which honours search_path
// in the database URL, as the tests' per-test schemas do) and passes it to
// River as Config.Schema and to the migrator, so every River query names
// that schema explicitly and the two pools cannot disagree. The worker pool
// is opened from the same URL, so its search_path matches too. SQLite has no
// schemas; River's tables go in the portal's database file.
//
// River's tables are created and upgraded by rivermigrate in New. That is
// idempotent; on PostgreSQL it holds an advisory lock for the schema, so
// instances starting together do not run the same migration twice.
//
// Only River's "default" queue is worked. Jobs of kinds this process has no
// worker for are left waiting rather than failed (FetchOnlyKnownKinds), so
// instances running different versions during a rolling deploy do not
// consume each other's attempts.
package jobs

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/store"
)

// Defaults for Config.
const (
	DefaultPollInterval = time.Second
	DefaultMaxAttempts  = 10
	DefaultMaxWorkers   = 10
)

// migrationLock is the first half of the PostgreSQL advisory lock key held
// while River's tables are migrated; the second half is the schema's hash.
// audit uses 7_244_001.
const migrationLock = 7_244_002

// stopGrace is how long Stop waits for job contexts to end after its own
// context has run out and running jobs have been cancelled.
const stopGrace = 10 * time.Second

// Errors returned by Queue's methods.
var (
	// ErrUnknownGroup is returned by Jobs for a group it does not know.
	ErrUnknownGroup = errors.New("unknown job group")
	// ErrNotRetryable is returned by Retry for a job that is neither
	// failed nor dead.
	ErrNotRetryable = errors.New("only a failed or dead job can be retried")
	// ErrNotCancellable is returned by Cancel for a job that has already
	// finished.
	ErrNotCancellable = errors.New("the job has already finished")
	// ErrNoTransaction is returned by InsertTx when tx is not inside a
	// transaction (call it from the function given to store.DB.Tx).
	ErrNoTransaction = errors.New("jobs: InsertTx must be called inside a database transaction")
)

// Config says where the queue runs and how.
type Config struct {
	DB *store.DB
	// DatabaseURL is the PostgreSQL URL the store was opened with; the
	// workers open their own pgx pool from it (for LISTEN/NOTIFY). It is
	// required on PostgreSQL when Workers is set and ignored on SQLite.
	DatabaseURL string
	// Workers holds the workers registered by the packages that own job
	// kinds. Nil makes an insert-only queue: jobs are enqueued and wait for
	// a process that works them. Workers may be added until Start.
	Workers *river.Workers
	// Logger receives River's logs; nil discards them.
	Logger *slog.Logger
	// PollInterval is how often workers look for jobs when no notification
	// arrives (on SQLite, always). Default 1 s; tests use 50-100 ms.
	PollInterval time.Duration
	// MaxAttempts is how many times a job runs before it is dead, unless
	// its kind or InsertOpts say otherwise. Default 10.
	MaxAttempts int
	// MaxWorkers is how many jobs this process works at once. Default 10.
	MaxWorkers int
	// RetryPolicy decides when a failed job runs again. Nil is River's
	// exponential backoff; tests set a fast one.
	RetryPolicy river.ClientRetryPolicy
	// PeriodicJobs are enqueued on a schedule by the one client River
	// elects leader, so each runs once per period across every instance.
	// Only a queue with Workers schedules them.
	PeriodicJobs []*river.PeriodicJob
}

// Queue runs River on the portal's database.
type Queue struct {
	kind   store.Kind
	schema string
	log    *slog.Logger

	// txClient inserts inside GORM transactions and serves the admin page.
	// On SQLite it also works the jobs.
	txClient *river.Client[*sql.Tx]
	// worker is the client that works jobs: txClient on SQLite, a riverpgxv5
	// client built by Start on PostgreSQL; nil until then or for an
	// insert-only queue.
	worker  runner
	workers *river.Workers
	// On PostgreSQL with Workers: the worker pool's settings and the worker
	// client's configuration, used by Start; pool is open from Start to Stop.
	poolCfg   *pgxpool.Config
	workerCfg *river.Config
	pool      *pgxpool.Pool

	mu      sync.Mutex
	started bool
	stopped bool
}

// runner is the part of a River client Start and Stop use.
type runner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
}

// New migrates River's tables (rivermigrate, up) and builds the client(s).
// It does not start working jobs; call Start for that.
func New(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.DB == nil {
		return nil, errors.New("jobs: Config.DB is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	sqlDB, err := cfg.DB.SQL()
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q := &Queue{kind: cfg.DB.Kind, log: cfg.Logger, workers: cfg.Workers}

	switch cfg.DB.Kind {
	case store.Postgres:
		if q.schema, err = currentSchema(ctx, sqlDB); err != nil {
			return nil, err
		}
		if err := migratePostgres(ctx, sqlDB, q.schema, cfg.Logger); err != nil {
			return nil, err
		}
		// Insert-only: no Queues. It gets Workers too, so inserting a kind
		// nobody registered fails instead of waiting forever.
		q.txClient, err = river.NewClient(riverdatabasesql.New(sqlDB), q.riverConfig(cfg, false))
		if err != nil {
			return nil, fmt.Errorf("jobs: build insert client: %w", err)
		}
		if cfg.Workers != nil {
			if cfg.DatabaseURL == "" {
				return nil, errors.New("jobs: Config.DatabaseURL is required on PostgreSQL to work jobs")
			}
			// The pool and its client are made by Start, so a Queue that is
			// never started holds no connections or goroutines.
			if q.poolCfg, err = pgxpool.ParseConfig(cfg.DatabaseURL); err != nil {
				return nil, fmt.Errorf("jobs: parse database URL: %w", err)
			}
			q.workerCfg = q.riverConfig(cfg, true)
		}
	default:
		sqliteDriver := riversqlite.New(sqlDB)
		if err := migrate(ctx, sqliteDriver, "", cfg.Logger); err != nil {
			return nil, err
		}
		q.txClient, err = river.NewClient(sqliteDriver, q.riverConfig(cfg, cfg.Workers != nil))
		if err != nil {
			return nil, fmt.Errorf("jobs: build client: %w", err)
		}
		if cfg.Workers != nil {
			q.worker = q.txClient
		}
	}
	return q, nil
}

// riverConfig is the River configuration for one client; work says whether
// it works jobs.
func (q *Queue) riverConfig(cfg Config, work bool) *river.Config {
	rc := &river.Config{
		Logger:      cfg.Logger,
		MaxAttempts: cfg.MaxAttempts, // stamped on each job at insert
		Schema:      q.schema,
		Workers:     cfg.Workers,
	}
	if !work {
		return rc
	}
	rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
	rc.FetchPollInterval = cfg.PollInterval
	rc.FetchCooldown = min(river.FetchCooldownDefault, cfg.PollInterval)
	rc.FetchOnlyKnownKinds = true
	rc.RetryPolicy = cfg.RetryPolicy
	rc.PollOnly = q.kind != store.Postgres
	rc.PeriodicJobs = cfg.PeriodicJobs
	return rc
}

// currentSchema is the schema the store's connections create tables in.
func currentSchema(ctx context.Context, sqlDB *sql.DB) (string, error) {
	var schema sql.NullString
	if err := sqlDB.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("jobs: read current schema: %w", err)
	}
	if !schema.Valid || schema.String == "" {
		return "", errors.New("jobs: the database's search_path names no existing schema")
	}
	return schema.String, nil
}

// migratePostgres brings River's tables in schema up to date while holding
// an advisory lock, so concurrent instances migrate one after another.
func migratePostgres(ctx context.Context, sqlDB *sql.DB, schema string, log *slog.Logger) (err error) {
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", migrationLock, schema); err != nil {
		return fmt.Errorf("jobs: lock for migration: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even if ctx has ended.
		unlockCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, uerr := conn.ExecContext(unlockCtx, "SELECT pg_advisory_unlock($1, hashtext($2))", migrationLock, schema); uerr != nil {
			// Closing the connection below would leave the lock held by a
			// pooled session; discard the connection instead.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("jobs: unlock after migration: %w", uerr))
		}
	}()
	return migrate(ctx, riverdatabasesql.New(sqlDB), schema, log)
}

func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], schema string, log *slog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: log})
	if err != nil {
		return fmt.Errorf("jobs: prepare River migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: apply River migrations: %w", err)
	}
	if len(res.Versions) > 0 {
		log.Info("job queue migrations applied", "count", len(res.Versions))
	}
	return nil
}

// Start starts working jobs. It does nothing for an insert-only queue (no
// Workers) or when no worker has been registered. Cancelling ctx stops
// fetching new jobs; call Stop to wait for running ones.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return errors.New("jobs: the queue has been stopped")
	}
	if q.started || q.workers == nil {
		return nil
	}
	if !hasWorkers(q.workers) {
		q.log.Info("no job workers registered; jobs will wait for another instance")
		return nil
	}
	if q.poolCfg != nil {
		pool, err := pgxpool.NewWithConfig(ctx, q.poolCfg)
		if err != nil {
			return fmt.Errorf("jobs: open worker pool: %w", err)
		}
		client, err := river.NewClient(riverpgxv5.New(pool), q.workerCfg)
		if err != nil {
			pool.Close()
			return fmt.Errorf("jobs: build worker client: %w", err)
		}
		q.pool, q.worker = pool, client
	}
	if err := q.worker.Start(ctx); err != nil {
		if q.pool != nil {
			q.pool.Close()
			q.pool, q.worker = nil, nil
		}
		return fmt.Errorf("jobs: start: %w", err)
	}
	q.started = true
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish. If ctx
// ends first, running jobs have their contexts cancelled and Stop waits up
// to a further 10 seconds for them. A stopped Queue cannot be started
// again; InsertTx, Jobs and Retry keep working until the database closes.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return nil
	}
	q.stopped = true
	var err error
	if q.started {
		if err = q.worker.Stop(ctx); err != nil && ctx.Err() != nil {
			q.log.Warn("job queue did not stop in time; cancelling running jobs")
			hardCtx, cancel := context.WithTimeout(context.Background(), stopGrace)
			err = q.worker.StopAndCancel(hardCtx)
			cancel()
		}
	}
	if q.pool != nil {
		if err == nil {
			q.pool.Close()
		} else {
			// Close waits for every connection to come back; a job that
			// ignores cancellation would make it wait forever.
			go q.pool.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// InsertTx enqueues a job inside the caller's GORM transaction tx: the job
// exists if and only if the transaction commits. tx must be the *gorm.DB
// handed to the function given to store.DB.Tx (or gorm's Transaction).
// opts may be nil.
func (q *Queue) InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error {
	sqlTx, err := sqlTxOf(tx)
	if err != nil {
		return err
	}
	if _, err := q.txClient.InsertTx(ctx, sqlTx, args, opts); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// sqlTxOf finds the *sql.Tx under a GORM transaction.
func sqlTxOf(tx *gorm.DB) (*sql.Tx, error) {
	if tx == nil || tx.Statement == nil {
		return nil, ErrNoTransaction
	}
	switch pool := tx.Statement.ConnPool.(type) {
	case *sql.Tx:
		return pool, nil
	case *gorm.PreparedStmtTX:
		if t, ok := pool.Tx.(*sql.Tx); ok {
			return t, nil
		}
	}
	return nil, ErrNoTransaction
}

// JobSummary is one job as the administrator page shows it.
type JobSummary struct {
	ID          int64
	Kind        string
	State       string // River's state: available, scheduled, pending, running, retryable, completed, cancelled, discarded
	Attempt     int
	MaxAttempts int
	CreatedAt   time.Time
	ScheduledAt time.Time
	LastError   string
	Queue       string
}

// Groups are the job groups Jobs accepts, in the order the administrator
// page shows them.
var Groups = []string{"queued", "running", "failed", "dead", "cancelled", "completed"}

// groupStates maps each group to River states.
var groupStates = map[string][]rivertype.JobState{
	"queued":    {rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending, rivertype.JobStateRetryable},
	"running":   {rivertype.JobStateRunning},
	"failed":    {rivertype.JobStateRetryable},
	"dead":      {rivertype.JobStateDiscarded},
	"cancelled": {rivertype.JobStateCancelled},
	"completed": {rivertype.JobStateCompleted},
}

// MaxList is the most jobs Jobs returns at once.
const MaxList = 1000

// Jobs lists jobs for the administrator page, newest first, at most limit
// (default 50, at most MaxList). Groups:
//
//   - "queued": waiting to run (available, scheduled, pending, retryable);
//     this includes failed jobs waiting for their next attempt
//   - "running"
//   - "failed": failed at least once and waiting to be retried (retryable).
//     A retry due within 5 seconds (River's scheduler interval) is made
//     "available" at once with its run time in the future, so such a job
//     shows under "queued" only, with its LastError.
//   - "dead": out of attempts (discarded); see LastError, then Retry
//   - "cancelled"
//   - "completed": kept for 24 hours
//
// Completed and cancelled jobs are kept by River for 24 hours, dead ones
// for 7 days.
func (q *Queue) Jobs(ctx context.Context, group string, limit int) ([]JobSummary, error) {
	states, ok := groupStates[group]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownGroup, group)
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxList)
	params := river.NewJobListParams().
		States(states...).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		First(limit)
	res, err := q.txClient.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: list %s: %w", group, err)
	}
	out := make([]JobSummary, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		if group == "failed" && len(j.Errors) == 0 {
			continue
		}
		out = append(out, summarise(j))
	}
	return out, nil
}

// Job returns one job by ID, or store.ErrNotFound.
func (q *Queue) Job(ctx context.Context, id int64) (JobSummary, error) {
	j, err := q.txClient.JobGet(ctx, id)
	if err != nil {
		return JobSummary{}, notFound(id, err)
	}
	return summarise(j), nil
}

func summarise(j *rivertype.JobRow) JobSummary {
	s := JobSummary{
		ID: j.ID, Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		CreatedAt: j.CreatedAt.UTC(), ScheduledAt: j.ScheduledAt.UTC(), Queue: j.Queue,
	}
	if n := len(j.Errors); n > 0 {
		s.LastError = j.Errors[n-1].Error
	}
	return s
}

// Retry makes a failed or dead job available to run again now. A dead job
// gets one more attempt. It returns store.ErrNotFound for an unknown ID and
// ErrNotRetryable for a job that is neither dead nor waiting after a
// failure.
func (q *Queue) Retry(ctx context.Context, id int64) error {
	j, err := q.txClient.JobGet(ctx, id)
	if err != nil {
		return notFound(id, err)
	}
	failed := len(j.Errors) > 0 && (j.State == rivertype.JobStateRetryable ||
		j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateScheduled)
	if !failed && j.State != rivertype.JobStateDiscarded {
		return fmt.Errorf("%w (job %d is %s)", ErrNotRetryable, id, j.State)
	}
	if _, err := q.txClient.JobRetry(ctx, id); err != nil {
		return fmt.Errorf("jobs: retry %d: %w", id, notFound(id, err))
	}
	return nil
}

// Cancel stops a job from running again: a waiting job is cancelled at
// once; a running one has its context cancelled (on SQLite, within a
// minute) and ends cancelled unless it finishes first. It returns
// store.ErrNotFound for an unknown ID and ErrNotCancellable for a job that
// has already finished.
func (q *Queue) Cancel(ctx context.Context, id int64) error {
	j, err := q.txClient.JobGet(ctx, id)
	if err != nil {
		return notFound(id, err)
	}
	switch j.State {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return fmt.Errorf("%w (job %d is %s)", ErrNotCancellable, id, j.State)
	}
	if _, err := q.txClient.JobCancel(ctx, id); err != nil {
		return fmt.Errorf("jobs: cancel %d: %w", id, notFound(id, err))
	}
	return nil
}

// notFound turns River's not-found into the store's.
func notFound(id int64, err error) error {
	if errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("job %d: %w", id, store.ErrNotFound)
	}
	return err
}

// hasWorkers reports whether any worker is registered. River has no public
// way to ask, and its Start refuses an empty bundle, so this reads the
// bundle's (unexported) map; should River rename it, the answer is "yes"
// and River's own check applies.
func hasWorkers(w *river.Workers) bool {
	if w == nil {
		return false
	}
	m := reflect.ValueOf(w).Elem().FieldByName("workersMap")
	if !m.IsValid() || m.Kind() != reflect.Map {
		return true
	}
	return m.Len() > 0
}
