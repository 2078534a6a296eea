package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/jobs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// testArgs is a job that records its runs under Key.
type testArgs struct {
	Key string `json:"key"`
}

func (testArgs) Kind() string { return "jobs_test" }

// recorder is the worker for testArgs. It counts runs per key, remembers
// when each started, and fails a key's runs while fail says so.
type recorder struct {
	river.WorkerDefaults[testArgs]
	mu    sync.Mutex
	runs  map[string]int
	times map[string][]time.Time
	fail  map[string]int // fail the first n runs of key
	// onRun, when set, runs inside the job after it is counted.
	onRun func(ctx context.Context, key string) error
}

func newRecorder() *recorder {
	return &recorder{runs: map[string]int{}, times: map[string][]time.Time{}, fail: map[string]int{}}
}

func (r *recorder) Work(ctx context.Context, job *river.Job[testArgs]) error {
	r.mu.Lock()
	r.runs[job.Args.Key]++
	n := r.runs[job.Args.Key]
	r.times[job.Args.Key] = append(r.times[job.Args.Key], time.Now())
	fail := r.fail[job.Args.Key]
	onRun := r.onRun
	r.mu.Unlock()
	if n <= fail {
		return fmt.Errorf("planned failure %d of %s", n, job.Args.Key)
	}
	if onRun != nil {
		return onRun(ctx, job.Args.Key)
	}
	return nil
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[key]
}

func (r *recorder) setFail(key string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail[key] = n
}

// fastRetry retries after attempt × step, so backoff grows but tests stay
// quick.
type fastRetry struct{ step time.Duration }

func (p fastRetry) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * p.step)
}

// pgURL is the URL of db's PostgreSQL schema: the test base URL with the
// schema storetest made as search_path.
func pgURL(t *testing.T, db *store.DB) string {
	t.Helper()
	if db.Kind != store.Postgres {
		return ""
	}
	var schema string
	if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(os.Getenv(storetest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

type opts struct {
	poll        time.Duration
	workers     *river.Workers
	maxAttempts int
	retry       river.ClientRetryPolicy
	noStart     bool
}

// newQueue builds a queue on db, starts it when it has workers and stops it
// when the test ends.
func newQueue(t *testing.T, db *store.DB, o opts) *jobs.Queue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	retry := o.retry
	if retry == nil {
		retry = fastRetry{step: 20 * time.Millisecond}
	}
	poll := o.poll
	if poll == 0 {
		poll = 50 * time.Millisecond
	}
	q, err := jobs.New(ctx, jobs.Config{
		DB: db, DatabaseURL: pgURL(t, db), Workers: o.workers, Logger: testLogger(t),
		PollInterval: poll, MaxAttempts: o.maxAttempts, RetryPolicy: retry,
	})
	if err != nil {
		t.Fatalf("new queue: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stop queue: %v", err)
		}
	})
	if !o.noStart {
		if err := q.Start(context.Background()); err != nil {
			t.Fatalf("start queue: %v", err)
		}
	}
	return q
}

// testLogger shows River's warnings and errors in the test log; with
// JOBS_TEST_VERBOSE set it shows everything.
func testLogger(t *testing.T) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("JOBS_TEST_VERBOSE") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: level}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func workersFor(r *recorder) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, r)
	return w
}

// enqueue inserts a testArgs job in a transaction of its own.
func enqueue(t *testing.T, db *store.DB, q *jobs.Queue, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := db.Tx(ctx, func(tx *gorm.DB) error {
		return q.InsertTx(ctx, tx, testArgs{Key: key}, nil)
	}); err != nil {
		t.Fatalf("enqueue %s: %v", key, err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// find returns the job with key among the jobs of group.
func find(t *testing.T, q *jobs.Queue, group string) []jobs.JobSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := q.Jobs(ctx, group, jobs.MaxList)
	if err != nil {
		t.Fatalf("list %s: %v", group, err)
	}
	return list
}

func allJobs(t *testing.T, q *jobs.Queue) []jobs.JobSummary {
	t.Helper()
	var out []jobs.JobSummary
	seen := map[int64]bool{}
	for _, g := range jobs.Groups {
		for _, j := range find(t, q, g) {
			if !seen[j.ID] {
				seen[j.ID] = true
				out = append(out, j)
			}
		}
	}
	return out
}

func TestCommittedJobRunsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := newRecorder()
		q := newQueue(t, db, opts{workers: workersFor(rec)})
		enqueue(t, db, q, "once")
		waitFor(t, "the job to run", 15*time.Second, func() bool { return rec.count("once") >= 1 })
		waitFor(t, "the job to complete", 10*time.Second, func() bool { return len(find(t, q, "completed")) == 1 })
		time.Sleep(300 * time.Millisecond) // several poll intervals: no second run
		if n := rec.count("once"); n != 1 {
			t.Fatalf("job ran %d times, want 1", n)
		}
		j := find(t, q, "completed")[0]
		if j.Kind != "jobs_test" || j.State != "completed" || j.Attempt != 1 || j.MaxAttempts != jobs.DefaultMaxAttempts || j.Queue != river.QueueDefault || j.CreatedAt.IsZero() {
			t.Fatalf("completed job = %+v", j)
		}
		if got := allJobs(t, q); len(got) != 1 {
			t.Fatalf("all jobs = %+v, want just the one", got)
		}
	})
}

