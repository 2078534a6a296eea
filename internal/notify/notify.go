// Package notify tells people what happened in their procurements: every
// notification is recorded for the portal's notifications page and, unless
// the person chose otherwise, emailed by a background job queued in the
// same transaction as the change it describes. Legal notices (award
// decisions, standstill, deadline changes) always go both ways.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// PreferencesPath is the portal page where people choose their
// notifications; emails link to it.
const PreferencesPath = "/notifications/preferences"

// Enqueuer queues a background job inside a transaction, so the job exists
// if and only if the transaction commits (internal/jobs.Queue).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error
}

// Notifier records notifications and queues their emails.
type Notifier struct {
	DB        *store.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Queue     Enqueuer
	Templates *Templates
	// BaseURL is the portal's external URL; links in emails start with it.
	BaseURL string
}

// Notification is one thing the portal told one person.
type Notification struct {
	ID string
	// UserID is the person it is for; nil when it was sent to an address
	// (ToAddress) of someone not yet using the portal.
	UserID    *string
	ToAddress string
	Kind      string
	Subject   string
	BodyText  string
	// Link is the portal path (or a URL under the portal) of the page the
	// notification is about, or "".
	Link string
	// Data is the JSON the templates were given.
	Data  string
	Legal bool
	// InApp is false when the person chose to get this kind by email only
	// (never for legal notices); such notifications are not listed.
	InApp bool
	// SendEmail is false when the person switched email off for the kind.
	SendEmail bool
	CreatedAt time.Time
	ReadAt    *time.Time
	EmailedAt *time.Time
	// EmailError is the last failure to send the email, for administrators.
	EmailError string
}

// TableName tells GORM where notifications live.
func (Notification) TableName() string { return "notifications" }

// Read reports whether the person has read it.
func (n Notification) Read() bool { return n.ReadAt != nil }

// KindLabel is the plain-English name of the notification's kind.
func (n Notification) KindLabel() string { return KindLabel(n.Kind) }

// EmailStatus describes what happened to the email, for administrators:
// "not wanted", "sent", "failing" or "waiting".
func (n Notification) EmailStatus() string {
	switch {
	case !n.SendEmail:
		return "not wanted"
	case n.EmailedAt != nil:
		return "sent"
	case n.EmailError != "":
		return "failing"
	}
	return "waiting"
}

// Preference is one person's choice for one kind. Legal kinds are always
// on for both.
type Preference struct {
	Kind        string
	Label       string
	Description string
	Legal       bool
	Email       bool
	InApp       bool
}

