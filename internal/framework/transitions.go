package framework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nhsprocure/portal/internal/jobs"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
)

// UpdatePhrase is what a framework update notification says of the state
// a framework has entered ("SLCSC-EPR-2027 EPR systems: applications have
// opened"); "" for a state nobody is told of (scheduled, draft).
func UpdatePhrase(state string) string {
	switch state {
	case StateOpen:
		return "applications have opened"
	case StateEvaluation:
		return "applications have closed and evaluation has started"
	case StateStandstill:
		return "the standstill period has started"
	case StateLive:
		return "the framework agreement is live"
	case StateExpired:
		return "the framework agreement has expired"
	case StateCancelled:
		return "the framework agreement was cancelled"
	}
	return ""
}

// RecordTransitions records every framework whose state (derived from its
// status and the clock) differs from the one last recorded: one
// transaction per framework updates last_state, writes a "framework.state"
// audit entry (from, to) and notifies the consortium's leads and the
// supplier users of every supplier taking part (SupplierUsers) of the new
// state. A framework that skipped states while nobody looked (published
// after its window opened) is notified of the state it is in now only. A
// framework not seen before (last_state "", from before this was recorded)
// is recorded without notifying anyone.
//
// It is safe to run from several instances at once: the update is made only
// WHERE last_state is still the old value, so exactly one of them records
// and notifies each transition. It returns how many transitions this call
// recorded; a framework that fails does not stop the others, and the errors
// are returned together (the next run retries them).
func (s *Service) RecordTransitions(ctx context.Context) (int, error) {
	var list []Framework
	if err := s.DB.WithContext(ctx).Where("last_state NOT IN ?", []string{StateExpired, StateCancelled}).
		Order("reference").Find(&list).Error; err != nil {
		return 0, fmt.Errorf("list frameworks: %w", err)
	}
	n := 0
	var errs []error
	for _, f := range list {
		to := f.State(s.now())
		if to == f.LastState {
			continue
		}
		done, err := s.recordTransition(ctx, &f, to)
		if err != nil {
			errs = append(errs, fmt.Errorf("framework %s: %w", f.Reference, err))
			continue
		}
		if done {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// recordTransition records f moving from f.LastState to to, reporting
// false when another instance has recorded it first.
func (s *Service) recordTransition(ctx context.Context, f *Framework, to string) (bool, error) {
	from := f.LastState
	phrase := UpdatePhrase(to)
	var recipients []string
	if from != "" && phrase != "" {
		suppliers, err := s.SupplierUsers(ctx, f.ID)
		if err != nil {
			return false, err
		}
		recipients = suppliers
	}
	recorded := false
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Framework{}).Where("id = ? AND last_state = ?", f.ID, from).Update("last_state", to)
		if res.Error != nil {
			return fmt.Errorf("record state: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // another instance got there first
		}
		recorded = true
		if err := s.Audit.Append(tx, audit.System, audit.Event{Action: "framework.state", ObjectType: "framework", ObjectID: f.ID,
			Detail: map[string]any{"reference": f.Reference, "from": from, "to": to}}); err != nil {
			return err
		}
		if from == "" || phrase == "" {
			return nil
		}
		leads, err := orgs.UsersWithRole(tx, authz.ConsortiumLead, f.ConsortiumID)
		if err != nil {
			return err
		}
		data := map[string]any{"Framework": f.Reference + " " + f.Title, "Update": phrase}
		if err := s.notifyAll(ctx, tx, leads, updateKind, data, FrameworkPath(f.ID)); err != nil {
			return err
		}
		var suppliers []string
		for _, id := range recipients {
			if !slices.Contains(leads, id) {
				suppliers = append(suppliers, id)
			}
		}
		return s.notifyAll(ctx, tx, suppliers, updateKind, data, SupplierPath(f.ID))
	})
	if err != nil {
		return false, err
	}
	return recorded, nil
}

// TransitionsArgs is the periodic job that records framework state
// transitions (RecordTransitions).
type TransitionsArgs struct{}

// Kind names the job.
func (TransitionsArgs) Kind() string { return "framework_transitions" }

// TransitionsWorker runs RecordTransitions. Register it with
// river.AddWorker(workers, &framework.TransitionsWorker{S: service}) and
// schedule it with TransitionsJob.
type TransitionsWorker struct {
	river.WorkerDefaults[TransitionsArgs]
	S *Service
}

var _ river.Worker[TransitionsArgs] = (*TransitionsWorker)(nil)

// TransitionsInterval is how often the transitions are looked for: a
// framework opens, closes or goes live within this long of the moment the
// clock says. The states themselves are derived from the clock whenever
// they are read, so only the notifications wait for the job.
const TransitionsInterval = time.Minute

// Timeout gives a run long enough for many frameworks and their notices.
func (w *TransitionsWorker) Timeout(*river.Job[TransitionsArgs]) time.Duration {
	return 5 * time.Minute
}

// Work records the transitions due now.
func (w *TransitionsWorker) Work(ctx context.Context, _ *river.Job[TransitionsArgs]) error {
	_, err := w.S.RecordTransitions(ctx)
	return err
}

// TransitionsJob is the periodic job for River's Config.PeriodicJobs: every
// interval (TransitionsInterval when 0), and once at start so that a
// restart catches up at once. River's leader alone schedules periodic jobs,
// and RecordTransitions is safe to run twice besides.
func TransitionsJob(interval time.Duration) *river.PeriodicJob {
	return jobs.Periodic(TransitionsArgs{}, interval, TransitionsInterval)
}
