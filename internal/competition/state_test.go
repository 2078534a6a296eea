package competition_test

import (
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/competition"
)

// TestStateFollowsTheClock: the clock decides questions, bids and closed,
// with no job flipping a status; the deadlines themselves belong to the
// next state.
func TestStateFollowsTheClock(t *testing.T) {
	published := at(2027, 2, 15, 9, 0)
	eoi := at(2027, 2, 22, 17, 0)
	c := competition.Competition{
		Status: competition.StatusPublished, PublishedAt: &published, ExpressionOfInterest: true, EOIDeadline: &eoi,
		QuestionDeadline: at(2027, 3, 1, 17, 0), SubmissionDeadline: at(2027, 3, 15, 12, 0),
	}
	with := func(status string) competition.Competition { d := c; d.Status = status; return d }
	tests := []struct {
		name string
		c    competition.Competition
		now  time.Time
		want string
	}{
		{"draft", with(competition.StatusDraft), c.SubmissionDeadline.Add(time.Hour), competition.StateDraft},
		{"published", c, published, competition.StateQuestions},
		{"just before the question deadline", c, c.QuestionDeadline.Add(-time.Second), competition.StateQuestions},
		{"at the question deadline", c, c.QuestionDeadline, competition.StateBidding},
		{"a second before the deadline", c, c.SubmissionDeadline.Add(-time.Second), competition.StateBidding},
		{"at the deadline", c, c.SubmissionDeadline, competition.StateClosed},
		{"cancelled", with(competition.StatusCancelled), published, competition.StateCancelled},
	}
	for _, tt := range tests {
		if got := tt.c.State(tt.now); got != tt.want {
			t.Errorf("%s: state %s, want %s", tt.name, got, tt.want)
		}
	}
	if !c.InterestOpen(eoi.Add(-time.Second)) || c.InterestOpen(eoi) {
		t.Error("interest must be open until the deadline and closed at it")
	}
	if competition.StateLabel(competition.StateBidding) != "Open for bids" {
		t.Errorf("label %q", competition.StateLabel(competition.StateBidding))
	}
	// A draft's box opens at its deadline: it takes no bids at all.
	if box := competition.BidBox(&competition.Competition{ID: "c", SubmissionDeadline: c.SubmissionDeadline}); !box.Opens.Equal(box.Deadline) {
		t.Errorf("a draft's box opens at %v", box.Opens)
	}
}
