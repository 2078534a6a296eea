-- Notifications: what the portal told whom, shown in the portal and sent by
-- email, each person's choice of which kinds they want and how, and the
-- development outbox that stands in for an SMTP server.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',
    -- data is the JSON the templates were given, so the email job renders
    -- the same message later.
    data        TEXT NOT NULL DEFAULT '{}',
    -- legal notices (award letters, standstill, deadline changes) cannot be
    -- switched off by the recipient.
    legal       BOOLEAN NOT NULL DEFAULT FALSE,
    -- in_app is false when the person only wants these by email.
    in_app      BOOLEAN NOT NULL DEFAULT TRUE,
    -- send_email is false when the person switched email off for the kind.
    send_email  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  {{TIMESTAMP}} NOT NULL,
    read_at     {{TIMESTAMP}},
    emailed_at  {{TIMESTAMP}},
    -- email_error keeps the last failure to send, for administrators.
    email_error TEXT NOT NULL DEFAULT ''
);
-- A person's notifications, newest first.
CREATE INDEX notifications_user_created ON notifications (user_id, created_at, id);
-- The unread count in the header.
CREATE INDEX notifications_user_unread ON notifications (user_id) WHERE read_at IS NULL;
-- Emails that have not gone out, for administrators.
CREATE INDEX notifications_email_pending ON notifications (created_at) WHERE emailed_at IS NULL AND send_email = TRUE;

CREATE TABLE notification_preferences (
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    email      BOOLEAN NOT NULL DEFAULT TRUE,
    in_app     BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE dev_outbox (
    id         TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body_text  TEXT NOT NULL,
    body_html  TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    created_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX dev_outbox_created ON dev_outbox (created_at);

-- +goose Down
DROP TABLE dev_outbox;
DROP TABLE notification_preferences;
DROP TABLE notifications;
