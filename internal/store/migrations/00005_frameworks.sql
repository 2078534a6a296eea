-- Framework agreements: a consortium's framework with lots, the requirements
-- each lot copies from a published catalogue version (keeping the link), the
-- evaluation criteria and the buyers allowed to call off from it.
-- Only the states a person decides are stored in status; the states the clock
-- decides (scheduled, open, evaluation, standstill ended, expired) are derived
-- from the dates by the framework package.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE frameworks (
    id                     TEXT PRIMARY KEY,
    consortium_id          TEXT NOT NULL REFERENCES organisations (id),
    reference              TEXT NOT NULL UNIQUE,
    title                  TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    regime                 TEXT NOT NULL CHECK (regime IN ('pcr2015', 'pa2023')),
    kind                   TEXT NOT NULL CHECK (kind IN ('closed', 'open')),
    term_start             {{DATE}} NOT NULL,
    term_end               {{DATE}} NOT NULL,
    applications_open      {{TIMESTAMP}} NOT NULL,
    clarification_deadline {{TIMESTAMP}} NOT NULL,
    application_deadline   {{TIMESTAMP}} NOT NULL,
    status                 TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'evaluation_done', 'standstill', 'live', 'cancelled')),
    standstill_ends        {{TIMESTAMP}},
    published_at           {{TIMESTAMP}},
    cancelled_at           {{TIMESTAMP}},
    cancel_reason          TEXT NOT NULL DEFAULT '',
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             {{TIMESTAMP}} NOT NULL,
    updated_at             {{TIMESTAMP}} NOT NULL
);
CREATE INDEX frameworks_consortium ON frameworks (consortium_id, reference);

CREATE TABLE framework_lots (
    id            TEXT PRIMARY KEY,
    framework_id  TEXT NOT NULL REFERENCES frameworks (id),
    number        INTEGER NOT NULL,
    title         TEXT NOT NULL,
    scope         TEXT NOT NULL DEFAULT '',
    min_suppliers INTEGER NOT NULL CHECK (min_suppliers >= 1),
    max_suppliers INTEGER NOT NULL,
    call_off      TEXT NOT NULL CHECK (call_off IN ('direct', 'competition', 'both')),
    UNIQUE (framework_id, number)
);

-- Requirements are copies: the lot owns its wording from the moment of the
-- copy; source_* say where it came from.
CREATE TABLE framework_lot_requirements (
    id                    TEXT PRIMARY KEY,
    lot_id                TEXT NOT NULL REFERENCES framework_lots (id),
    reference             TEXT NOT NULL,
    text                  TEXT NOT NULL,
    priority              TEXT NOT NULL,
    weight                INTEGER NOT NULL,
    response_type         TEXT NOT NULL,
    descriptors           TEXT NOT NULL DEFAULT '',
    guidance              TEXT NOT NULL DEFAULT '',
    section_title         TEXT NOT NULL DEFAULT '',
    source_catalogue_id   TEXT NOT NULL REFERENCES catalogues (id),
    source_version        INTEGER NOT NULL,
    source_requirement_id TEXT NOT NULL,
    position              INTEGER NOT NULL,
    UNIQUE (lot_id, reference)
);
CREATE INDEX framework_lot_requirements_lot ON framework_lot_requirements (lot_id, position);

CREATE TABLE framework_criteria (
    id           TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES frameworks (id),
    name         TEXT NOT NULL,
    weight       INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),
    position     INTEGER NOT NULL
);
CREATE INDEX framework_criteria_framework ON framework_criteria (framework_id, position);

CREATE TABLE framework_buyers (
    id              TEXT PRIMARY KEY,
    framework_id    TEXT NOT NULL REFERENCES frameworks (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    status          TEXT NOT NULL CHECK (status IN ('member', 'requested', 'admitted', 'refused')),
    requested_at    {{TIMESTAMP}},
    decided_at      {{TIMESTAMP}},
    decided_by      TEXT NOT NULL DEFAULT '',
    UNIQUE (framework_id, organisation_id)
);
CREATE INDEX framework_buyers_organisation ON framework_buyers (organisation_id);

-- +goose Down
DROP TABLE framework_buyers;
DROP TABLE framework_criteria;
DROP TABLE framework_lot_requirements;
DROP TABLE framework_lots;
DROP TABLE frameworks;
