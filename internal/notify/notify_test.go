package notify_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	portal "github.com/nhsprocure/portal"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/notify/mailpittest"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/validate"
)

const baseURL = "https://portal.example.nhs.uk"

var start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func emailViews(t testing.TB) fs.FS {
	t.Helper()
	sub, err := fs.Sub(portal.Views(), "email")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func templates(t testing.TB) *notify.Templates {
	t.Helper()
	tpl, err := notify.LoadTemplates(emailViews(t))
	if err != nil {
		t.Fatalf("load the portal's email templates: %v", err)
	}
	return tpl
}

// tableQueue stands in for the River queue: it writes each job into a
// table in the caller's transaction, so a rollback removes it too.
type tableQueue struct{}

func (tableQueue) InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error {
	a, ok := args.(notify.EmailArgs)
	if !ok {
		return errors.New("unexpected job")
	}
	return tx.Exec("INSERT INTO test_jobs (kind, notification_id) VALUES (?, ?)", args.Kind(), a.NotificationID).Error
}

func queued(t *testing.T, db *store.DB) []string {
	t.Helper()
	var ids []string
	if err := db.Raw("SELECT notification_id FROM test_jobs WHERE kind = ? ORDER BY notification_id", "notify_email").Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func newNotifier(t *testing.T, db *store.DB) (*notify.Notifier, *clock.Manual) {
	t.Helper()
	if err := db.Exec("CREATE TABLE test_jobs (kind TEXT NOT NULL, notification_id TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(start)
	return &notify.Notifier{DB: db, Audit: &audit.Log{Clock: clk}, Clock: clk, Queue: tableQueue{}, Templates: templates(t), BaseURL: baseURL}, clk
}

func newUser(t *testing.T, db *store.DB, id, email, name string) {
	t.Helper()
	u := orgs.User{ID: id, Issuer: "https://idp.example", Subject: id, Email: email, Name: name, Version: 1, CreatedAt: start, UpdatedAt: start}
	if err := db.Create(&u).Error; err != nil {
		t.Fatal(err)
	}
}

func deadlineData() map[string]any {
	return map[string]any{
		"Procurement": "Radiology PACS replacement",
		"OldDeadline": time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC),
		"NewDeadline": time.Date(2026, 12, 11, 12, 0, 0, 0, time.UTC),
		"Reason":      "Suppliers asked for more time to answer the clarification about data migration.",
	}
}

func notifyCommitted(t *testing.T, n *notify.Notifier, userID, kind string, data map[string]any, link string) {
	t.Helper()
	err := n.DB.Tx(context.Background(), func(tx *gorm.DB) error {
		return n.Notify(context.Background(), tx, userID, kind, data, link)
	})
	if err != nil {
		t.Fatalf("notify %s: %v", kind, err)
	}
}

func only(t *testing.T, n *notify.Notifier, userID string) notify.Notification {
	t.Helper()
	list, err := n.List(context.Background(), userID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("got %d notifications, want 1", len(list))
	}
	return list[0]
}

func job(id string, attempt int) *river.Job[notify.EmailArgs] {
	return &river.Job[notify.EmailArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, Kind: "notify_email"}, Args: notify.EmailArgs{NotificationID: id}}
}

func reload(t *testing.T, db *store.DB, id string) notify.Notification {
	t.Helper()
	var note notify.Notification
	if err := db.Where("id = ?", id).First(&note).Error; err != nil {
		t.Fatal(err)
	}
	return note
}

func TestNotifyRecordsAndQueuesInTheCallersTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, _ := newNotifier(t, db)
		newUser(t, db, "u1", "asha.patel@example.nhs.uk", "Asha Patel")

		notifyCommitted(t, n, "u1", notify.KindDeadlineChange, deadlineData(), "/procurements/p1")
		note := only(t, n, "u1")
		if note.Subject != "Deadline changed: Radiology PACS replacement" || !note.Legal || !note.InApp || !note.SendEmail {
			t.Fatalf("notification = %+v", note)
		}
		for _, want := range []string{
			"New deadline: midday on Friday 11 December 2026 (UK time)",
			"Previous deadline: 5pm on Friday 4 December 2026 (UK time)",
			"Reason given by the buyer:",
		} {
			if !strings.Contains(note.BodyText, want) {
				t.Errorf("body lacks %q:\n%s", want, note.BodyText)
			}
		}
		if strings.Contains(note.BodyText, "Dear") || strings.Contains(note.BodyText, "Replies are not read") {
			t.Errorf("the portal's text carries the email greeting or footer:\n%s", note.BodyText)
		}
		if note.Link != "/procurements/p1" || note.ReadAt != nil || note.EmailedAt != nil || !note.CreatedAt.Equal(start) {
			t.Errorf("notification = %+v", note)
		}
		if got := queued(t, db); len(got) != 1 || got[0] != note.ID {
			t.Fatalf("queued jobs = %v, want the notification's email", got)
		}
		if c, _ := n.UnreadCount(ctx, "u1"); c != 1 {
			t.Fatalf("unread = %d, want 1", c)
		}

		// A transaction that rolls back takes the notification and its job with it.
		boom := errors.New("the procurement change failed")
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			if err := n.Notify(ctx, tx, "u1", notify.KindInvitation, map[string]any{
				"Procurement": "Wound care products", "Buyer": "Barts Health NHS Trust", "Deadline": start.Add(72 * time.Hour),
			}, "/procurements/p2"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("tx err = %v", err)
		}
		only(t, n, "u1")
		if got := queued(t, db); len(got) != 1 {
			t.Fatalf("rolled-back notification left a job: %v", got)
		}
		if c, _ := n.UnreadCount(ctx, "u1"); c != 1 {
			t.Fatalf("unread = %d after rollback, want 1", c)
		}
	})
}

func TestNotifyRefusesWhatItCannotSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, _ := newNotifier(t, db)
		newUser(t, db, "u1", "a@example.nhs.uk", "A")
		cases := map[string]func(tx *gorm.DB) error{
			"unknown kind": func(tx *gorm.DB) error { return n.Notify(ctx, tx, "u1", "carrier_pigeon", nil, "") },
			"link elsewhere": func(tx *gorm.DB) error {
				return n.Notify(ctx, tx, "u1", notify.KindTestMessage, map[string]any{"SentBy": "x"}, "https://evil.example/login")
			},
			"protocol-relative link": func(tx *gorm.DB) error {
				return n.Notify(ctx, tx, "u1", notify.KindTestMessage, map[string]any{"SentBy": "x"}, "//evil.example/login")
			},
			"missing data": func(tx *gorm.DB) error {
				return n.Notify(ctx, tx, "u1", notify.KindDeadlineChange, map[string]any{"Procurement": "X"}, "")
			},
			"not a date": func(tx *gorm.DB) error {
				d := deadlineData()
				d["NewDeadline"] = "next Tuesday"
				return n.Notify(ctx, tx, "u1", notify.KindDeadlineChange, d, "")
			},
			"unknown user": func(tx *gorm.DB) error {
				return n.Notify(ctx, tx, "nobody", notify.KindTestMessage, map[string]any{"SentBy": "x"}, "")
			},
		}
		for name, fn := range cases {
			if err := db.Tx(ctx, fn); err == nil {
				t.Errorf("%s: Notify succeeded", name)
			}
		}
		if list, _ := n.List(ctx, "u1", 10); len(list) != 0 {
			t.Fatalf("refused notifications were recorded: %+v", list)
		}
		// A link under the portal's own URL is fine.
		notifyCommitted(t, n, "u1", notify.KindTestMessage, map[string]any{"SentBy": "x"}, baseURL+"/notifications")
	})
}

func TestPreferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, clk := newNotifier(t, db)
		newUser(t, db, "u1", "a@example.nhs.uk", "A")
		actor := audit.Actor{UserID: "u1", Label: "A"}

		prefs, err := n.Preferences(ctx, "u1")
		if err != nil || len(prefs) != len(notify.Kinds) {
			t.Fatalf("preferences = %v, %v", prefs, err)
		}
		for i, p := range prefs {
			if p.Kind != notify.Kinds[i].Name || !p.Email || !p.InApp || p.Label == "" || p.Legal != notify.Kinds[i].Legal {
				t.Fatalf("default preference %+v", p)
			}
		}

		// Switching a legal kind off, either way, is refused.
		err = n.SetPreferences(ctx, actor, "u1", map[string]notify.Preference{
			notify.KindAwardLetter:    {Email: false, InApp: true},
			notify.KindDeadlineChange: {Email: true, InApp: false},
			notify.KindInvitation:     {Email: false, InApp: true},
		})
		v, ok := validate.As(err)
		if !ok || !v.Has(notify.KindAwardLetter) || !v.Has(notify.KindDeadlineChange) || len(v.List) != 2 {
			t.Fatalf("err = %v, want field errors for both legal kinds", err)
		}
		if v.List[0].Field != notify.KindAwardLetter || !strings.Contains(v.For(notify.KindAwardLetter), "legal notices") {
			t.Fatalf("errors = %+v", v.List)
		}
		if prefs, _ := n.Preferences(ctx, "u1"); !prefs[3].Email {
			t.Fatal("a refused change was partly saved")
		}
		if err := n.SetPreferences(ctx, actor, "u1", map[string]notify.Preference{"carrier_pigeon": {}}); err == nil {
			t.Fatal("unknown kind accepted")
		}
		if err := n.SetPreferences(ctx, actor, "nobody", map[string]notify.Preference{notify.KindInvitation: {}}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user: err = %v", err)
		}

		// Invitations in the portal only; clarifications by email only;
		// role changes not at all. Keeping legal kinds on is allowed.
		err = n.SetPreferences(ctx, actor, "u1", map[string]notify.Preference{
			notify.KindInvitation:            {Email: false, InApp: true},
			notify.KindClarificationAnswered: {Email: true, InApp: false},
			notify.KindRoleChanged:           {Email: false, InApp: false},
			notify.KindAwardLetter:           {Email: true, InApp: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := audit.List(ctx, db, audit.Filter{Action: "notification.preferences_update"})
		if len(entries) != 1 || entries[0].ObjectID != "u1" || entries[0].ActorUserID != "u1" ||
			!strings.Contains(entries[0].Detail, notify.KindRoleChanged) || strings.Contains(entries[0].Detail, notify.KindAwardLetter) {
			t.Fatalf("audit entries = %+v", entries)
		}
		// Saving the same choices again changes nothing and audits nothing.
		if err := n.SetPreferences(ctx, actor, "u1", map[string]notify.Preference{notify.KindInvitation: {Email: false, InApp: true}}); err != nil {
			t.Fatal(err)
		}
		if entries, _ := audit.List(ctx, db, audit.Filter{Action: "notification."}); len(entries) != 1 {
			t.Fatalf("unchanged preferences were audited: %d entries", len(entries))
		}
		prefs, _ = n.Preferences(ctx, "u1")
		got := map[string]notify.Preference{}
		for _, p := range prefs {
			got[p.Kind] = p
		}
		if p := got[notify.KindInvitation]; p.Email || !p.InApp {
			t.Fatalf("invitation preference = %+v", p)
		}
		if p := got[notify.KindRoleChanged]; p.Email || p.InApp {
			t.Fatalf("role change preference = %+v", p)
		}

		notifyCommitted(t, n, "u1", notify.KindInvitation, map[string]any{
			"Procurement": "Wound care products", "Buyer": "Barts Health NHS Trust", "Deadline": start.Add(72 * time.Hour),
		}, "/procurements/p2")
		inv := only(t, n, "u1")
		if inv.Kind != notify.KindInvitation || inv.SendEmail {
			t.Fatalf("invitation = %+v", inv)
		}
		if q := queued(t, db); len(q) != 0 {
			t.Fatalf("email switched off but queued: %v", q)
		}

		notifyCommitted(t, n, "u1", notify.KindClarificationAnswered, map[string]any{
			"Procurement": "Wound care products", "Question": "Is the lot split by region?", "Answer": "No.",
		}, "")
		only(t, n, "u1") // not listed in the portal
		if q := queued(t, db); len(q) != 1 {
			t.Fatalf("email-only kind: queued = %v", q)
		}
		if c, _ := n.UnreadCount(ctx, "u1"); c != 1 {
			t.Fatalf("unread = %d; email-only notifications must not count", c)
		}

		notifyCommitted(t, n, "u1", notify.KindRoleChanged, map[string]any{
			"Organisation": "Barts Health NHS Trust", "Role": "Buyer", "Added": true, "ChangedBy": "Sam",
		}, "")
		var total int64
		db.Model(&notify.Notification{}).Where("user_id = ?", "u1").Count(&total)
		if total != 2 {
			t.Fatalf("a kind switched off both ways was recorded: %d notifications", total)
		}

		// Legal notices arrive both ways whatever is stored (even a row
		// written behind the service's back).
		db.Exec("INSERT INTO notification_preferences (user_id, kind, email, in_app, updated_at) VALUES (?, ?, ?, ?, ?)",
			"u1", notify.KindDeadlineChange, false, false, start)
		clk.Advance(time.Minute)
		notifyCommitted(t, n, "u1", notify.KindDeadlineChange, deadlineData(), "")
		list, _ := n.List(ctx, "u1", 10)
		if len(list) != 2 || list[0].Kind != notify.KindDeadlineChange || !list[0].SendEmail || !list[0].InApp {
			t.Fatalf("legal notice = %+v", list)
		}
		if q := queued(t, db); len(q) != 2 {
			t.Fatalf("legal notice not queued: %v", q)
		}
		prefs, _ = n.Preferences(ctx, "u1")
		if p := prefs[2]; p.Kind != notify.KindDeadlineChange || !p.Email || !p.InApp {
			t.Fatalf("legal preference shown as %+v", p)
		}
	})
}

func TestReadingNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, clk := newNotifier(t, db)
		newUser(t, db, "u1", "a@example.nhs.uk", "A")
		newUser(t, db, "u2", "b@example.nhs.uk", "B")
		for i := range 3 {
			notifyCommitted(t, n, "u1", notify.KindTestMessage, map[string]any{"SentBy": "Admin " + string(rune('A'+i))}, "")
			clk.Advance(time.Minute)
		}
		notifyCommitted(t, n, "u2", notify.KindTestMessage, map[string]any{"SentBy": "Admin"}, "")

		list, err := n.List(ctx, "u1", 10)
		if err != nil || len(list) != 3 {
			t.Fatalf("list = %v, %v", list, err)
		}
		if !strings.Contains(list[0].BodyText, "Admin C") || !strings.Contains(list[2].BodyText, "Admin A") {
			t.Fatal("not newest first")
		}
		if l, _ := n.List(ctx, "u1", 2); len(l) != 2 {
			t.Fatalf("limit ignored: %d", len(l))
		}
		theirs, _ := n.List(ctx, "u2", 10)

		if err := n.MarkRead(ctx, "u1", theirs[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("marking another person's notification: err = %v, want not found", err)
		}
		if err := n.MarkRead(ctx, "u1", "no-such-id"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("marking a missing notification: err = %v", err)
		}
		if c, _ := n.UnreadCount(ctx, "u2"); c != 1 {
			t.Fatalf("u2 unread = %d, want 1", c)
		}
		if _, err := n.Get(ctx, "u1", theirs[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("reading another person's notification: err = %v", err)
		}

		if err := n.MarkRead(ctx, "u1", list[1].ID); err != nil {
			t.Fatal(err)
		}
		if err := n.MarkRead(ctx, "u1", list[1].ID); err != nil {
			t.Fatalf("marking read twice: %v", err)
		}
		if c, _ := n.UnreadCount(ctx, "u1"); c != 2 {
			t.Fatalf("unread = %d, want 2", c)
		}
		got, _ := n.Get(ctx, "u1", list[1].ID)
		if !got.Read() || !got.ReadAt.Equal(clk.Now()) {
			t.Fatalf("read_at = %v", got.ReadAt)
		}
		if err := n.MarkAllRead(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if c, _ := n.UnreadCount(ctx, "u1"); c != 0 {
			t.Fatalf("unread = %d after marking all read", c)
		}
		if c, _ := n.UnreadCount(ctx, "u2"); c != 1 {
			t.Fatalf("marking all read touched another person's: %d", c)
		}
	})
}

func TestEmailWorkerSendsThroughSMTPOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mp := mailpittest.Start(t)
		mailer, err := notify.NewSMTPMailer(mp.SMTPURL, "NHS Procurement Portal <noreply@procurement.example.nhs.uk>")
		if err != nil {
			t.Fatal(err)
		}
		n, clk := newNotifier(t, db)
		w := &notify.EmailWorker{N: n, Mailer: mailer}
		newUser(t, db, "u1", "asha.patel@example.nhs.uk", "Asha Patel")

		notifyCommitted(t, n, "u1", notify.KindDeadlineChange, deadlineData(), "/procurements/p1")
		note := only(t, n, "u1")
		clk.Advance(time.Minute)

		// The server requires the credentials in the URL: without them
		// nothing is sent.
		anonymous, err := notify.NewSMTPMailer(strings.Replace(mp.SMTPURL, mailpittest.User+":"+mailpittest.Password+"@", "", 1), "noreply@procurement.example.nhs.uk")
		if err != nil {
			t.Fatal(err)
		}
		if err := (&notify.EmailWorker{N: n, Mailer: anonymous}).Work(ctx, job(note.ID, 1)); err == nil {
			t.Fatal("sent without logging in")
		}
		if msgs := mp.Messages(t); len(msgs) != 0 {
			t.Fatalf("anonymous send delivered %d messages", len(msgs))
		}

		if err := w.Work(ctx, job(note.ID, 1)); err != nil {
			t.Fatalf("work: %v", err)
		}
		msgs := mp.WaitForMessages(t, 1)
		if len(msgs) != 1 {
			t.Fatalf("mailpit has %d messages, want 1", len(msgs))
		}
		m := msgs[0]
		if m.MessageID != note.ID+"@portal" || m.Subject != note.Subject || len(m.To) != 1 || m.To[0] != "asha.patel@example.nhs.uk" ||
			m.From != "noreply@procurement.example.nhs.uk" {
			t.Fatalf("message = %+v", m)
		}
		for _, want := range []string{
			"Dear Asha Patel,", "New deadline: midday on Friday 11 December 2026 (UK time)",
			baseURL + "/procurements/p1", "legal notice", "Replies are not read",
		} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, m.Text)
			}
		}
		for _, want := range []string{
			`lang="en-GB"`, "#005eb8", "<h1", "Deadline changed: Radiology PACS replacement",
			`href="` + baseURL + `/procurements/p1"`, "midday on Friday 11 December 2026 (UK time)", "Legal notice",
		} {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("HTML lacks %q", want)
			}
		}
		if strings.Contains(m.HTML, "<img") {
			t.Error("HTML email has an image")
		}
		if got := m.Headers["Auto-Submitted"]; len(got) != 1 || got[0] != "auto-generated" {
			t.Errorf("Auto-Submitted = %v", got)
		}
		sent := reload(t, db, note.ID)
		if sent.EmailedAt == nil || !sent.EmailedAt.Equal(clk.Now()) || sent.EmailError != "" || sent.EmailStatus() != "sent" {
			t.Fatalf("after sending: %+v", sent)
		}

		// The job again (a retry after a crash, a duplicate): nothing more is sent.
		if err := w.Work(ctx, job(note.ID, 2)); err != nil {
			t.Fatal(err)
		}
		if msgs := mp.Messages(t); len(msgs) != 1 {
			t.Fatalf("repeated job sent again: %d messages", len(msgs))
		}

		// The SMTP server goes down: the job fails, the error is kept for
		// administrators, and nothing is marked sent.
		notifyCommitted(t, n, "u1", notify.KindTestMessage, map[string]any{"SentBy": "Sam Jones"}, "/notifications")
		list, _ := n.List(ctx, "u1", 10)
		second := list[0]
		mp.Stop()
		err = w.Work(ctx, job(second.ID, 1))
		if err == nil {
			t.Fatal("work succeeded with the SMTP server down")
		}
		var cancel *river.JobCancelError
		if errors.As(err, &cancel) {
			t.Fatal("an SMTP outage must be retried, not cancelled")
		}
		failed := reload(t, db, second.ID)
		if failed.EmailedAt != nil || !strings.HasPrefix(failed.EmailError, "attempt 1: ") || failed.EmailStatus() != "failing" {
			t.Fatalf("after a failure: %+v", failed)
		}
		if strings.Contains(failed.EmailError, "secret") {
			t.Fatalf("the stored error shows the SMTP password: %s", failed.EmailError)
		}
		problems, err := n.EmailProblems(ctx, 10)
		if err != nil || len(problems) != 1 || problems[0].ID != second.ID {
			t.Fatalf("email problems = %+v, %v", problems, err)
		}

		// It comes back: the retry sends exactly one message.
		mp.Restart()
		if err := w.Work(ctx, job(second.ID, 2)); err != nil {
			t.Fatalf("retry: %v", err)
		}
		msgs = mp.WaitForMessages(t, 2)
		if len(msgs) != 2 || msgs[1].MessageID != second.ID+"@portal" || msgs[1].Subject != "Test message from the NHS Procurement Portal" {
			t.Fatalf("after restart: %+v", msgs)
		}
		if !strings.Contains(msgs[1].Text, "Sam Jones sent this test message") || !strings.Contains(msgs[1].Text, baseURL+"/notifications/preferences") {
			t.Fatalf("text = %s", msgs[1].Text)
		}
		done := reload(t, db, second.ID)
		if done.EmailedAt == nil || done.EmailError != "" {
			t.Fatalf("after retry: %+v", done)
		}
		if problems, _ := n.EmailProblems(ctx, 10); len(problems) != 0 {
			t.Fatalf("email problems after retry = %+v", problems)
		}
		if err := w.Work(ctx, job(second.ID, 3)); err != nil {
			t.Fatal(err)
		}
		if msgs := mp.Messages(t); len(msgs) != 2 {
			t.Fatalf("%d messages, want exactly 2", len(msgs))
		}
	})
}

