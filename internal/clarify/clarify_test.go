package clarify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clarify"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/validate"
)

// The portal's notifier must fit the interface the package asks for.
var _ clarify.Notifier = (*notify.Notifier)(nil)

const devIssuer = "http://localhost:8080/dev-idp"

var (
	t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	// 5pm on 4 December 2026, UK time (GMT in winter).
	deadline = time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
)

// recorder is a Notifier that writes each call into a table inside the
// caller's transaction, so a rolled-back answer leaves no trace. It fails
// when asked to notify failFor.
type recorder struct{ failFor string }

func (r *recorder) Notify(ctx context.Context, tx *gorm.DB, userID, kind string, data map[string]any, link string) error {
	if userID == r.failFor {
		return errors.New("notifier failed")
	}
	return tx.WithContext(ctx).Exec("INSERT INTO test_notes (user_id, kind, procurement, question, answer, link) VALUES (?, ?, ?, ?, ?, ?)",
		userID, kind, data["Procurement"], data["Question"], data["Answer"], link).Error
}

type note struct {
	UserID, Kind, Procurement, Question, Answer, Link string
}

type fixture struct {
	s                    *clarify.Service
	db                   *store.DB
	clk                  *clock.Manual
	notes                *recorder
	p                    clarify.Procedure
	meridian, northgate  string // organisation ids
	sarah, james         audit.Actor
	lead                 audit.Actor
	trustLead, boardGSTT string // user ids of other invited people
	meridianName         string
	northgateName        string
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(t0)
	log := &audit.Log{Clock: clk}
	if _, err := orgs.SeedDemo(ctx, db.DB, log, clk.Now(), devIssuer); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE test_notes (user_id TEXT, kind TEXT, procurement TEXT, question TEXT, answer TEXT, link TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	org := func(where string, args ...any) orgs.Organisation {
		var o orgs.Organisation
		if err := db.Where(where, args...).First(&o).Error; err != nil {
			t.Fatal(err)
		}
		return o
	}
	user := func(subject string) string {
		var u orgs.User
		if err := db.Where("subject = ?", subject).First(&u).Error; err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	meridian := org("companies_house_number = ?", "04123456")
	northgate := org("companies_house_number = ?", "05234567")
	london := org("kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon)
	rec := &recorder{}
	return &fixture{
		s:   &clarify.Service{DB: db, Audit: log, Clock: clk, Notify: rec},
		db:  db,
		clk: clk, notes: rec,
		p: clarify.Procedure{
			Type: clarify.TypeFramework, ID: "fw-1", Title: "EPR systems framework",
			OwnerOrgID: london.ID, QuestionDeadline: deadline, Link: "/frameworks/fw-1/clarifications",
		},
		meridian: meridian.ID, northgate: northgate.ID,
		meridianName: meridian.Name, northgateName: northgate.Name,
		sarah:     audit.Actor{UserID: user("demo-supplier"), Label: "Sarah Lund", OrgID: meridian.ID},
		james:     audit.Actor{UserID: user("demo-supplier-2"), Label: "James Whitfield", OrgID: northgate.ID},
		lead:      audit.Actor{UserID: user("demo-consortium-lead"), Label: "Tom Reilly", OrgID: london.ID},
		trustLead: user("demo-trust-lead"), boardGSTT: user("demo-board-member-gstt"),
	}
}

func (f *fixture) sent(t *testing.T) []note {
	t.Helper()
	var out []note
	if err := f.db.Raw("SELECT user_id, kind, procurement, question, answer, link FROM test_notes ORDER BY user_id").Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) question(t *testing.T, id string) clarify.Question {
	t.Helper()
	var q clarify.Question
	if err := f.db.Where("id = ?", id).First(&q).Error; err != nil {
		t.Fatal(err)
	}
	return q
}

func (f *fixture) auditCount(t *testing.T, action string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Model(&audit.Entry{}).Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAskDeadline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()

		f.clk.Set(deadline.Add(-time.Second))
		q, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "  Does lot 1 include hosting?  ")
		if err != nil {
			t.Fatal(err)
		}
		if q.Text != "Does lot 1 include hosting?" || q.Status != clarify.StatusOpen || q.Version != 1 {
			t.Fatalf("question = %+v", q)
		}
		if n := f.auditCount(t, "clarification.ask"); n != 1 {
			t.Fatalf("%d ask audit entries, want 1", n)
		}

		for _, at := range []time.Time{deadline, deadline.Add(time.Minute)} {
			f.clk.Set(at)
			_, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "Another question")
			if !errors.Is(err, clarify.ErrDeadlinePassed) {
				t.Fatalf("ask at %s: err = %v, want deadline passed", at, err)
			}
			if want := "The deadline for questions was 5pm on 4 December 2026"; err.Error() != want {
				t.Fatalf("message = %q, want %q", err.Error(), want)
			}
		}
		var n int64
		db.Model(&clarify.Question{}).Count(&n)
		if n != 1 {
			t.Fatalf("%d questions stored, want 1", n)
		}
	})
}

