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

// TestNotifyAddressForgetsTheLinkWhenItGivesUp: when the SMTP server is
// down for every attempt, the last failure also drops the stored link.
func TestNotifyAddressForgetsTheLinkWhenItGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mp := mailpittest.Start(t)
		mailer, err := notify.NewSMTPMailer(mp.SMTPURL, "noreply@procurement.example.nhs.uk")
		if err != nil {
			t.Fatal(err)
		}
		mp.Stop()
		n, _ := newNotifier(t, db)
		data := map[string]any{"Framework": "SLCSC-EPR-2027", "Consortium": "South London", "Deadline": start}
		if err := db.Tx(ctx, func(tx *gorm.DB) error {
			return n.NotifyAddress(ctx, tx, "bids@meridian.example.com", notify.KindFrameworkInvitation, data, "/invitations/s3cr3t")
		}); err != nil {
			t.Fatal(err)
		}
		id := queued(t, db)[0]
		w := &notify.EmailWorker{N: n, Mailer: mailer}
		first := job(id, 1)
		first.MaxAttempts = 3
		if err := w.Work(ctx, first); err == nil {
			t.Fatal("sent with the server down")
		}
		if note := reload(t, db, id); !strings.Contains(note.Link, "s3cr3t") {
			t.Fatal("the link was dropped before the last attempt")
		}
		last := job(id, 3)
		last.MaxAttempts = 3
		if err := w.Work(ctx, last); err == nil {
			t.Fatal("sent with the server down")
		}
		note := reload(t, db, id)
		if strings.Contains(note.BodyText+note.Data+note.Link, "s3cr3t") || note.EmailError == "" {
			t.Fatalf("after the last attempt: %+v", note)
		}
	})
}
