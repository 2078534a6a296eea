package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// Periodic is the periodic job of args for River's Config.PeriodicJobs:
// every interval (fallback when interval is 0 or less), and once at start
// so that a restart catches up at once. River's leader alone schedules
// periodic jobs; the work each does must be safe to run twice besides.
func Periodic(args river.JobArgs, interval, fallback time.Duration) *river.PeriodicJob {
	if interval <= 0 {
		interval = fallback
	}
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args, nil },
		&river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true})
}