func TestUKTime(t *testing.T) {
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{deadline, "5pm on 4 December 2026"},
		{time.Date(2026, 6, 1, 16, 30, 0, 0, time.UTC), "5:30pm on 1 June 2026"}, // BST
		{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), "midday on 1 December 2026"},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "midnight on 1 December 2026"},
	} {
		if got := clarify.UKTime(c.at); got != c.want {
			t.Errorf("UKTime(%s) = %q, want %q", c.at, got, c.want)
		}
	}
}

func TestAskValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		_, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "   ")
		if v, ok := validate.As(err); !ok || v.For(clarify.FieldText) != "Enter your question" {
			t.Fatalf("blank question: err = %v", err)
		}
		if _, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, strings.Repeat("é", 5000)); err != nil {
			t.Fatalf("5,000 characters: %v", err)
		}
		_, err = f.s.Ask(ctx, f.sarah, f.p, f.meridian, strings.Repeat("a", 5001))
		if v, ok := validate.As(err); !ok || !strings.Contains(v.For(clarify.FieldText), "5,000 characters or fewer") {
			t.Fatalf("5,001 characters: err = %v", err)
		}
		// Sarah cannot ask on Northgate's behalf, nor the lead as a supplier.
		if _, err := f.s.Ask(ctx, f.sarah, f.p, f.northgate, "Question"); !errors.Is(err, clarify.ErrForbidden) {
			t.Fatalf("ask for another supplier: err = %v", err)
		}
		if _, err := f.s.Ask(ctx, f.lead, f.p, f.p.OwnerOrgID, "Question"); !errors.Is(err, clarify.ErrForbidden) {
			t.Fatalf("lead asks: err = %v", err)
		}
	})
}

