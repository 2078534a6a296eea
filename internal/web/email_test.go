package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/notify/mailpittest"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// quickRetry retries a failed job after half a second instead of River's
// growing backoff, so the test need not wait minutes.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(500 * time.Millisecond)
}

// TestEmailSurvivesAnSMTPOutage: a role change is notified in the portal and
// by email through the real job queue to a real SMTP server (mailpit). With
// the server down the job fails, retries and shows on the administrator's
// jobs page; when it comes back the message is delivered exactly once.
func TestEmailSurvivesAnSMTPOutage(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			mp := mailpittest.Start(t)
			h := apptest.New(t, kind, func(cfg *config.Config, opt *app.Options) {
				m, err := notify.NewSMTPMailer(mp.SMTPURL, "NHS procurement portal <no-reply@procurement.example.nhs.uk>")
				if err != nil {
					t.Fatal(err)
				}
				opt.Mailer = m
				opt.JobRetryPolicy = quickRetry{}
			})
			ctx := context.Background()
			london, _ := h.App.Orgs.Organisations(ctx, orgs.KindConsortium, orgs.DemoLondon)
			evaluator := h.UserID(t, "demo-evaluator")

			mp.Stop()
			admin := h.Browser(t)
			admin.SignInAs("demo-platform-admin")
			if _, err := h.App.Orgs.Grant(ctx, audit.Actor{UserID: h.UserID(t, "demo-platform-admin"), Label: "Priya Shah"}, evaluator, london[0].ID, "evaluator"); err != nil {
				t.Fatal(err)
			}
			// The failure becomes visible to administrators: the job with
			// its error, and the email among those not delivered.
			deadline := time.Now().Add(15 * time.Second)
			for {
				var emailError string
				h.App.DB.Raw("SELECT email_error FROM notifications WHERE user_id = ?", evaluator).Scan(&emailError)
				page := admin.Get("/admin/jobs?group=queued")
				if emailError != "" && page.Status == http.StatusOK && strings.Contains(page.Body, "notify_email") &&
					strings.Contains(page.Body, "You have a new role in") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the failing email never showed on the jobs page (email_error %q)", emailError)
				}
				time.Sleep(200 * time.Millisecond)
			}
			mp.Restart()
			mp.WaitForMessages(t, 1)
			time.Sleep(1500 * time.Millisecond) // time for any duplicate to arrive
			msgs := mp.Messages(t)
			if len(msgs) != 1 {
				t.Fatalf("%d messages delivered, want exactly 1", len(msgs))
			}
			if !strings.Contains(msgs[0].Text, orgs.DemoLondon) || !strings.Contains(msgs[0].To[0], "ben.carter@") {
				t.Fatalf("unexpected message to %v: %q", msgs[0].To, msgs[0].Text)
			}

			// The person sees it in the portal, with the unread count.
			b := h.Browser(t)
			home := b.SignInAs("demo-evaluator")
			if !strings.Contains(home.Body, `data-testid="notifications"`) {
				t.Fatal("no notifications link in the header")
			}
			list := b.Get("/notifications")
			if list.Status != http.StatusOK || !strings.Contains(list.Body, "New") {
				t.Fatalf("notifications page: status %d", list.Status)
			}
			if !strings.Contains(list.Body, "1<span class=\"nhsuk-u-visually-hidden\"> unread") {
				t.Fatal("header shows no unread count")
			}
		})
	}
}

// TestNotificationsBelongToTheirPerson: another person's notification is
// not found, and the attempt is audited.
func TestNotificationsBelongToTheirPerson(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		target := h.UserID(t, "demo-trust-lead")
		if err := h.App.Notify.SendTest(ctx, audit.System, target); err != nil {
			t.Fatal(err)
		}
		list, err := h.App.Notify.List(ctx, target, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("notifications: %d, %v", len(list), err)
		}
		own := h.Browser(t)
		own.SignInAs("demo-trust-lead")
		if r := own.Get("/notifications/" + list[0].ID); r.Status != http.StatusOK {
			t.Fatalf("own notification: status %d", r.Status)
		}
		other := h.Browser(t)
		other.SignInAs("demo-supplier")
		if r := other.Get("/notifications/" + list[0].ID); r.Status != http.StatusNotFound {
			t.Fatalf("another person's notification: status %d, want 404", r.Status)
		}
		if countAudit(h, "notification.read", audit.Denied, list[0].ID) != 1 {
			t.Fatal("the attempt was not audited")
		}
		// Legal notices cannot be switched off.
		res := own.PostForm("/notifications/preferences", "/notifications/preferences", nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("saving preferences: status %d", res.Status)
		}
		prefs, _ := h.App.Notify.Preferences(ctx, target)
		for _, p := range prefs {
			if p.Legal && (!p.Email || !p.InApp) {
				t.Fatalf("legal notice %s was switched off", p.Kind)
			}
		}
	})
}