func TestRolledBackJobNeverExists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := newRecorder()
		q := newQueue(t, db, opts{workers: workersFor(rec)})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		refused := errors.New("the change was refused")
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			if err := q.InsertTx(ctx, tx, testArgs{Key: "rolled-back"}, nil); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("tx error = %v, want the refusal", err)
		}
		// A committed job after it proves the worker is polling.
		enqueue(t, db, q, "after")
		waitFor(t, "the later job to run", 15*time.Second, func() bool { return rec.count("after") == 1 })
		time.Sleep(300 * time.Millisecond)
		if n := rec.count("rolled-back"); n != 0 {
			t.Fatalf("rolled-back job ran %d times", n)
		}
		got := allJobs(t, q)
		if len(got) != 1 {
			t.Fatalf("jobs = %+v, want only the committed one", got)
		}
	})
}

func TestInsertTxNeedsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := newQueue(t, db, opts{})
		err := q.InsertTx(context.Background(), db.DB, testArgs{Key: "x"}, nil)
		if !errors.Is(err, jobs.ErrNoTransaction) {
			t.Fatalf("InsertTx outside a transaction: %v, want ErrNoTransaction", err)
		}
	})
}

func TestRetriesWithBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := newRecorder()
		rec.setFail("flaky", 2)
		step := 150 * time.Millisecond
		q := newQueue(t, db, opts{workers: workersFor(rec), retry: fastRetry{step: step}})
		enqueue(t, db, q, "flaky")
		waitFor(t, "the job to complete", 20*time.Second, func() bool { return len(find(t, q, "completed")) == 1 })
		if n := rec.count("flaky"); n != 3 {
			t.Fatalf("runs = %d, want 3 (two failures, one success)", n)
		}
		j := find(t, q, "completed")[0]
		if j.Attempt != 3 || j.LastError != "planned failure 2 of flaky" {
			t.Fatalf("completed job = %+v, want attempt 3 with the second failure as last error", j)
		}
		rec.mu.Lock()
		times := rec.times["flaky"]
		rec.mu.Unlock()
		// The policy waits attempt × step after each failure.
		for i := 1; i < len(times); i++ {
			if gap, want := times[i].Sub(times[i-1]), time.Duration(i)*step; gap < want {
				t.Fatalf("attempt %d started %s after attempt %d, want at least %s", i+1, gap, i, want)
			}
		}
	})
}

func TestFailedJobShowsWhileWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := newRecorder()
		rec.setFail("slow-retry", 1)
		// A long backoff keeps the job retryable after its first failure.
		q := newQueue(t, db, opts{workers: workersFor(rec), retry: fastRetry{step: time.Hour}})
		enqueue(t, db, q, "slow-retry")
		var failed []jobs.JobSummary
		waitFor(t, "the job to wait for a retry", 15*time.Second, func() bool {
			failed = find(t, q, "failed")
			return len(failed) == 1
		})
		j := failed[0]
		if j.State != "retryable" || j.Attempt != 1 || j.LastError != "planned failure 1 of slow-retry" || !j.ScheduledAt.After(time.Now().Add(50*time.Minute)) {
			t.Fatalf("failed job = %+v", j)
		}
		if queued := find(t, q, "queued"); len(queued) != 1 || queued[0].ID != j.ID {
			t.Fatalf("queued = %+v, want the failed job (it is waiting to run)", queued)
		}
		// Retry runs it now instead of in an hour.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Retry(ctx, j.ID); err != nil {
			t.Fatalf("retry: %v", err)
		}
		waitFor(t, "the retried job to complete", 15*time.Second, func() bool { return len(find(t, q, "completed")) == 1 })
		if n := rec.count("slow-retry"); n != 2 {
			t.Fatalf("runs = %d, want 2", n)
		}
		if err := q.Retry(ctx, j.ID); !errors.Is(err, jobs.ErrNotRetryable) {
			t.Fatalf("retry of a completed job: %v, want ErrNotRetryable", err)
		}
		if err := q.Retry(ctx, 999_999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("retry of a missing job: %v, want store.ErrNotFound", err)
		}
	})
}

func TestDeadJobCanBeRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := newRecorder()
		rec.setFail("doomed", 1000)
		q := newQueue(t, db, opts{workers: workersFor(rec), maxAttempts: 3})
		enqueue(t, db, q, "doomed")
		var dead []jobs.JobSummary
		waitFor(t, "the job to die", 20*time.Second, func() bool {
			dead = find(t, q, "dead")
			return len(dead) == 1
		})
		j := dead[0]
		if j.State != "discarded" || j.Attempt != 3 || j.MaxAttempts != 3 || j.LastError != "planned failure 3 of doomed" {
			t.Fatalf("dead job = %+v", j)
		}
		if n := rec.count("doomed"); n != 3 {
			t.Fatalf("runs = %d, want 3", n)
		}
		time.Sleep(300 * time.Millisecond)
		if n := rec.count("doomed"); n != 3 {
			t.Fatalf("a dead job ran again by itself: %d runs", n)
		}
		rec.setFail("doomed", 0) // whatever was broken is fixed
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Retry(ctx, j.ID); err != nil {
			t.Fatalf("retry: %v", err)
		}
		waitFor(t, "the retried job to complete", 15*time.Second, func() bool { return len(find(t, q, "completed")) == 1 })
		if n := rec.count("doomed"); n != 4 {
			t.Fatalf("runs = %d, want 4", n)
		}
		if got := find(t, q, "dead"); len(got) != 0 {
			t.Fatalf("dead = %+v, want none", got)
		}
		done, err := q.Job(ctx, j.ID)
		if err != nil || done.Attempt != 4 || done.MaxAttempts != 4 {
			t.Fatalf("job after retry = %+v, %v (River grants one more attempt)", done, err)
		}
	})
}

func TestCancelWaitingJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := newQueue(t, db, opts{}) // insert-only: the job just waits
		enqueue(t, db, q, "unwanted")
		queued := find(t, q, "queued")
		if len(queued) != 1 || queued[0].State != "available" {
			t.Fatalf("queued = %+v", queued)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Cancel(ctx, queued[0].ID); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		if got := find(t, q, "cancelled"); len(got) != 1 || got[0].ID != queued[0].ID {
			t.Fatalf("cancelled = %+v", got)
		}
		if err := q.Cancel(ctx, queued[0].ID); !errors.Is(err, jobs.ErrNotCancellable) {
			t.Fatalf("second cancel: %v, want ErrNotCancellable", err)
		}
		if _, err := q.Jobs(ctx, "everything", 10); !errors.Is(err, jobs.ErrUnknownGroup) {
			t.Fatalf("unknown group: %v", err)
		}
	})
}

func TestJobsSurviveRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// First "process": enqueues but has no workers.
		first := newQueue(t, db, opts{})
		enqueue(t, db, first, "survivor")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := first.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		// Second "process" on the same database: migrations are already
		// there (New must accept that), and it works the waiting job.
		rec := newRecorder()
		second := newQueue(t, db, opts{workers: workersFor(rec)})
		waitFor(t, "the job to run after the restart", 15*time.Second, func() bool { return rec.count("survivor") == 1 })
		waitFor(t, "the job to complete", 10*time.Second, func() bool { return len(find(t, second, "completed")) == 1 })

		// A worker queue stopped with a job still waiting hands it to the
		// next one too.
		stopped := newQueue(t, db, opts{workers: workersFor(newRecorder()), noStart: true})
		enqueue(t, db, stopped, "second-survivor")
		if err := stopped.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		waitFor(t, "the second job to run", 15*time.Second, func() bool { return rec.count("second-survivor") == 1 })
	})
}

// row is a test table written in the same transaction as the job.
type row struct {
	ID     int64  `gorm:"primaryKey;autoIncrement"`
	Key    string `gorm:"uniqueIndex"`
	Worked bool
}

func (row) TableName() string { return "jobs_test_rows" }

func TestConcurrentTransactionsEnqueueExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if err := db.AutoMigrate(&row{}); err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		// The job writes to the database too, as real jobs do, so River's
		// fetching and completing compete with the work for the pool.
		rec.onRun = func(ctx context.Context, key string) error {
			return db.Tx(ctx, func(tx *gorm.DB) error {
				res := tx.Model(&row{}).Where("key = ?", key).Update("worked", true)
				if res.Error == nil && res.RowsAffected != 1 {
					return fmt.Errorf("row %s not found", key)
				}
				return res.Error
			})
		}
		q := newQueue(t, db, opts{workers: workersFor(rec)})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const goroutines, each = 10, 5
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					key := fmt.Sprintf("g%d-%d", g, i)
					errs <- db.Tx(ctx, func(tx *gorm.DB) error {
						if err := tx.Create(&row{Key: key}).Error; err != nil {
							return err
						}
						return q.InsertTx(ctx, tx, testArgs{Key: key}, nil)
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("transaction: %v", err)
			}
		}
		var rows int64
		if err := db.Model(&row{}).Count(&rows).Error; err != nil || rows != goroutines*each {
			t.Fatalf("rows = %d, %v; want %d", rows, err, goroutines*each)
		}
		waitFor(t, "every job to complete", 45*time.Second, func() bool {
			return len(find(t, q, "completed")) == goroutines*each
		})
		time.Sleep(300 * time.Millisecond)
		for g := range goroutines {
			for i := range each {
				if n := rec.count(fmt.Sprintf("g%d-%d", g, i)); n != 1 {
					t.Errorf("job g%d-%d ran %d times, want 1", g, i, n)
				}
			}
		}
		var worked int64
		if err := db.Model(&row{}).Where("worked = ?", true).Count(&worked).Error; err != nil || worked != goroutines*each {
			t.Fatalf("worked rows = %d, %v; want %d", worked, err, goroutines*each)
		}
		if got := allJobs(t, q); len(got) != goroutines*each {
			t.Fatalf("%d jobs in total, want %d", len(got), goroutines*each)
		}
	})
}