func TestSuppliersNeverSeeEachOther(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		mine, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "Meridian: does lot 1 include hosting?")
		if err != nil {
			t.Fatal(err)
		}
		private, err := f.s.Ask(ctx, f.james, f.p, f.northgate, "Northgate secret: can we propose our own pricing model?")
		if err != nil {
			t.Fatal(err)
		}
		public, err := f.s.Ask(ctx, f.james, f.p, f.northgate, "Northgate asks: is the contract term four years?")
		if err != nil {
			t.Fatal(err)
		}
		// A question in another procedure never shows here.
		other := f.p
		other.ID = "fw-2"
		if _, err := f.s.Ask(ctx, f.sarah, other, f.meridian, "Other framework question"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.AnswerPublic(ctx, f.lead, f.p, public.ID, 1, "Is the contract term four years?", "Yes, four years.", nil); err != nil {
			t.Fatal(err)
		}

		view, err := f.s.ForSupplier(ctx, f.p, f.meridian)
		if err != nil {
			t.Fatal(err)
		}
		if len(view.Mine) != 1 || view.Mine[0].ID != mine.ID {
			t.Fatalf("Meridian's own questions = %+v, want just its own", view.Mine)
		}
		if len(view.Public) != 1 || view.Public[0].PublicQuestion != "Is the contract term four years?" || view.Public[0].Answer != "Yes, four years." {
			t.Fatalf("public answers = %+v", view.Public)
		}
		if view.Public[0].AnsweredAt.IsZero() {
			t.Fatal("public answer has no time")
		}
		dump := fmt.Sprintf("%+v", view)
		for _, leak := range []string{private.ID, f.northgate, f.james.UserID, "Northgate", "secret", "pricing"} {
			if strings.Contains(dump, leak) {
				t.Fatalf("Meridian's view contains %q: %s", leak, dump)
			}
		}

		// Northgate sees both its own questions and the public answer.
		nview, err := f.s.ForSupplier(ctx, f.p, f.northgate)
		if err != nil {
			t.Fatal(err)
		}
		if len(nview.Mine) != 2 || len(nview.Public) != 1 {
			t.Fatalf("Northgate's view = %+v", nview)
		}
		if strings.Contains(fmt.Sprintf("%+v", nview), mine.Text) {
			t.Fatal("Northgate sees Meridian's question")
		}

		// The lead sees everything in the procedure, with who asked.
		all, err := f.s.ForLead(ctx, f.p)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 {
			t.Fatalf("lead sees %d questions, want 3", len(all))
		}
		names := map[string]string{}
		for _, q := range all {
			names[q.ID] = q.AskedByOrgName
		}
		if names[mine.ID] != f.meridianName || names[private.ID] != f.northgateName || names[public.ID] != f.northgateName {
			t.Fatalf("lead sees askers %v", names)
		}
		answers, err := f.s.PublicAnswers(ctx, f.p)
		if err != nil || len(answers) != 1 || answers[0].ID != public.ID {
			t.Fatalf("public answers = %+v, %v", answers, err)
		}
	})
}

func TestAnswerPublicNotifiesEveryone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		q, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "Does lot 1 include hosting?")
		if err != nil {
			t.Fatal(err)
		}
		recipients := []string{f.sarah.UserID, f.james.UserID, f.trustLead, f.boardGSTT}

		// A notifier failing on the last recipient rolls the whole answer
		// back: nobody is notified and the question stays open.
		f.notes.failFor = f.boardGSTT
		if err := f.s.AnswerPublic(ctx, f.lead, f.p, q.ID, 1, "Does lot 1 include hosting?", "Yes.", recipients); err == nil {
			t.Fatal("answer with a failing notifier succeeded")
		}
		if n := f.sent(t); len(n) != 0 {
			t.Fatalf("rolled-back answer notified %+v", n)
		}
		if got := f.question(t, q.ID); got.Status != clarify.StatusOpen || got.Version != 1 || got.Answer != "" {
			t.Fatalf("rolled-back answer changed the question: %+v", got)
		}
		if n := f.auditCount(t, "clarification.answer_public"); n != 0 {
			t.Fatalf("rolled-back answer audited %d times", n)
		}

		f.notes.failFor = ""
		f.clk.Advance(time.Hour)
		if err := f.s.AnswerPublic(ctx, f.lead, f.p, q.ID, 1, "Does lot 1 include hosting?", "Yes, hosting is included.", append(recipients, f.james.UserID)); err != nil {
			t.Fatal(err)
		}
		notes := f.sent(t)
		if len(notes) != len(recipients) {
			t.Fatalf("%d notifications, want one per recipient (%d): %+v", len(notes), len(recipients), notes)
		}
		got := map[string]bool{}
		for _, n := range notes {
			got[n.UserID] = true
			if n.Kind != notify.KindClarificationAnswered || n.Procurement != f.p.Title || n.Question != "Does lot 1 include hosting?" ||
				n.Answer != "Yes, hosting is included." || n.Link != f.p.Link {
				t.Fatalf("notification = %+v", n)
			}
		}
		for _, r := range recipients {
			if !got[r] {
				t.Fatalf("recipient %s not notified", r)
			}
		}
		stored := f.question(t, q.ID)
		if stored.Status != clarify.StatusAnsweredPublic || stored.Version != 2 || stored.AnsweredBy != f.lead.UserID ||
			stored.AnsweredAt == nil || !stored.AnsweredAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("stored = %+v", stored)
		}
		if n := f.auditCount(t, "clarification.answer_public"); n != 1 {
			t.Fatalf("%d answer audit entries, want 1", n)
		}
		// Answered questions cannot be answered again or withdrawn.
		if err := f.s.AnswerPrivate(ctx, f.lead, f.p, q.ID, 2, "Again", nil); !errors.Is(err, clarify.ErrNotOpen) {
			t.Fatalf("second answer: err = %v", err)
		}
		if err := f.s.Withdraw(ctx, f.sarah, q.ID, f.meridian); !errors.Is(err, clarify.ErrNotOpen) {
			t.Fatalf("withdraw answered: err = %v", err)
		}
	})
}

