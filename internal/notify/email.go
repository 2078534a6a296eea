package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	mail "github.com/wneessen/go-mail"

	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
)

// EmailArgs is the background job that emails one notification.
type EmailArgs struct {
	NotificationID string `json:"notification_id"`
}

// Kind names the job in the queue.
func (EmailArgs) Kind() string { return "notify_email" }

// MessageID is the stable Message-ID (without angle brackets) of a
// notification's email, so a copy sent twice is recognisably the same
// message.
func MessageID(notificationID string) string { return notificationID + "@portal" }

// Mailer sends one email.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Message is one email to one person.
type Message struct {
	To        string
	Subject   string
	Text      string
	HTML      string
	MessageID string // without angle brackets
}

// EmailWorker sends notification emails. Register it with
// river.AddWorker(workers, &notify.EmailWorker{N: notifier, Mailer: mailer}).
type EmailWorker struct {
	river.WorkerDefaults[EmailArgs]
	N      *Notifier
	Mailer Mailer
}

var (
	_ river.Worker[EmailArgs] = (*EmailWorker)(nil)
	_ Mailer                  = (*SMTPMailer)(nil)
	_ Mailer                  = (*OutboxMailer)(nil)
)

// Timeout bounds one attempt; the SMTP client gives up sooner.
func (w *EmailWorker) Timeout(*river.Job[EmailArgs]) time.Duration { return 2 * time.Minute }

// Work sends the notification's email once. A notification already
// emailed is left alone, so a retried or repeated job never sends twice. A
// failure is stored on the notification for administrators and returned
// so the queue retries with backoff; a recipient without an address is not
// retried.
func (w *EmailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	n := w.N
	id := job.Args.NotificationID
	var note Notification
	if err := n.DB.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&note).Error; err != nil {
		return fmt.Errorf("email notification %s: read notification: %w", id, err)
	}
	if note.ID == "" {
		return river.JobCancel(fmt.Errorf("email notification %s: %w", id, store.ErrNotFound))
	}
	if note.EmailedAt != nil || !note.SendEmail {
		return nil
	}
	user := recipient{Email: note.ToAddress}
	if note.UserID != nil {
		if err := n.DB.WithContext(ctx).Where("id = ?", *note.UserID).Limit(1).Find(&user).Error; err != nil {
			return fmt.Errorf("email notification %s: read user: %w", id, err)
		}
	}
	if strings.TrimSpace(user.Email) == "" {
		w.fail(ctx, job, note.ID, errNoAddress)
		return river.JobCancel(fmt.Errorf("email notification %s: %w", id, errNoAddress))
	}
	r, err := n.render(note, user)
	if err != nil {
		w.fail(ctx, job, note.ID, err)
		return fmt.Errorf("email notification %s: %w", id, err)
	}
	msg := Message{To: user.Email, Subject: r.Subject, Text: r.Text, HTML: r.HTML, MessageID: MessageID(note.ID)}
	if err := w.Mailer.Send(ctx, msg); err != nil {
		w.fail(ctx, job, note.ID, err)
		return fmt.Errorf("email notification %s: %w", id, err)
	}
	sent := map[string]any{"emailed_at": n.now(), "email_error": ""}
	if note.UserID == nil {
		// Sent to an address: the text may hold a one-time link, which
		// must not stay readable in the database once it has gone.
		sent["body_text"] = addressSentNote
		sent["data"] = "{}"
		sent["link"] = ""
	}
	err = n.DB.WithContext(context.WithoutCancel(ctx)).Model(&Notification{}).
		Where("id = ? AND emailed_at IS NULL", note.ID).
		Updates(sent).Error
	if err != nil {
		// The email went; a retry would send it again under the same
		// Message-ID, which mail clients recognise as a duplicate.
		return fmt.Errorf("email notification %s: record sending: %w", id, err)
	}
	return nil
}

