package exit

import (
	"context"
	"fmt"
	"time"
)

// HistoryEntry is a deployment's rating in one weekly snapshot.
type HistoryEntry struct {
	Week    string
	TakenAt time.Time
	Rating  string
	Reason  string
}

// History lists a deployment's ratings in the snapshots, newest first.
func (s *Service) History(ctx context.Context, deploymentID string) ([]HistoryEntry, error) {
	var out []HistoryEntry
	err := s.DB.WithContext(ctx).Table("exit_snapshot_ratings r").Select("s.week, s.taken_at, r.rating, r.reason").
		Joins("JOIN exit_snapshots s ON s.id = r.snapshot_id").Where("r.deployment_id = ?", deploymentID).
		Order("s.taken_at DESC").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read rating history: %w", err)
	}
	for i := range out {
		out[i].TakenAt = out[i].TakenAt.UTC()
	}
	return out, nil
}

// CompetitionChoice is a mini-competition an exit plan may link to.
type CompetitionChoice struct {
	ID, Reference, Title string
}

// CompetitionChoices lists the mini-competitions in which the trust is a
// buyer, newest first: those its deployments' exit plans may link to.
func (s *Service) CompetitionChoices(ctx context.Context, trustID string) ([]CompetitionChoice, error) {
	var out []CompetitionChoice
	err := s.DB.WithContext(ctx).Table("competitions c").Select("c.id, c.reference, c.title").
		Joins("JOIN competition_buyers b ON b.competition_id = c.id").Where("b.organisation_id = ?", trustID).
		Order("c.created_at DESC, c.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list competitions: %w", err)
	}
	return out, nil
}
