package award

import "github.com/nhsprocure/portal/internal/notify"

// Notification kinds the award sends (registered in notify.Kinds).
const (
	KindAssessmentSummary = notify.KindAssessmentSummary
	KindStandstill        = notify.KindStandstillNotice
	KindApprovalReminder  = notify.KindApprovalReminder
	KindAwardUpdate       = notify.KindAwardUpdate
	// KindBoardDecision tells the lead trust of a board's rejection, or
	// that every board has approved.
	KindBoardDecision = notify.KindAwardUpdate
)