// fail stores the latest failure on the notification for administrators.
func (w *EmailWorker) fail(ctx context.Context, job *river.Job[EmailArgs], id string, cause error) {
	text := cause.Error()
	if job != nil && job.JobRow != nil && job.Attempt > 0 {
		text = fmt.Sprintf("attempt %d: %s", job.Attempt, text)
	}
	if len(text) > 2000 {
		text = text[:2000]
	}
	// Recorded even when the attempt timed out or the worker is stopping.
	db := w.N.DB.WithContext(context.WithoutCancel(ctx))
	db.Model(&Notification{}).Where("id = ? AND emailed_at IS NULL", id).Update("email_error", text)
	if job != nil && job.JobRow != nil && job.MaxAttempts > 0 && job.Attempt >= job.MaxAttempts {
		// The last attempt: an email to an address will never go, so its
		// one-time link is not kept either (the sender must send a new one).
		db.Model(&Notification{}).Where("id = ? AND emailed_at IS NULL AND user_id IS NULL", id).
			Updates(map[string]any{"body_text": addressFailedNote, "data": "{}", "link": ""})
	}
}

// SMTPMailer sends email through an SMTP server.
type SMTPMailer struct {
	client *mail.Client
	from   string
	server string // scheme://host:port, without credentials, for logs
}

// NewSMTPMailer configures sending through the server at rawURL:
// smtp://user:password@host:port uses STARTTLS (required, except that a
// server on the same machine may also be reached without encryption);
// smtps://user:password@host:port uses TLS from the start. The user and
// password are optional. from is the sender, e.g.
// "NHS Procurement Portal <noreply@procurement.example.nhs.uk>".
func NewSMTPMailer(rawURL, from string) (*SMTPMailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The parser's message would repeat the URL and its password.
		return nil, errors.New("the SMTP server URL is not a URL; write it as smtp://user:password@host:port")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("the SMTP server URL starts with %q; use smtp:// (STARTTLS) or smtps:// (TLS)", u.Scheme+"://")
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("the SMTP server URL has no host; write it as smtp://user:password@host:port")
	}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("the SMTP server port %q is not a port number", p)
		}
	}
	sender, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("the sender address %q is not an email address: %w", from, err)
	}
	local := isLocalHost(host)
	opts := []mail.Option{
		mail.WithPort(port),
		mail.WithTimeout(30 * time.Second),
	}
	switch {
	case u.Scheme == "smtps":
		opts = append(opts, mail.WithSSL())
	case local:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if u.User != nil && u.User.Username() != "" {
		password, _ := u.User.Password()
		auth := mail.SMTPAuthAutoDiscover // the strongest the server offers over TLS
		if local && u.Scheme == "smtp" {
			auth = mail.SMTPAuthPlainNoEnc // a local server may not offer TLS
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(u.User.Username()), mail.WithPassword(password))
	}
	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("configure SMTP client: %w", err)
	}
	return &SMTPMailer{client: client, from: sender.String(), server: u.Scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// String names the server, without credentials, for the start-up log.
func (s *SMTPMailer) String() string { return s.server }

// isLocalHost reports whether host is this machine, where an unencrypted
// connection does not cross a network.
func isLocalHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send sends m as a plain-text email with an HTML alternative.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	msg.SetUserAgent("NHS procurement portal")
	// Automatic notifications: out-of-office replies should not answer.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	if err := s.client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send through %s: %w", s.server, err)
	}
	return nil
}

// OutboxMailer keeps emails in the dev_outbox table instead of sending
// them, for development without an SMTP server; Notifier.Outbox lists them.
type OutboxMailer struct {
	DB    *store.DB
	Clock clock.Clock
}

// Send stores m in the outbox.
func (o *OutboxMailer) Send(ctx context.Context, m Message) error {
	row := OutboxMessage{
		ID: uuid.NewString(), ToAddress: m.To, Subject: m.Subject, BodyText: m.Text, BodyHTML: m.HTML,
		MessageID: m.MessageID, CreatedAt: o.Clock.Now().UTC().Truncate(time.Microsecond),
	}
	if err := o.DB.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("write to the development outbox: %w", err)
	}
	return nil
}
