package framework_test

import (
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/framework"
)

func TestStateFollowsTheClock(t *testing.T) {
	opens := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	deadline := time.Date(2027, 1, 20, 12, 0, 0, 0, time.UTC)
	standstillEnds := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	base := framework.Framework{
		ApplicationsOpen: opens, ClarificationDeadline: opens.AddDate(0, 1, 0), ApplicationDeadline: deadline,
		TermStart: date(2027, 4, 1), TermEnd: date(2031, 4, 1),
	}
	with := func(status string, standstill *time.Time) framework.Framework {
		f := base
		f.Status = status
		f.StandstillEnds = standstill
		return f
	}
	tests := []struct {
		name string
		f    framework.Framework
		now  time.Time
		want string
	}{
		{"draft", with(framework.StatusDraft, nil), deadline, framework.StateDraft},
		{"published before the window", with(framework.StatusPublished, nil), opens.Add(-time.Second), framework.StateScheduled},
		{"the window opens", with(framework.StatusPublished, nil), opens, framework.StateOpen},
		{"a second before the deadline", with(framework.StatusPublished, nil), deadline.Add(-time.Second), framework.StateOpen},
		{"the deadline exactly", with(framework.StatusPublished, nil), deadline, framework.StateEvaluation},
		{"long after the deadline, not yet evaluated", with(framework.StatusPublished, nil), date(2032, 1, 1), framework.StateEvaluation},
		{"in standstill", with(framework.StatusStandstill, &standstillEnds), standstillEnds.Add(-time.Second), framework.StateStandstill},
		{"evaluation done, standstill running", with(framework.StatusEvaluationDone, &standstillEnds), standstillEnds.Add(-time.Hour), framework.StateStandstill},
		{"standstill over", with(framework.StatusStandstill, &standstillEnds), standstillEnds, framework.StateLive},
		{"live during the term", with(framework.StatusLive, nil), date(2029, 6, 1), framework.StateLive},
		{"last moment of the term", with(framework.StatusStandstill, &standstillEnds), date(2031, 4, 1).Add(-time.Second), framework.StateLive},
		{"term ended", with(framework.StatusStandstill, &standstillEnds), date(2031, 4, 1), framework.StateExpired},
		{"live past the term", with(framework.StatusLive, nil), date(2031, 4, 2), framework.StateExpired},
		{"cancelled while open", with(framework.StatusCancelled, nil), opens.Add(time.Hour), framework.StateCancelled},
		{"cancelled after the term", with(framework.StatusCancelled, nil), date(2032, 1, 1), framework.StateCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.State(tt.now); got != tt.want {
				t.Fatalf("State(%s) = %q, want %q", tt.now.Format(time.RFC3339), got, tt.want)
			}
			if framework.StateLabel(tt.want) == "" {
				t.Fatal("state without a label")
			}
		})
	}
}
