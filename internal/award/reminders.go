package award

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhsprocure/portal/internal/jobs"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/evaluation"
)

// Reminders a board member gets about a recommended award they have not
// decided on, each once per recommendation.
const (
	ReminderRequested = "requested" // as soon as the award is recommended
	ReminderDueSoon   = "due_soon"  // within DueSoon of the approval date
	ReminderOverdue   = "overdue"   // the approval date has passed
)

// DueSoon is how long before the approval date the second reminder goes.
const DueSoon = 3 * 24 * time.Hour

// reminderDue lists the reminders a board member should have had by now
// for a recommendation due at due.
func reminderDue(due, now time.Time) []string {
	out := []string{ReminderRequested}
	if !now.Before(due.Add(-DueSoon)) {
		out = append(out, ReminderDueSoon)
	}
	if now.After(due) {
		out = append(out, ReminderOverdue)
	}
	return out
}

// reminderPhrase is what each reminder says.
func reminderPhrase(kind string) string {
	switch kind {
	case ReminderDueSoon:
		return "Your board's decision is due soon."
	case ReminderOverdue:
		return "Your board's decision is overdue."
	}
	return "An award has been recommended and needs your board's decision."
}

// reminder is the record that a reminder was sent: its primary key makes
// each one go once, whichever instance gets there first.
type reminder struct {
	CompetitionID         string
	RecommendationVersion int
	UserID                string
	Kind                  string
	SentAt                time.Time
}

func (reminder) TableName() string { return "award_reminders" }

// SendReminders reminds every board member of a buying trust still to
// approve a recommended award (not the recommender, not anyone who has
// decided) when it is recommended, within DueSoon of its approval date and
// once the date has passed, each reminder once. It is safe to run from
// several instances at once: a reminder is sent only by the transaction
// that inserts its row. It returns how many reminders were sent.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	var recs []evaluation.Recommendation
	err := s.DB.WithContext(ctx).Where("competition_id NOT IN (?)", s.DB.Model(&Award{}).Select("competition_id")).
		Order("recommended_at").Find(&recs).Error
	if err != nil {
		return 0, fmt.Errorf("list recommendations: %w", err)
	}
	sent := 0
	var errs []error
	for i := range recs {
		n, err := s.remind(ctx, &recs[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("competition %s: %w", recs[i].CompetitionID, err))
		}
		sent += n
	}
	return sent, errors.Join(errs...)
}

func (s *Service) remind(ctx context.Context, rec *evaluation.Recommendation) (int, error) {
	now := s.now()
	sent := 0
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		a, err := approvals(tx, rec)
		if err != nil {
			return err
		}
		if a.Rejected {
			return nil
		}
		var c struct{ Reference, Title, Status string }
		if err := tx.Table("competitions").Where("id = ?", rec.CompetitionID).Select("reference, title, status").Scan(&c).Error; err != nil {
			return fmt.Errorf("read competition: %w", err)
		}
		if c.Status == competition.StatusCancelled {
			return nil
		}
		for _, t := range a.Pending() {
			for _, u := range t.Members {
				if t.Decided(u) {
					continue
				}
				for _, kind := range reminderDue(rec.ApprovalDue, now) {
					res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&reminder{
						CompetitionID: rec.CompetitionID, RecommendationVersion: rec.Version, UserID: u, Kind: kind, SentAt: now})
					if res.Error != nil {
						return fmt.Errorf("record reminder: %w", res.Error)
					}
					if res.RowsAffected == 0 {
						continue
					}
					data := map[string]any{"Procurement": c.Reference + " " + c.Title, "Trust": t.Buyer.Organisation.Name,
						"Due": rec.ApprovalDue, "Reminder": reminderPhrase(kind)}
					if err := s.Notify.Notify(ctx, tx, u, KindApprovalReminder, data, Path(rec.CompetitionID)); err != nil {
						return fmt.Errorf("notify reminder: %w", err)
					}
					sent++
				}
			}
		}
		if sent == 0 {
			return nil
		}
		return s.Audit.Append(tx, audit.System, audit.Event{Action: "award.reminders", ObjectType: "competition", ObjectID: rec.CompetitionID,
			Detail: map[string]any{"sent": sent, "recommendation_version": rec.Version}})
	})
	if err != nil {
		return 0, err
	}
	return sent, nil
}

// RemindersArgs is the periodic job that sends approval reminders.
type RemindersArgs struct{}

// Kind names the job.
func (RemindersArgs) Kind() string { return "award_reminders" }

// RemindersWorker runs SendReminders.
type RemindersWorker struct {
	river.WorkerDefaults[RemindersArgs]
	S *Service
}

var _ river.Worker[RemindersArgs] = (*RemindersWorker)(nil)

// RemindersInterval is how often reminders are looked for.
const RemindersInterval = 15 * time.Minute

// Work sends the reminders due now.
func (w *RemindersWorker) Work(ctx context.Context, _ *river.Job[RemindersArgs]) error {
	_, err := w.S.SendReminders(ctx)
	return err
}

// RemindersJob is the periodic job for River's Config.PeriodicJobs, run
// once at start too; River's leader alone schedules it, and SendReminders
// is safe to run twice besides.
func RemindersJob(interval time.Duration) *river.PeriodicJob {
	return jobs.Periodic(RemindersArgs{}, interval, RemindersInterval)
}
