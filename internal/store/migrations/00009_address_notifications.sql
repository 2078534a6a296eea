-- Email to someone who is not yet a user of the portal, such as a supplier
-- contact invited to apply to a framework: a notification may name an
-- address (to_address) instead of a user. Such a notification is email
-- only, and once sent its text is replaced with a note, because it may hold
-- a one-time link that must not stay readable in the database.
-- SQLite cannot drop a NOT NULL constraint, so the table is rebuilt the
-- same way on both engines.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE notifications_new (
    id          TEXT PRIMARY KEY,
    user_id     TEXT REFERENCES users (id),
    to_address  TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    legal       BOOLEAN NOT NULL DEFAULT FALSE,
    in_app      BOOLEAN NOT NULL DEFAULT TRUE,
    send_email  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  {{TIMESTAMP}} NOT NULL,
    read_at     {{TIMESTAMP}},
    emailed_at  {{TIMESTAMP}},
    email_error TEXT NOT NULL DEFAULT '',
    CHECK ((user_id IS NOT NULL) <> (to_address <> ''))
);
INSERT INTO notifications_new (id, user_id, kind, subject, body_text, link, data, legal, in_app, send_email, created_at, read_at, emailed_at, email_error)
    SELECT id, user_id, kind, subject, body_text, link, data, legal, in_app, send_email, created_at, read_at, emailed_at, email_error FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_user_created ON notifications (user_id, created_at, id);
CREATE INDEX notifications_user_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_email_pending ON notifications (created_at) WHERE emailed_at IS NULL AND send_email = TRUE;

-- +goose Down
DELETE FROM notifications WHERE user_id IS NULL;
CREATE TABLE notifications_old (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    legal       BOOLEAN NOT NULL DEFAULT FALSE,
    in_app      BOOLEAN NOT NULL DEFAULT TRUE,
    send_email  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  {{TIMESTAMP}} NOT NULL,
    read_at     {{TIMESTAMP}},
    emailed_at  {{TIMESTAMP}},
    email_error TEXT NOT NULL DEFAULT ''
);
INSERT INTO notifications_old SELECT id, user_id, kind, subject, body_text, link, data, legal, in_app, send_email, created_at, read_at, emailed_at, email_error FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_old RENAME TO notifications;
CREATE INDEX notifications_user_created ON notifications (user_id, created_at, id);
CREATE INDEX notifications_user_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_email_pending ON notifications (created_at) WHERE emailed_at IS NULL AND send_email = TRUE;