// preferenceRow is how a choice is stored.
type preferenceRow struct {
	UserID    string `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	Email     bool
	InApp     bool
	UpdatedAt time.Time
}

func (preferenceRow) TableName() string { return "notification_preferences" }

// recipient is the part of a user the templates need.
type recipient struct {
	ID    string
	Email string
	Name  string
}

func (recipient) TableName() string { return "users" }

func (n *Notifier) now() time.Time { return n.Clock.Now().UTC().Truncate(time.Microsecond) }

// Notify records a notification of kind for the user inside tx (the
// caller's transaction, so it commits or rolls back with the change it
// describes) and, unless the user switched email off for this kind,
// queues its email in the same transaction. Legal kinds are always emailed
// and always listed. A user who switched a kind off both ways gets nothing.
//
// data holds the values the kind's templates read (Kind.Data); it is
// stored as JSON, so it must not hold anything the recipient may not see.
// link is a portal path such as "/procurements/123", or "".
func (n *Notifier) Notify(ctx context.Context, tx *gorm.DB, userID, kind string, data map[string]any, link string) error {
	k, ok := KindByName(kind)
	if !ok {
		return fmt.Errorf("notify: unknown notification kind %q", kind)
	}
	db := tx.WithContext(ctx)
	var pref preferenceRow
	if err := db.Where("user_id = ? AND kind = ?", userID, kind).Limit(1).Find(&pref).Error; err != nil {
		return fmt.Errorf("notify %s: read preferences: %w", kind, err)
	}
	if pref.Kind == "" {
		pref = preferenceRow{Email: true, InApp: true} // the defaults
	}
	sendEmail, inApp := pref.Email || k.Legal, pref.InApp || k.Legal
	if !sendEmail && !inApp {
		return nil
	}
	var user recipient
	if err := db.Where("id = ?", userID).Limit(1).Find(&user).Error; err != nil {
		return fmt.Errorf("notify %s: read user: %w", kind, err)
	}
	if user.ID == "" {
		return fmt.Errorf("notify %s: user %s: %w", kind, userID, store.ErrNotFound)
	}
	note := Notification{UserID: &userID, InApp: inApp, SendEmail: sendEmail}
	return n.record(ctx, tx, k, note, user, data, link)
}

// addressSentNote replaces the text of an email sent to an address once it
// has gone (see NotifyAddress).
const addressSentNote = "Emailed. The text is not kept because it held a link meant only for the recipient."

// addressFailedNote replaces the text of an email to an address that could
// not be sent after every attempt.
const addressFailedNote = "Could not be emailed after every attempt. The text is not kept because it held a link meant only for the recipient; send it again."

// NotifyAddress emails someone who is not (yet) a user of the portal, such
// as a supplier contact invited to apply, inside tx like Notify. It is
// email only, whatever the kind: there is nobody to show it to in the
// portal. link may be a one-time link: once the email has been sent the
// stored text, data and link are replaced with a note, so it does not stay
// readable in the database.
func (n *Notifier) NotifyAddress(ctx context.Context, tx *gorm.DB, address, kind string, data map[string]any, link string) error {
	k, ok := KindByName(kind)
	if !ok {
		return fmt.Errorf("notify: unknown notification kind %q", kind)
	}
	address = strings.TrimSpace(address)
	if address == "" {
		return fmt.Errorf("notify %s: %w", kind, errNoAddress)
	}
	note := Notification{ToAddress: address, InApp: false, SendEmail: true}
	return n.record(ctx, tx, k, note, recipient{Email: address}, data, link)
}

// record renders the notification for its recipient, stores it and queues
// its email, all inside tx. It renders now from the stored form of the
// data, so a template that does not work with it fails here, in the
// caller's transaction, and the email job later renders exactly the same
// words.
func (n *Notifier) record(ctx context.Context, tx *gorm.DB, k Kind, note Notification, to recipient, data map[string]any, link string) error {
	if err := checkLink(link, n.BaseURL); err != nil {
		return fmt.Errorf("notify %s: %w", k.Name, err)
	}
	encoded, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("notify %s: data cannot be stored: %w", k.Name, err)
	}
	if data == nil {
		encoded = []byte("{}")
	}
	r, err := n.render(Notification{Kind: k.Name, Link: link, Data: string(encoded)}, to)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	note.ID, note.Kind, note.Subject, note.BodyText, note.Link = uuid.NewString(), k.Name, r.Subject, r.Body, link
	note.Data, note.Legal, note.CreatedAt = string(encoded), k.Legal, n.now()
	if err := tx.WithContext(ctx).Create(&note).Error; err != nil {
		return fmt.Errorf("notify %s: record notification: %w", k.Name, err)
	}
	if note.UserID != nil && note.InApp {
		if err := n.DB.Publish(tx, store.ChangedUser(*note.UserID)); err != nil { // their unread count
			return fmt.Errorf("notify %s: %w", k.Name, err)
		}
	}
	if note.SendEmail {
		// The caller's tx itself: the queue finds the transaction under it.
		if err := n.Queue.InsertTx(ctx, tx, EmailArgs{NotificationID: note.ID}, nil); err != nil {
			return fmt.Errorf("notify %s: queue email: %w", k.Name, err)
		}
	}
	return nil
}

// checkLink accepts "", a path within the portal or a URL under the
// portal's base URL: emails must never point people anywhere else.
func checkLink(link, baseURL string) error {
	switch {
	case link == "":
		return nil
	case strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//") && !strings.HasPrefix(link, `/\`):
		return nil
	case baseURL != "" && strings.HasPrefix(link, strings.TrimRight(baseURL, "/")+"/"):
		return nil
	}
	return fmt.Errorf("link %q is not a page of the portal; give a path such as /procurements/123", link)
}

// absolute turns a portal path into a URL for emails.
func (n *Notifier) absolute(link string) string {
	if link == "" || !strings.HasPrefix(link, "/") {
		return link
	}
	return strings.TrimRight(n.BaseURL, "/") + link
}

// render renders a stored notification for its recipient.
func (n *Notifier) render(note Notification, user recipient) (Rendered, error) {
	data := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader([]byte(note.Data)))
	dec.UseNumber() // numbers print as given, not as floats
	if err := dec.Decode(&data); err != nil {
		return Rendered{}, fmt.Errorf("%s data: %w", note.Kind, err)
	}
	return n.Templates.Render(note.Kind, TemplateData{
		Recipient:      Recipient{Name: user.Name, Email: user.Email},
		Data:           data,
		Link:           n.absolute(note.Link),
		PortalURL:      strings.TrimRight(n.BaseURL, "/"),
		PreferencesURL: n.absolute(PreferencesPath),
	})
}

// List returns the user's notifications shown in the portal, newest first.
func (n *Notifier) List(ctx context.Context, userID string, limit int) ([]Notification, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var out []Notification
	err := n.DB.WithContext(ctx).Where("user_id = ? AND in_app = ?", userID, true).
		Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// UnreadCount counts the user's unread notifications shown in the portal.
func (n *Notifier) UnreadCount(ctx context.Context, userID string) (int64, error) {
	var count int64
	err := n.DB.WithContext(ctx).Model(&Notification{}).
		Where("user_id = ? AND read_at IS NULL AND in_app = ?", userID, true).Count(&count).Error
	if err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return count, nil
}

// Get returns one of the user's notifications; another person's is
// store.ErrNotFound.
func (n *Notifier) Get(ctx context.Context, userID, notificationID string) (*Notification, error) {
	var note Notification
	err := n.DB.WithContext(ctx).Where("id = ? AND user_id = ?", notificationID, userID).Limit(1).Find(&note).Error
	if err != nil {
		return nil, fmt.Errorf("read notification: %w", err)
	}
	if note.ID == "" {
		return nil, store.ErrNotFound
	}
	return &note, nil
}

// MarkRead marks one of the user's notifications read. Another person's
// notification is store.ErrNotFound; one already read stays as it was.
func (n *Notifier) MarkRead(ctx context.Context, userID, notificationID string) error {
	res := n.DB.WithContext(ctx).Model(&Notification{}).
		Where("id = ? AND user_id = ? AND read_at IS NULL", notificationID, userID).
		Update("read_at", n.now())
	if res.Error != nil {
		return fmt.Errorf("mark notification read: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		_, err := n.Get(ctx, userID, notificationID)
		return err
	}
	return n.DB.Publish(n.DB.WithContext(ctx), store.ChangedUser(userID))
}

// MarkAllRead marks all the user's notifications read.
func (n *Notifier) MarkAllRead(ctx context.Context, userID string) error {
	err := n.DB.WithContext(ctx).Model(&Notification{}).
		Where("user_id = ? AND read_at IS NULL", userID).Update("read_at", n.now()).Error
	if err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	return n.DB.Publish(n.DB.WithContext(ctx), store.ChangedUser(userID))
}

// Preferences returns the user's choice for every kind, in Kinds order:
// email and in-app are on unless the user switched them off, and always on
// for legal kinds.
func (n *Notifier) Preferences(ctx context.Context, userID string) ([]Preference, error) {
	stored, err := n.storedPreferences(n.DB.WithContext(ctx), userID)
	if err != nil {
		return nil, err
	}
	out := make([]Preference, len(Kinds))
	for i, k := range Kinds {
		p := Preference{Kind: k.Name, Label: k.Label, Description: k.Description, Legal: k.Legal, Email: true, InApp: true}
		if row, ok := stored[k.Name]; ok && !k.Legal {
			p.Email, p.InApp = row.Email, row.InApp
		}
		out[i] = p
	}
	return out, nil
}

func (n *Notifier) storedPreferences(db *gorm.DB, userID string) (map[string]preferenceRow, error) {
	var rows []preferenceRow
	if err := db.Where("user_id = ?", userID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read notification preferences: %w", err)
	}
	out := make(map[string]preferenceRow, len(rows))
	for _, r := range rows {
		out[r.Kind] = r
	}
	return out, nil
}

// SetPreferences saves the user's choices for the kinds in prefs (keyed by
// kind name; Email and InApp are read, the other fields ignored). Kinds not
// in prefs keep their current choice. Switching a legal kind off, either
// way, is refused with a validate.Errors whose field is the kind's name.
// The change and its audit entry commit together; nothing is written when
// nothing changes. Whether actor may change userID's choices is for the
// caller to decide.
func (n *Notifier) SetPreferences(ctx context.Context, actor audit.Actor, userID string, prefs map[string]Preference) error {
	var v validate.Errors
	for _, name := range slices.Sorted(maps.Keys(prefs)) {
		p := prefs[name]
		k, ok := KindByName(name)
		switch {
		case !ok:
			v.Add(name, fmt.Sprintf("%q is not a kind of notification", name))
		case k.Legal && (!p.Email || !p.InApp):
			v.Add(name, fmt.Sprintf("You cannot switch off %s because they are legal notices", strings.ToLower(k.Label)))
		}
	}
	if err := v.Err(); err != nil {
		// Report in the order the page shows the kinds.
		slices.SortStableFunc(v.List, func(a, b validate.FieldError) int { return kindIndex(a.Field) - kindIndex(b.Field) })
		return err
	}
	return n.DB.Tx(ctx, func(tx *gorm.DB) error {
		var users int64
		if err := tx.Model(&recipient{}).Where("id = ?", userID).Count(&users).Error; err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		if users == 0 {
			return store.ErrNotFound
		}
		stored, err := n.storedPreferences(tx, userID)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		now := n.now()
		for _, k := range Kinds {
			p, ok := prefs[k.Name]
			if !ok || k.Legal {
				continue
			}
			old, had := stored[k.Name]
			if !had {
				old = preferenceRow{Email: true, InApp: true}
			}
			if old.Email == p.Email && old.InApp == p.InApp {
				continue
			}
			row := preferenceRow{UserID: userID, Kind: k.Name, Email: p.Email, InApp: p.InApp, UpdatedAt: now}
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "user_id"}, {Name: "kind"}},
				DoUpdates: clause.AssignmentColumns([]string{"email", "in_app", "updated_at"}),
			}).Create(&row).Error
			if err != nil {
				return fmt.Errorf("save notification preference %s: %w", k.Name, err)
			}
			changes[k.Name] = map[string]bool{"email": p.Email, "in_app": p.InApp}
		}
		if len(changes) == 0 {
			return nil
		}
		return n.Audit.Append(tx, actor, audit.Event{
			Action: "notification.preferences_update", ObjectType: "user", ObjectID: userID,
			Detail: map[string]any{"changes": changes},
		})
	})
}

func kindIndex(name string) int {
	for i, k := range Kinds {
		if k.Name == name {
			return i
		}
	}
	return len(Kinds)
}

// SendTest notifies the user with a test message, so an administrator can
// check that email reaches them; it is audited.
func (n *Notifier) SendTest(ctx context.Context, actor audit.Actor, userID string) error {
	return n.DB.Tx(ctx, func(tx *gorm.DB) error {
		sentBy := actor.Label
		if sentBy == "" {
			sentBy = "An administrator"
		}
		if err := n.Notify(ctx, tx, userID, KindTestMessage, map[string]any{"SentBy": sentBy}, "/notifications"); err != nil {
			return err
		}
		return n.Audit.Append(tx, actor, audit.Event{Action: "notification.test_send", ObjectType: "user", ObjectID: userID})
	})
}

// EmailProblems lists, newest first, notifications whose email has not
// gone out and has failed at least once, for administrators.
func (n *Notifier) EmailProblems(ctx context.Context, limit int) ([]Notification, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []Notification
	err := n.DB.WithContext(ctx).
		Where("send_email = ? AND emailed_at IS NULL AND email_error <> ''", true).
		Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list failing emails: %w", err)
	}
	return out, nil
}

// OutboxMessage is an email the development outbox caught instead of
// sending.
type OutboxMessage struct {
	ID        string
	ToAddress string
	Subject   string
	BodyText  string
	BodyHTML  string `gorm:"column:body_html"`
	MessageID string
	CreatedAt time.Time
}

// TableName tells GORM where the outbox lives.
func (OutboxMessage) TableName() string { return "dev_outbox" }

// Outbox lists the development outbox, newest first.
func (n *Notifier) Outbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var out []OutboxMessage
	if err := n.DB.WithContext(ctx).Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// errNoAddress reports a recipient without an email address.
var errNoAddress = errors.New("the person has no email address in the portal")
