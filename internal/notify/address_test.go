package notify_test

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/notify/mailpittest"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestNotifyAddressEmailsAndForgetsTheLink: an email to someone who is not
// a user goes through the queue to a real SMTP server with its one-time
// link, is never listed in the portal, and once sent keeps neither the
// link nor the text in the database.
func TestNotifyAddressEmailsAndForgetsTheLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mp := mailpittest.Start(t)
		mailer, err := notify.NewSMTPMailer(mp.SMTPURL, "noreply@procurement.example.nhs.uk")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := newNotifier(t, db)
		const secret = "/invitations/s3cr3t-t0ken"
		data := map[string]any{"Framework": "SLCSC-EPR-2027 Clinical systems", "Consortium": "South London Clinical Systems Consortium", "Deadline": start}
		err = db.Tx(ctx, func(tx *gorm.DB) error {
			return n.NotifyAddress(ctx, tx, "bids@meridian.example.com", notify.KindFrameworkInvitation, data, secret)
		})
		if err != nil {
			t.Fatal(err)
		}
		ids := queued(t, db)
		if len(ids) != 1 {
			t.Fatalf("queued %v, want one email", ids)
		}
		before := reload(t, db, ids[0])
		if before.UserID != nil || before.ToAddress != "bids@meridian.example.com" || before.InApp || !before.SendEmail {
			t.Fatalf("address notification = %+v", before)
		}
		if err := (&notify.EmailWorker{N: n, Mailer: mailer}).Work(ctx, job(ids[0], 1)); err != nil {
			t.Fatal(err)
		}
		msgs := mp.WaitForMessages(t, 1)
		if len(msgs) != 1 || msgs[0].To[0] != "bids@meridian.example.com" || !strings.Contains(msgs[0].Text, baseURL+secret) ||
			!strings.Contains(msgs[0].Subject, "Invitation to apply: SLCSC-EPR-2027") {
			t.Fatalf("messages = %+v", msgs)
		}
		after := reload(t, db, ids[0])
		if after.EmailedAt == nil || strings.Contains(after.BodyText+after.Data+after.Link, "s3cr3t") {
			t.Fatalf("sent address notification keeps the link: %+v", after)
		}
		// Working the job again sends nothing more.
		if err := (&notify.EmailWorker{N: n, Mailer: mailer}).Work(ctx, job(ids[0], 2)); err != nil {
			t.Fatal(err)
		}
		if msgs := mp.Messages(t); len(msgs) != 1 {
			t.Fatalf("mailpit has %d messages after a repeat, want 1", len(msgs))
		}
		// A blank address or an unknown kind is refused and nothing is queued.
		for _, c := range []struct{ addr, kind string }{{" ", notify.KindFrameworkInvitation}, {"a@example.com", "nonsense"}} {
			err := db.Tx(ctx, func(tx *gorm.DB) error { return n.NotifyAddress(ctx, tx, c.addr, c.kind, data, "") })
			if err == nil {
				t.Errorf("NotifyAddress(%q, %q) succeeded", c.addr, c.kind)
			}
		}
		if ids := queued(t, db); len(ids) != 1 {
			t.Fatalf("refused emails were queued: %v", ids)
		}
	})
}