func TestEmailWorkerWithoutAnAddressOrNotification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, _ := newNotifier(t, db)
		mailer := &notify.OutboxMailer{DB: db, Clock: n.Clock}
		w := &notify.EmailWorker{N: n, Mailer: mailer}
		newUser(t, db, "u1", "", "No Email")
		notifyCommitted(t, n, "u1", notify.KindTestMessage, map[string]any{"SentBy": "Sam"}, "")
		note := only(t, n, "u1")

		var cancel *river.JobCancelError
		if err := w.Work(ctx, job(note.ID, 1)); !errors.As(err, &cancel) {
			t.Fatalf("no address: err = %v, want the job cancelled", err)
		}
		if got := reload(t, db, note.ID); !strings.Contains(got.EmailError, "no email address") {
			t.Fatalf("email_error = %q", got.EmailError)
		}
		if err := w.Work(ctx, job("no-such-notification", 1)); !errors.As(err, &cancel) {
			t.Fatalf("missing notification: err = %v, want the job cancelled", err)
		}
		if out, _ := n.Outbox(ctx, 10); len(out) != 0 {
			t.Fatalf("outbox = %+v", out)
		}
	})
}

func TestOutboxMailer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, clk := newNotifier(t, db)
		w := &notify.EmailWorker{N: n, Mailer: &notify.OutboxMailer{DB: db, Clock: clk}}
		newUser(t, db, "u1", "asha.patel@example.nhs.uk", "Asha Patel")
		notifyCommitted(t, n, "u1", notify.KindRoleChanged, map[string]any{
			"Organisation": "Barts Health NHS Trust", "Role": "Buyer", "Added": true, "ChangedBy": "Sam Jones",
		}, "/organisations/barts")
		clk.Advance(time.Minute)
		notifyCommitted(t, n, "u1", notify.KindTestMessage, map[string]any{"SentBy": "Sam"}, "")
		list, _ := n.List(ctx, "u1", 10)
		for i := len(list) - 1; i >= 0; i-- { // oldest first
			note := list[i]
			clk.Advance(time.Minute)
			if err := w.Work(ctx, job(note.ID, 1)); err != nil {
				t.Fatal(err)
			}
			if err := w.Work(ctx, job(note.ID, 2)); err != nil {
				t.Fatal(err)
			}
		}
		out, err := n.Outbox(ctx, 10)
		if err != nil || len(out) != 2 {
			t.Fatalf("outbox = %+v, %v", out, err)
		}
		role := out[1] // newest first
		if role.ToAddress != "asha.patel@example.nhs.uk" || role.Subject != "You have a new role in Barts Health NHS Trust" ||
			role.MessageID != list[1].ID+"@portal" || !strings.Contains(role.BodyText, `Sam Jones gave you the role "Buyer" in Barts Health NHS Trust.`) ||
			!strings.Contains(role.BodyHTML, "<strong>Buyer</strong>") || !role.CreatedAt.Equal(start.Add(2*time.Minute)) {
			t.Fatalf("outbox message = %+v", role)
		}
		if !out[0].CreatedAt.Equal(start.Add(3*time.Minute)) || out[0].Subject != "Test message from the NHS Procurement Portal" {
			t.Fatalf("outbox message = %+v", out[0])
		}
	})
}