func TestPublicWordingMustNotNameAsker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		q, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "Does lot 1 include hosting?")
		if err != nil {
			t.Fatal(err)
		}
		for _, wording := range []string{
			"MERIDIAN HEALTH SYSTEMS LTD asks whether lot 1 includes hosting",
			"Meridian health   systems asked about hosting",
			"Company 04123456 asks about hosting",
		} {
			err := f.s.AnswerPublic(ctx, f.lead, f.p, q.ID, 1, wording, "Yes.", []string{f.james.UserID})
			v, ok := validate.As(err)
			if !ok || !strings.Contains(v.For(clarify.FieldPublicQuestion), "names the supplier") {
				t.Fatalf("wording %q: err = %v", wording, err)
			}
		}
		if n := f.sent(t); len(n) != 0 {
			t.Fatalf("refused answers notified %+v", n)
		}
		err = f.s.AnswerPublic(ctx, f.lead, f.p, q.ID, 1, "", "", nil)
		v, ok := validate.As(err)
		if !ok || !v.Has(clarify.FieldPublicQuestion) || !v.Has(clarify.FieldAnswer) {
			t.Fatalf("blank answer: err = %v", err)
		}
		if got := f.question(t, q.ID); got.Status != clarify.StatusOpen {
			t.Fatalf("refused answer changed the question: %+v", got)
		}
		// Only the procedure's lead organisation answers.
		if err := f.s.AnswerPublic(ctx, f.james, f.p, q.ID, 1, "Is hosting included?", "No.", nil); !errors.Is(err, clarify.ErrForbidden) {
			t.Fatalf("supplier answers: err = %v", err)
		}
		// A question of another procedure is not found through this one.
		other := f.p
		other.ID = "fw-2"
		if err := f.s.AnswerPublic(ctx, f.lead, other, q.ID, 1, "Is hosting included?", "No.", nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("answer through another procedure: err = %v", err)
		}
	})
}

func TestAnswerPrivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		q, err := f.s.Ask(ctx, f.james, f.p, f.northgate, "Can we propose our own pricing model?")
		if err != nil {
			t.Fatal(err)
		}
		// A private answer cannot be sent to someone outside the asking
		// organisation.
		if err := f.s.AnswerPrivate(ctx, f.lead, f.p, q.ID, 1, "No.", []string{f.james.UserID, f.sarah.UserID}); !errors.Is(err, clarify.ErrForbidden) {
			t.Fatalf("private answer to another supplier: err = %v", err)
		}
		if n := f.sent(t); len(n) != 0 {
			t.Fatalf("refused answer notified %+v", n)
		}
		if err := f.s.AnswerPrivate(ctx, f.lead, f.p, q.ID, 1, "No, use the price schedule.", []string{f.james.UserID}); err != nil {
			t.Fatal(err)
		}
		notes := f.sent(t)
		if len(notes) != 1 || notes[0].UserID != f.james.UserID || notes[0].Question != q.Text || notes[0].Answer != "No, use the price schedule." {
			t.Fatalf("notifications = %+v", notes)
		}
		nview, err := f.s.ForSupplier(ctx, f.p, f.northgate)
		if err != nil {
			t.Fatal(err)
		}
		if len(nview.Mine) != 1 || nview.Mine[0].Status != clarify.StatusAnsweredPrivate || nview.Mine[0].Answer != "No, use the price schedule." {
			t.Fatalf("asker's view = %+v", nview)
		}
		mview, err := f.s.ForSupplier(ctx, f.p, f.meridian)
		if err != nil {
			t.Fatal(err)
		}
		if len(mview.Mine) != 0 || len(mview.Public) != 0 {
			t.Fatalf("other supplier sees %+v", mview)
		}
		if pub, err := f.s.PublicAnswers(ctx, f.p); err != nil || len(pub) != 0 {
			t.Fatalf("public answers = %+v, %v", pub, err)
		}
		if n := f.auditCount(t, "clarification.answer_private"); n != 1 {
			t.Fatalf("%d private answer audit entries", n)
		}
	})
}