// TestWorkersAddedAfterNew covers the wiring order where a package needs the
// Queue (to enqueue) before its worker can be registered.
func TestWorkersAddedAfterNew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		workers := river.NewWorkers()
		q := newQueue(t, db, opts{workers: workers, noStart: true})
		rec := newRecorder()
		river.AddWorker(workers, rec)
		if err := q.Start(context.Background()); err != nil {
			t.Fatalf("start: %v", err)
		}
		enqueue(t, db, q, "late")
		waitFor(t, "the job to run", 15*time.Second, func() bool { return rec.count("late") == 1 })
	})
}

// TestStopCancelsStuckJobs: when Stop's context runs out, running jobs have
// their contexts cancelled and Stop still returns.
func TestStopCancelsStuckJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := newRecorder()
		rec.onRun = func(ctx context.Context, key string) error {
			<-ctx.Done() // a job that only ends when told to
			return ctx.Err()
		}
		q := newQueue(t, db, opts{workers: workersFor(rec)})
		enqueue(t, db, q, "stuck")
		waitFor(t, "the job to start", 15*time.Second, func() bool { return rec.count("stuck") == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := q.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("stop took %s", took)
		}
	})
}

func TestNoWorkersRegisteredStartsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := newQueue(t, db, opts{workers: river.NewWorkers()}) // Start must not fail
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			return q.InsertTx(ctx, tx, testArgs{Key: "nobody"}, nil)
		})
		if err == nil {
			t.Fatal("inserting a kind with no registered worker succeeded")
		}
	})
}

// TestPostgresSchemaIsolation checks River's tables land in the schema of
// the database URL and that two schemas never see each other's jobs.
func TestPostgresSchemaIsolation(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	dbA := storetest.Open(t, store.Postgres)
	dbB := storetest.Open(t, store.Postgres)
	recA, recB := newRecorder(), newRecorder()
	qA := newQueue(t, dbA, opts{workers: workersFor(recA)})
	qB := newQueue(t, dbB, opts{workers: workersFor(recB)})
	for _, db := range []*store.DB{dbA, dbB} {
		var n int64
		if err := db.Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('river_job', 'river_leader', 'river_queue', 'river_migration')").Scan(&n).Error; err != nil || n != 4 {
			t.Fatalf("River tables in the test schema: %d, %v; want 4", n, err)
		}
		var public *string
		if err := db.Raw("SELECT to_regclass('public.river_job')::text").Scan(&public).Error; err != nil {
			t.Fatal(err)
		}
		if public != nil {
			t.Logf("note: public.river_job exists (from something else); the test schemas use their own")
		}
	}
	enqueue(t, dbA, qA, "only-in-a")
	waitFor(t, "A's job to run", 15*time.Second, func() bool { return recA.count("only-in-a") == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := recB.count("only-in-a"); n != 0 {
		t.Fatalf("B's worker ran A's job %d times", n)
	}
	if got := allJobs(t, qB); len(got) != 0 {
		t.Fatalf("B sees jobs %+v", got)
	}
	if got := allJobs(t, qA); len(got) != 1 {
		t.Fatalf("A sees %d jobs, want 1", len(got))
	}
}

// TestPostgresNotificationWakesWorkers checks a job enqueued through the
// store's database/sql transaction reaches the pgx worker by NOTIFY on
// commit, long before the next poll.
func TestPostgresNotificationWakesWorkers(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	db := storetest.Open(t, store.Postgres)
	rec := newRecorder()
	q := newQueue(t, db, opts{workers: workersFor(rec), poll: time.Minute})
	time.Sleep(time.Second) // let the worker's LISTEN start
	start := time.Now()
	enqueue(t, db, q, "notified")
	waitFor(t, "the notified job to run", 10*time.Second, func() bool { return rec.count("notified") == 1 })
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("job ran %s after commit; the notification did not wake the worker", took)
	}
}