func TestSendTest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, _ := newNotifier(t, db)
		newUser(t, db, "u1", "a@example.nhs.uk", "A")
		admin := audit.Actor{UserID: "admin", Label: "Sam Jones (platform administrator)"}
		if err := n.SendTest(ctx, admin, "u1"); err != nil {
			t.Fatal(err)
		}
		note := only(t, n, "u1")
		if note.Kind != notify.KindTestMessage || !strings.Contains(note.BodyText, "Sam Jones (platform administrator) sent this test message") {
			t.Fatalf("test message = %+v", note)
		}
		if q := queued(t, db); len(q) != 1 {
			t.Fatalf("queued = %v", q)
		}
		if entries, _ := audit.List(ctx, db, audit.Filter{Action: "notification.test_send"}); len(entries) != 1 || entries[0].ObjectID != "u1" {
			t.Fatalf("audit = %+v", entries)
		}
		if err := n.SendTest(ctx, admin, "nobody"); err == nil {
			t.Fatal("test message to nobody succeeded")
		}
		if entries, _ := audit.List(ctx, db, audit.Filter{Action: "notification.test_send"}); len(entries) != 1 {
			t.Fatal("a failed test message was audited")
		}
	})
}

func TestEveryKindRenders(t *testing.T) {
	tpl := templates(t)
	when := time.Date(2026, 7, 1, 16, 30, 0, 0, time.UTC) // 5:30pm British Summer Time
	samples := map[string]any{
		"Procurement": "Radiology PACS replacement", "Organisation": "Acme Imaging Ltd", "Successful": false,
		"Reasons": "Quality score 61%.\n\nPrice within 3% of the winner.", "StandstillEnds": when, "AwardedTo": "Imaging Co Ltd",
		"OldDeadline": when, "NewDeadline": when.Add(7 * 24 * time.Hour), "Reason": "", "Buyer": "Barts Health NHS Trust",
		"Deadline": when, "Question": "Is <b>training</b> included?", "Answer": "Yes.", "SubmittedAt": when,
		"Reference": "BID-2026-00042", "What": "bid", "Role": "Buyer", "Added": false, "ChangedBy": "Sam Jones", "SentBy": "Sam Jones",
		"Framework": "SLCSC-EPR-2027 Clinical systems", "Consortium": "South London Clinical Systems Consortium",
		"Update": "applications have closed and evaluation has started",
		"Change": "The buyer changed the requirements.\n\nEPR-MED-001 now asks for closed-loop prescribing.",
		"Winner": "Imaging Co Ltd", "Regime": "pa2023", "Own": "61.00 out of 100", "Winning": "78.50 out of 100",
		"Criteria": []map[string]any{{"Name": "EPR-MED-001 Prescribing (weight 40)", "Own": "2 of 4", "Winner": "3 of 4"}},
		"Trust":    "Barts Health NHS Trust", "Due": when, "Reminder": "Your board's decision is due soon.",
		"Contract": "SWL-EPR-001-RJ7 Electronic patient record", "Supplier": "Meridian Health Systems Ltd", "LastDay": when, "Months": 6,
	}
	for _, k := range notify.Kinds {
		data := map[string]any{}
		for _, key := range k.Data {
			v, ok := samples[key]
			if !ok {
				t.Fatalf("no sample for %s.%s", k.Name, key)
			}
			data[key] = v
		}
		d := notify.TemplateData{
			Recipient: notify.Recipient{Name: "Asha Patel", Email: "asha@example.nhs.uk"}, Data: data,
			Link: baseURL + "/procurements/p1", PortalURL: baseURL, PreferencesURL: baseURL + "/notifications/preferences",
		}
		r, err := tpl.Render(k.Name, d)
		if err != nil {
			t.Errorf("%s: %v", k.Name, err)
			continue
		}
		if r.Subject == "" || strings.ContainsAny(r.Subject, "\r\n") || r.Body == "" || !strings.HasPrefix(r.Text, "Dear Asha Patel,") {
			t.Errorf("%s: rendered %+v", k.Name, r)
		}
		if !strings.Contains(r.HTML, "<title>"+strings.ReplaceAll(r.Subject, "'", "&#39;")+"</title>") || !strings.Contains(r.HTML, "#005eb8") ||
			strings.Contains(r.HTML, "<img") || strings.Contains(r.HTML, "src=") || strings.Contains(r.HTML, "<b>training") {
			t.Errorf("%s: HTML is not the plain, self-contained layout or does not escape:\n%s", k.Name, r.HTML)
		}
		if k.Legal != strings.Contains(r.Text, "legal notice") || k.Legal == strings.Contains(r.HTML, "Choose which emails you get") {
			t.Errorf("%s: legal wording wrong", k.Name)
		}
		delete(data, k.Data[0])
		if _, err := tpl.Render(k.Name, d); err == nil {
			t.Errorf("%s renders without %s", k.Name, k.Data[0])
		}
	}
	r, _ := tpl.Render(notify.KindInvitation, notify.TemplateData{Data: map[string]any{
		"Procurement": "P", "Buyer": "B", "Deadline": when,
	}})
	if !strings.Contains(r.Body, "5:30pm on Wednesday 1 July 2026 (UK time)") || strings.Contains(r.Text, "Dear") {
		t.Errorf("invitation without a name or link:\n%s", r.Text)
	}
	if _, err := tpl.Render("carrier_pigeon", notify.TemplateData{}); err == nil {
		t.Error("unknown kind rendered")
	}
}