func TestWithdraw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		q, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "Does lot 1 include hosting?")
		if err != nil {
			t.Fatal(err)
		}
		// Northgate cannot withdraw Meridian's question (nor learn it exists),
		// nor can James claim to act for Meridian.
		if err := f.s.Withdraw(ctx, f.james, q.ID, f.northgate); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other supplier withdraws: err = %v", err)
		}
		if err := f.s.Withdraw(ctx, f.james, q.ID, f.meridian); !errors.Is(err, clarify.ErrForbidden) {
			t.Fatalf("withdraw for an organisation not acted for: err = %v", err)
		}
		if err := f.s.Withdraw(ctx, f.sarah, "no-such-question", f.meridian); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("withdraw missing: err = %v", err)
		}
		if err := f.s.Withdraw(ctx, f.sarah, q.ID, f.meridian); err != nil {
			t.Fatal(err)
		}
		got := f.question(t, q.ID)
		if got.Status != clarify.StatusWithdrawn || got.Version != 2 {
			t.Fatalf("withdrawn = %+v", got)
		}
		if err := f.s.Withdraw(ctx, f.sarah, q.ID, f.meridian); !errors.Is(err, clarify.ErrNotOpen) {
			t.Fatalf("second withdraw: err = %v", err)
		}
		if err := f.s.AnswerPublic(ctx, f.lead, f.p, q.ID, 2, "Is hosting included?", "Yes.", nil); !errors.Is(err, clarify.ErrNotOpen) {
			t.Fatalf("answer withdrawn: err = %v", err)
		}
		if n := f.auditCount(t, "clarification.withdraw"); n != 1 {
			t.Fatalf("%d withdraw audit entries", n)
		}
		// The supplier still sees its withdrawn question.
		view, err := f.s.ForSupplier(ctx, f.p, f.meridian)
		if err != nil || len(view.Mine) != 1 || view.Mine[0].Status != clarify.StatusWithdrawn {
			t.Fatalf("view = %+v, %v", view, err)
		}
	})
}

func TestAnswerConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		q, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "Does lot 1 include hosting?")
		if err != nil {
			t.Fatal(err)
		}
		// Two leads answer at once from the same page: one wins, the other
		// is told the question changed.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 0 {
					errs[i] = f.s.AnswerPublic(ctx, f.lead, f.p, q.ID, 1, "Is hosting included?", "Yes.", []string{f.james.UserID})
				} else {
					errs[i] = f.s.AnswerPrivate(ctx, f.lead, f.p, q.ID, 1, "Yes, privately.", []string{f.sarah.UserID})
				}
			}()
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("results %v: want one success and one conflict", errs)
		}
		if n := f.sent(t); len(n) != 1 {
			t.Fatalf("notifications = %+v, want only the winner's", n)
		}
		// A stale version is a conflict too.
		q2, err := f.s.Ask(ctx, f.sarah, f.p, f.meridian, "Is training included?")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.AnswerPublic(ctx, f.lead, f.p, q2.ID, 0, "Is training included?", "Yes.", nil); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale version: err = %v", err)
		}
	})
}
