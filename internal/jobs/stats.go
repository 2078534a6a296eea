package jobs

import (
	"context"
	"fmt"

	"github.com/nhsprocure/portal/internal/store"
)

// States are River's job states, in the order the metrics list them: a
// backlog shows as available, trouble as retryable and discarded.
var States = []string{"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded", "pending"}

// CountByState counts the jobs in River's table by state, one query, so a
// metrics scrape can show the backlog every instance shares. States with no
// jobs are absent from the map. River's table is in the current schema (see
// the package comment), which is where an unqualified name resolves.
func CountByState(ctx context.Context, db *store.DB) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	if err := db.WithContext(ctx).Raw("SELECT state, count(*) AS n FROM river_job GROUP BY state").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("jobs: count by state: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}
