// Package domaintest holds what the domain packages' tests share: the
// portal's real notifier with its email templates (queueing into a table
// instead of River, so tests can count what would be sent), and the demo
// people and organisations they act as. Tests of the pages use apptest,
// which runs the whole portal instead.
package domaintest

import (
	"context"
	"encoding/json"
	"io/fs"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	portal "github.com/nhsprocure/portal"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
)

// DevIssuer is the development provider's issuer the demo people belong to.
const DevIssuer = "http://localhost:8080/dev-idp"

// JobTable stands in for the River queue under the real notifier: it
// writes each email job into test_jobs in the caller's transaction, so a
// rolled-back change leaves no job behind.
type JobTable struct{}

// InsertTx records the job's kind and, for an email, its notification.
func (JobTable) InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, _ *river.InsertOpts) error {
	id := ""
	if a, ok := args.(notify.EmailArgs); ok {
		id = a.NotificationID
	}
	return tx.WithContext(ctx).Exec("INSERT INTO test_jobs (kind, notification_id) VALUES (?, ?)", args.Kind(), id).Error
}

// Notifier is the portal's notifier with its email templates, queueing
// into test_jobs (created here).
func Notifier(t testing.TB, db *store.DB, log *audit.Log, clk clock.Clock) *notify.Notifier {
	t.Helper()
	if err := db.Exec("CREATE TABLE test_jobs (kind TEXT NOT NULL, notification_id TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	emails, err := fs.Sub(portal.Views(), "email")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := notify.LoadTemplates(emails)
	if err != nil {
		t.Fatal(err)
	}
	return &notify.Notifier{DB: db, Audit: log, Clock: clk, Queue: JobTable{}, Templates: tpl, BaseURL: "https://portal.example.nhs.uk"}
}

// DemoActor is the demo user with the subject, acting for their first
// organisation.
func DemoActor(t testing.TB, db *store.DB, subject string) audit.Actor {
	t.Helper()
	var u orgs.User
	if err := db.Where("subject = ?", subject).First(&u).Error; err != nil {
		t.Fatalf("demo user %s: %v", subject, err)
	}
	var m orgs.Membership
	if err := db.Where("user_id = ?", u.ID).Order("created_at").First(&m).Error; err != nil {
		t.Fatalf("membership of %s: %v", subject, err)
	}
	return audit.Actor{UserID: u.ID, Label: u.Name, OrgID: m.OrganisationID}
}

// AddUser adds a person of the development provider holding role in the
// organisation; id is also their subject.
func AddUser(t testing.TB, db *store.DB, at time.Time, id, name, role, orgID string) audit.Actor {
	t.Helper()
	u := orgs.User{ID: id, Issuer: DevIssuer, Subject: id, Email: id + "@example.nhs.uk", Name: name, Version: 1, CreatedAt: at, UpdatedAt: at}
	if err := db.Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	m := orgs.Membership{ID: "m-" + id, UserID: id, OrganisationID: orgID, Role: role, Source: orgs.SourcePortal, CreatedAt: at}
	if err := db.Omit("User", "Organisation").Create(&m).Error; err != nil {
		t.Fatal(err)
	}
	return audit.Actor{UserID: id, Label: name, OrgID: orgID}
}

// OrgID is the ID of the first organisation matching the condition.
func OrgID(t testing.TB, db *store.DB, where string, args ...any) string {
	t.Helper()
	var o orgs.Organisation
	if err := db.Where(where, args...).First(&o).Error; err != nil {
		t.Fatalf("organisation where %s %v: %v", where, args, err)
	}
	return o.ID
}

// Note is a stored notification with its data decoded.
type Note struct {
	UserID string
	Kind   string
	Link   string
	Data   map[string]any
}

// Notes lists the notifications of a kind, oldest first.
func Notes(t testing.TB, db *store.DB, kind string) []Note {
	t.Helper()
	var rows []struct {
		UserID string
		Kind   string
		Link   string
		Data   string
	}
	if err := db.Table("notifications").Select("user_id, kind, link, data").Where("kind = ?", kind).
		Order("created_at, user_id, id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]Note, len(rows))
	for i, r := range rows {
		out[i] = Note{UserID: r.UserID, Kind: r.Kind, Link: r.Link}
		if err := json.Unmarshal([]byte(r.Data), &out[i].Data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// CompleteBid is a bid that leaves nothing out: every pass/fail
// requirement met, every other answered with text, every line of every
// buying trust's price schedule at pence per unit, every declaration made.
func CompleteBid(t testing.TB, s *competition.Service, c *competition.Competition, text string, pence int64) competition.BidContent {
	t.Helper()
	ctx := context.Background()
	reqs, err := s.Requirements(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := s.PriceSchedules(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := competition.BidContent{Answers: map[string]framework.Answer{}}
	for _, r := range reqs {
		switch r.ResponseType {
		case catalogue.PassFail:
			b.Answers[r.ID] = framework.Answer{Meets: framework.AnswerYes}
		default:
			b.Answers[r.ID] = framework.Answer{Text: text + " " + r.Reference}
		}
	}
	for _, sc := range scheds {
		for _, it := range sc.Items {
			b.SetPrice(sc.Buyer.OrganisationID, it.ID, pence)
		}
	}
	for _, d := range framework.Declarations {
		b.Declarations = append(b.Declarations, d.Key)
	}
	return b
}

// PassingScores are an evaluator's marks for the requirements: every
// pass/fail one passed, every other marked 3, each with a justification.
func PassingScores(reqs []framework.LotRequirement) []framework.ScoreInput {
	in := make([]framework.ScoreInput, 0, len(reqs))
	for _, r := range reqs {
		sc := framework.ScoreInput{LotRequirementID: r.ID, Justification: "Evidence seen"}
		if r.ResponseType == catalogue.PassFail {
			pass := true
			sc.Pass = &pass
		} else {
			mark := 3
			sc.Score = &mark
		}
		in = append(in, sc)
	}
	return in
}
