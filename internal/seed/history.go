package seed

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
)

// person is someone the seed made, who appears in the audit history.
type person struct{ userID, label, orgID string }

// historyChunk is how many history entries are built and written at once,
// so a million entries never sit in memory together.
const historyChunk = 10_000

// activities are what people did in the made-up history, by weight, with
// the kind of object each acts on.
var activities = []struct {
	action, objectType string
	weight             int
}{
	{"auth.sign_in", "user", 40},
	{"sealed.draft", "sealed_submission", 15},
	{"competition.bids.list", "competition", 12},
	{"competition.bid.read", "competition_bid", 10},
	{"evaluation.scores.save", "competition_bid", 8},
	{"sealed.submit", "sealed_submission", 5},
	{"notification.preferences_update", "user", 4},
	{"contract.update", "contract", 3},
	{"deployment.plan.update", "deployment", 3},
}

// history brings the audit log up to Scale.AuditEntries with two years of
// made-up activity by the seeded people, dated in order and ending an hour
// before the seed ran, linked onto the hash chain like any other entry
// (audit verify checks it).
func (g *generator) history(tx *gorm.DB, log *audit.Log) error {
	var have int64
	if err := tx.Model(&audit.Entry{}).Count(&have).Error; err != nil {
		return fmt.Errorf("count audit entries: %w", err)
	}
	n := int64(g.sc.AuditEntries) - have
	if n <= 0 || len(g.people) == 0 {
		return nil
	}
	var deployments []string
	if err := tx.Table("deployments").Order("id").Pluck("id", &deployments).Error; err != nil {
		return fmt.Errorf("read deployments: %w", err)
	}
	for _, id := range deployments {
		g.made("deployment", id)
	}
	total := 0
	for _, a := range activities {
		total += a.weight
	}
	from, to := g.now.AddDate(-2, 0, 0), g.now.Add(-time.Hour)
	step := to.Sub(from) / time.Duration(n)
	at := from
	entries := make([]audit.Entry, 0, historyChunk)
	for written := int64(0); written < n; {
		entries = entries[:0]
		for len(entries) < historyChunk && written+int64(len(entries)) < n {
			at = at.Add(time.Duration(g.rnd.Int64N(int64(2*step) + 1)))
			if at.After(to) {
				at = to
			}
			p := pick(g, g.people)
			w := g.rnd.IntN(total)
			a := activities[0]
			for _, x := range activities {
				if w < x.weight {
					a = x
					break
				}
				w -= x.weight
			}
			object := p.userID
			if ids := g.objects[a.objectType]; a.objectType != "user" && len(ids) > 0 {
				object = pick(g, ids)
			}
			entries = append(entries, audit.Entry{OccurredAt: at, ActorUserID: p.userID, ActorLabel: p.label, ActingOrgID: p.orgID,
				Action: a.action, ObjectType: a.objectType, ObjectID: object,
				IP: fmt.Sprintf("10.%d.%d.%d", g.rnd.IntN(256), g.rnd.IntN(256), 1+g.rnd.IntN(254))})
		}
		if err := log.AppendHistory(tx, entries); err != nil {
			return err
		}
		written += int64(len(entries))
	}
	return nil
}
