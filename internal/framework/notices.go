package framework

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Notifier records a notification for a portal user inside the caller's
// transaction, so it exists if and only if the change it describes
// commits; *notify.Notifier satisfies it.
type Notifier interface {
	Notify(ctx context.Context, tx *gorm.DB, userID, kind string, data map[string]any, link string) error
}

// Notification kinds this package sends: notify.KindAwardLetter (a legal
// notice; its templates read Procurement, Organisation, Successful, Reasons
// and StandstillEnds) and notify.KindFrameworkUpdate (Framework, Update).
// The names are repeated so that this package does not import notify.
const (
	awardLetterKind = "award_letter"
	updateKind      = "framework_update"
)

// FrameworkPath is the consortium's page of a framework; notifications to
// its leads link to it.
func FrameworkPath(frameworkID string) string { return "/frameworks/" + frameworkID }

// SupplierPath is a supplier's page of a framework, with its applications
// and their outcome; award letters and updates to suppliers link to it.
func SupplierPath(frameworkID string) string { return "/frameworks/" + frameworkID + "/apply" }

// BuyPath is a trust's list of the frameworks it can buy from or ask to
// join; decisions on its requests for access link to it.
const BuyPath = "/buy"

// notifyAll sends one notification to each user, in tx.
func (s *Service) notifyAll(ctx context.Context, tx *gorm.DB, userIDs []string, kind string, data map[string]any, link string) error {
	if len(userIDs) == 0 {
		return nil
	}
	if s.Notify == nil {
		return fmt.Errorf("framework: sending %s needs a notifier", kind)
	}
	for _, id := range userIDs {
		if err := s.Notify.Notify(ctx, tx, id, kind, data, link); err != nil {
			return err
		}
	}
	return nil
}
