-- Foundation: organisations, consortia, users, role memberships, sessions,
-- sign-in attempts and the hash-chained audit log.
-- Column types in double braces (TIMESTAMP, DATE, SERIAL) are filled in per database by the store
-- package, so one file serves PostgreSQL and SQLite.

-- +goose Up
CREATE TABLE organisations (
    id                     TEXT PRIMARY KEY,
    kind                   TEXT NOT NULL CHECK (kind IN ('trust', 'supplier', 'consortium', 'national', 'platform')),
    name                   TEXT NOT NULL,
    ods_code               TEXT,
    region                 TEXT NOT NULL DEFAULT '',
    companies_house_number TEXT,
    lead_organisation_id   TEXT REFERENCES organisations (id),
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             {{TIMESTAMP}} NOT NULL,
    updated_at             {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX organisations_ods_code ON organisations (ods_code) WHERE ods_code IS NOT NULL;
CREATE UNIQUE INDEX organisations_companies_house ON organisations (companies_house_number) WHERE companies_house_number IS NOT NULL;
CREATE INDEX organisations_kind_name ON organisations (kind, name);

CREATE TABLE consortium_members (
    id            TEXT PRIMARY KEY,
    consortium_id TEXT NOT NULL REFERENCES organisations (id),
    trust_id      TEXT NOT NULL REFERENCES organisations (id),
    joined_on     {{DATE}} NOT NULL,
    left_on       {{DATE}},
    created_at    {{TIMESTAMP}} NOT NULL
);
CREATE INDEX consortium_members_consortium ON consortium_members (consortium_id);
CREATE INDEX consortium_members_trust ON consortium_members (trust_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL DEFAULT '',
    disabled_at   {{TIMESTAMP}},
    last_login_at {{TIMESTAMP}},
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    {{TIMESTAMP}} NOT NULL,
    updated_at    {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX users_issuer_subject ON users (issuer, subject);

CREATE TABLE memberships (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT 'portal' CHECK (source IN ('portal', 'identity_provider')),
    created_at      {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX memberships_unique ON memberships (user_id, organisation_id, role);
CREATE INDEX memberships_organisation ON memberships (organisation_id);

-- authz_state holds one row whose version rises with every change to role
-- assignments, so every instance can notice and reload its enforcer.
CREATE TABLE authz_state (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO authz_state (id, version) VALUES (1, 1);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    acting_org_id   TEXT REFERENCES organisations (id),
    provider        TEXT NOT NULL,
    id_token_hint   TEXT NOT NULL DEFAULT '',
    created_at      {{TIMESTAMP}} NOT NULL,
    last_seen_at    {{TIMESTAMP}} NOT NULL,
    expires_at      {{TIMESTAMP}} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    state       TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    verifier    TEXT NOT NULL,
    return_to   TEXT NOT NULL DEFAULT '',
    expires_at  {{TIMESTAMP}} NOT NULL
);

CREATE TABLE audit_entries (
    seq             {{SERIAL}},
    occurred_at     {{TIMESTAMP}} NOT NULL,
    actor_user_id   TEXT NOT NULL DEFAULT '',
    actor_label     TEXT NOT NULL DEFAULT '',
    acting_org_id   TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    object_type     TEXT NOT NULL DEFAULT '',
    object_id       TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    ip              TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '',
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_entries_action ON audit_entries (action);
CREATE INDEX audit_entries_actor ON audit_entries (actor_user_id);
CREATE INDEX audit_entries_org ON audit_entries (acting_org_id);
CREATE INDEX audit_entries_occurred ON audit_entries (occurred_at);

-- +goose Down
DROP TABLE audit_entries;
DROP TABLE login_attempts;
DROP TABLE sessions;
DROP TABLE authz_state;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE consortium_members;
DROP TABLE organisations;