func TestLoadTemplatesFailsOnMissingOrStrayTemplates(t *testing.T) {
	complete := fstest.MapFS{}
	err := fs.WalkDir(emailViews(t), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(emailViews(t), p)
		complete[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify.LoadTemplates(complete); err != nil {
		t.Fatalf("complete set: %v", err)
	}
	without := func(names ...string) fstest.MapFS {
		out := fstest.MapFS{}
		for k, v := range complete {
			out[k] = v
		}
		for _, n := range names {
			delete(out, n)
		}
		return out
	}
	cases := map[string]struct {
		fsys fs.FS
		want []string
	}{
		"missing kind templates": {without("deadline_change.html", "award_letter.subject.txt"),
			[]string{"deadline_change.html is missing", "award_letter.subject.txt is missing"}},
		"missing layout": {without("layout.html"), []string{"layout.html is missing"}},
		"misspelt kind": {func() fs.FS {
			f := without("invitation.txt")
			f["invitaton.txt"] = complete["invitation.txt"]
			return f
		}(), []string{"invitation.txt is missing", "invitaton.txt belongs to no notification kind"}},
		"broken template": {func() fs.FS {
			f := without()
			f["bid_receipt.html"] = &fstest.MapFile{Data: []byte("<p>{{.Data.Procurement</p>")}
			return f
		}(), []string{"bid_receipt.html"}},
		"empty folder": {fstest.MapFS{}, []string{"layout.txt is missing", "test_message.txt is missing"}},
	}
	for name, c := range cases {
		_, err := notify.LoadTemplates(c.fsys)
		if err == nil {
			t.Errorf("%s: loaded", name)
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q:\n%v", name, want, err)
			}
		}
	}
}

func TestNewSMTPMailer(t *testing.T) {
	const from = "noreply@procurement.example.nhs.uk"
	bad := map[string][2]string{
		"not smtp":       {"https://mail.example.com", from},
		"no host":        {"smtp://user:pw@:25", from},
		"bad port":       {"smtp://mail.example.com:99999", from},
		"unparseable":    {"smtp://user:pa%zzss@mail.example.com", from},
		"bad sender":     {"smtp://mail.example.com", "not an address"},
		"missing sender": {"smtp://mail.example.com", ""},
	}
	for name, c := range bad {
		_, err := notify.NewSMTPMailer(c[0], c[1])
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "pa%zzss") || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("%s: error shows the password: %v", name, err)
		}
	}
	for url, want := range map[string]string{
		"smtp://user:secret@mail.example.com":      "smtp://mail.example.com:587",
		"smtps://user:secret@mail.example.com":     "smtps://mail.example.com:465",
		"smtp://localhost:1025":                    "smtp://localhost:1025",
		"smtp://user:secret@[::1]:2525":            "smtp://[::1]:2525",
		"smtp://apikey:secret@smtp.example.com:25": "smtp://smtp.example.com:25",
	} {
		m, err := notify.NewSMTPMailer(url, "NHS Procurement Portal <"+from+">")
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		if m.String() != want {
			t.Errorf("%s: String() = %q, want %q", url, m.String(), want)
		}
	}
}
