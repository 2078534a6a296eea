package exit

import (
	"context"
	"fmt"
	"time"

	"github.com/nhsprocure/portal/internal/jobs"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/uktime"
)

// Snapshot is one week's record of every deployment's rating.
type Snapshot struct {
	ID      string
	Week    string
	TakenAt time.Time
}

// TableName tells GORM where snapshots live.
func (Snapshot) TableName() string { return "exit_snapshots" }

// snapshotRating is one deployment's rating in a snapshot.
type snapshotRating struct {
	SnapshotID   string
	DeploymentID string
	Rating       string
	Reason       string
}

func (snapshotRating) TableName() string { return "exit_snapshot_ratings" }

// Week is the ISO week of t in UK time ("2026-W49"): snapshots are weekly.
func Week(t time.Time) string {
	y, w := t.In(uktime.Location).ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// TakeSnapshot records every deployment's rating and reason as computed
// now, unless this week's snapshot has been taken or there are no
// deployments yet; it reports whether it took one. The snapshot and its audit entry are one transaction, and the
// week is unique, so two instances running it at once record one.
func (s *Service) TakeSnapshot(ctx context.Context) (bool, error) {
	now := s.now()
	week := Week(now)
	taken := false
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Snapshot{}).Where("week = ?", week).Count(&n).Error; err != nil {
			return fmt.Errorf("check snapshot: %w", err)
		}
		if n > 0 {
			return nil
		}
		list, err := deploymentsIn(tx, National)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			// Nothing to keep yet: the week's snapshot is taken once
			// deployments are recorded.
			return nil
		}
		snap := Snapshot{ID: newID(), Week: week, TakenAt: now}
		if err := tx.Create(&snap).Error; err != nil {
			return fmt.Errorf("record snapshot: %w", err)
		}
		r, err := loadRules(tx)
		if err != nil {
			return err
		}
		rows := make([]snapshotRating, len(list))
		counts := map[string]int{}
		for i, d := range list {
			a := Rate(d, r, now)
			rows[i] = snapshotRating{SnapshotID: snap.ID, DeploymentID: d.ID, Rating: a.Rating, Reason: a.Reason}
			counts[a.Rating]++
		}
		if err := tx.CreateInBatches(rows, 200).Error; err != nil {
			return fmt.Errorf("record snapshot ratings: %w", err)
		}
		taken = true
		return s.Audit.Append(tx, audit.System, audit.Event{Action: "exit.snapshot", ObjectType: "exit_snapshot", ObjectID: snap.ID,
			Detail: map[string]any{"week": week, "deployments": len(rows), "red": counts[Red], "amber": counts[Amber], "green": counts[Green]}})
	})
	if err != nil {
		// Another instance may have taken this week's snapshot between
		// the check and the insert: its snapshot stands.
		var n int64
		if cerr := s.DB.WithContext(ctx).Model(&Snapshot{}).Where("week = ?", week).Count(&n).Error; cerr == nil && n > 0 {
			return false, nil
		}
		return false, err
	}
	return taken, nil
}

// SnapshotArgs is the job that takes the weekly snapshot.
type SnapshotArgs struct{}

// Kind names the job.
func (SnapshotArgs) Kind() string { return "exit_snapshot" }

// SnapshotWorker runs TakeSnapshot.
type SnapshotWorker struct {
	river.WorkerDefaults[SnapshotArgs]
	S *Service
}

var _ river.Worker[SnapshotArgs] = (*SnapshotWorker)(nil)

// SnapshotInterval is how often the job looks for a week without a
// snapshot: hourly, so the week's snapshot is taken within an hour of its
// start (or of the portal starting) and a missed run is made up.
const SnapshotInterval = time.Hour

// Work takes this week's snapshot if it has not been taken.
func (w *SnapshotWorker) Work(ctx context.Context, _ *river.Job[SnapshotArgs]) error {
	_, err := w.S.TakeSnapshot(ctx)
	return err
}

// SnapshotJob is the periodic job for River's Config.PeriodicJobs, run
// once at start too.
func SnapshotJob(interval time.Duration) *river.PeriodicJob {
	return jobs.Periodic(SnapshotArgs{}, interval, SnapshotInterval)
}
