package contracts

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
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
)

// KindExpiry is the notification a buying trust's trust leads get when
// one of its contracts comes within an expiry window.
const KindExpiry = notify.KindContractExpiry

// ContractPath is the portal page of a contract.
func ContractPath(contractID string) string { return "/contracts/" + contractID }

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
	return jobs.Periodic(ExpiryArgs{}, interval, ExpiryInterval)
}

// expiryNotice records that a contract's trust was told it ends within a
// window (or that a narrower window's notice covered it): its primary key
// makes each go once, whichever instance gets there first.
type expiryNotice struct {
	ContractID   string
	WindowMonths int
	SentAt       time.Time
}

func (expiryNotice) TableName() string { return "contract_expiry_notices" }

// SendExpiryNotices tells each contract's trust, once per window, of a
// contract ending within 18, 12 or 6 months; it returns how many notices
// were sent (one per contract and window reached, to every trust lead of
// its buying trust).
//
// Only the narrowest window a contract is in is notified; the wider ones
// are recorded as covered by it, so a contract made 5 months before its
// end gets the 6-month notice alone, and one that was not looked at for
// a while is not sent three notices at once. A terminated or ended
// contract gets none. Each contract's notice is one transaction with its
// audit entry, sent only by the transaction that records it, so running
// twice (or on two instances at once) sends nothing twice. A contract
// whose end moves later (an extension) after a notice is not told again
// for the windows already recorded. Without a notifier nothing is sent
// or recorded.
func (s *Service) SendExpiryNotices(ctx context.Context) (int, error) {
	if s.Notify == nil {
		return 0, nil
	}
	now := s.now()
	// A contract ends no sooner than its end date, so one whose end date is
	// beyond the widest window is not in any; one notified for the
	// narrowest window has had every notice.
	widest, narrowest := ExpiryWindows[len(ExpiryWindows)-1], ExpiryWindows[0]
	done := s.DB.Model(&expiryNotice{}).Select("contract_id").Where("window_months = ?", narrowest)
	var due []Contract
	if err := s.DB.WithContext(ctx).Select("id").Where("status <> ? AND end_date <= ? AND id NOT IN (?)", StatusTerminated, monthsAfter(now, widest), done).
		Order("end_date, reference").Find(&due).Error; err != nil {
		return 0, fmt.Errorf("list contracts nearing their end: %w", err)
	}
	sent := 0
	var errs []error
	for _, c := range due {
		ok, err := s.sendExpiryNotice(ctx, c.ID, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("contract %s: %w", c.ID, err))
		}
		if ok {
			sent++
		}
	}
	return sent, errors.Join(errs...)
}

// sendExpiryNotice records and sends the notice of the narrowest window
// the contract is in at now, if that has not been sent, marking the wider
// windows covered, in one transaction with its audit entry; it reports
// whether it sent one.
func (s *Service) sendExpiryNotice(ctx context.Context, id string, now time.Time) (bool, error) {
	sent := false
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := load(withParties(tx), id)
		if err != nil {
			return err
		}
		window := c.Window(now)
		if window == 0 {
			return nil
		}
		var covered []int
		for _, months := range ExpiryWindows {
			if months < window {
				continue
			}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&expiryNotice{ContractID: c.ID, WindowMonths: months, SentAt: now})
			if res.Error != nil {
				return fmt.Errorf("record expiry notice: %w", res.Error)
			}
			if months == window && res.RowsAffected == 0 {
				return nil // sent already, with the wider windows
			}
			if months != window && res.RowsAffected > 0 {
				covered = append(covered, months)
			}
		}
		leads, err := orgs.UsersWithRole(tx, authz.TrustLead, c.OrganisationID)
		if err != nil {
			return err
		}
		data := map[string]any{"Contract": c.Name(), "Trust": c.Organisation.Name, "Supplier": c.Supplier.Name,
			"LastDay": c.LastDay(), "Months": window}
		for _, u := range leads {
			if err := s.Notify.Notify(ctx, tx, u, KindExpiry, data, ContractPath(c.ID)); err != nil {
				return fmt.Errorf("notify contract expiry: %w", err)
			}
		}
		sent = true
		return s.appendAudit(tx, audit.System, "contract.expiry_notice", c.ID, map[string]any{
			"window_months": window, "covered": covered, "last_day": dateValue(c.LastDay()), "recipients": len(leads)})
	})
	if err != nil {
		return false, err
	}
	return sent, nil
}
