-- Mini-competitions (further competitions): a trust that may buy under a live
-- framework runs a competition among the suppliers appointed to one lot, for
-- itself and possibly other buying trusts.
--
-- Only the statuses a person decides are stored (draft, published, cancelled,
-- and those the later steps add: opened, awarded...); the states the clock
-- decides (open for questions, open for bids, closed after the submission
-- deadline) are derived from the dates by the competition package. status has
-- no CHECK for that reason: SQLite cannot change a CHECK without rebuilding
-- the table, and the later steps add statuses.
--
-- Requirements are copies: the competition owns its wording from the moment
-- of the copy; lot_requirement_id says which lot requirement each came from
-- (NULL for one the buyer added). Price schedules are per buying trust; the
-- suppliers will price each item in pence later. competition_changes records
-- every change made after publication, with old and new values, and whether
-- it changed the terms (bids submitted before such a change need
-- reconfirmation).
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE competitions (
    id                     TEXT PRIMARY KEY,
    framework_id           TEXT NOT NULL REFERENCES frameworks (id),
    lot_id                 TEXT NOT NULL REFERENCES framework_lots (id),
    reference              TEXT NOT NULL UNIQUE,
    title                  TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    lead_org_id            TEXT NOT NULL REFERENCES organisations (id),
    regime                 TEXT NOT NULL CHECK (regime IN ('pcr2015', 'pa2023')),
    status                 TEXT NOT NULL DEFAULT 'draft',
    quality_weight         INTEGER NOT NULL CHECK (quality_weight BETWEEN 0 AND 100),
    price_weight           INTEGER NOT NULL CHECK (price_weight BETWEEN 0 AND 100),
    show_bid_count         BOOLEAN NOT NULL DEFAULT FALSE,
    expression_of_interest BOOLEAN NOT NULL DEFAULT FALSE,
    eoi_deadline           {{TIMESTAMP}},
    question_deadline      {{TIMESTAMP}} NOT NULL,
    submission_deadline    {{TIMESTAMP}} NOT NULL,
    evaluation_end         {{TIMESTAMP}} NOT NULL,
    planned_award          {{TIMESTAMP}} NOT NULL,
    published_at           {{TIMESTAMP}},
    cancelled_at           {{TIMESTAMP}},
    cancel_reason          TEXT NOT NULL DEFAULT '',
    -- opened_at is set when two authorised people open the bids (a later step).
    opened_at              {{TIMESTAMP}},
    created_by             TEXT NOT NULL DEFAULT '',
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             {{TIMESTAMP}} NOT NULL,
    updated_at             {{TIMESTAMP}} NOT NULL,
    CHECK (quality_weight + price_weight = 100),
    CHECK (expression_of_interest = FALSE OR eoi_deadline IS NOT NULL)
);
CREATE INDEX competitions_framework ON competitions (framework_id, lot_id);
CREATE INDEX competitions_lead ON competitions (lead_org_id, reference);

-- The buying trusts, the lead among them, each with its own volumes and sites
-- (and, at the end, its own contract).
CREATE TABLE competition_buyers (
    id              TEXT PRIMARY KEY,
    competition_id  TEXT NOT NULL REFERENCES competitions (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    volumes         TEXT NOT NULL DEFAULT '',
    bed_count       INTEGER CHECK (bed_count >= 0),
    user_count      INTEGER CHECK (user_count >= 0),
    sites           TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1,
    added_at        {{TIMESTAMP}} NOT NULL,
    UNIQUE (competition_id, organisation_id)
);
CREATE INDEX competition_buyers_organisation ON competition_buyers (organisation_id);

CREATE TABLE competition_requirements (
    id                 TEXT PRIMARY KEY,
    competition_id     TEXT NOT NULL REFERENCES competitions (id),
    lot_requirement_id TEXT REFERENCES framework_lot_requirements (id),
    reference          TEXT NOT NULL,
    text               TEXT NOT NULL,
    priority           TEXT NOT NULL,
    weight             INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),
    response_type      TEXT NOT NULL CHECK (response_type IN ('pass_fail', 'scored', 'numeric', 'price_schedule')),
    descriptors        TEXT NOT NULL DEFAULT '',
    guidance           TEXT NOT NULL DEFAULT '',
    section_title      TEXT NOT NULL DEFAULT '',
    position           INTEGER NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    UNIQUE (competition_id, reference)
);
CREATE INDEX competition_requirements_competition ON competition_requirements (competition_id, position);

-- One line of a buying trust's price schedule: what is priced, per what unit
-- and how many. Suppliers price each line in pence per unit.
CREATE TABLE competition_price_items (
    id              TEXT PRIMARY KEY,
    competition_id  TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    unit            TEXT NOT NULL,
    quantity        BIGINT NOT NULL CHECK (quantity > 0),
    position        INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    FOREIGN KEY (competition_id, organisation_id) REFERENCES competition_buyers (competition_id, organisation_id)
);
CREATE UNIQUE INDEX competition_price_items_name ON competition_price_items (competition_id, organisation_id, LOWER(name));

CREATE TABLE competition_panel (
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    user_id        TEXT NOT NULL REFERENCES users (id),
    assigned_at    {{TIMESTAMP}} NOT NULL,
    assigned_by    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (competition_id, user_id)
);
CREATE INDEX competition_panel_user ON competition_panel (user_id);

-- Every supplier appointed to the lot when the competition was published.
CREATE TABLE competition_invitees (
    competition_id  TEXT NOT NULL REFERENCES competitions (id),
    supplier_org_id TEXT NOT NULL REFERENCES organisations (id),
    status          TEXT NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'interested', 'declined')),
    reason          TEXT NOT NULL DEFAULT '',
    invited_at      {{TIMESTAMP}} NOT NULL,
    responded_at    {{TIMESTAMP}},
    responded_by    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (competition_id, supplier_org_id)
);
CREATE INDEX competition_invitees_supplier ON competition_invitees (supplier_org_id);

CREATE TABLE competition_changes (
    id             TEXT PRIMARY KEY,
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    kind           TEXT NOT NULL CHECK (kind IN ('deadline', 'requirement', 'document')),
    -- subject is what changed: a deadline's field name, a requirement's
    -- reference or a document's id.
    subject        TEXT NOT NULL,
    old_value      TEXT NOT NULL DEFAULT '',
    new_value      TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL,
    terms          BOOLEAN NOT NULL,
    changed_at     {{TIMESTAMP}} NOT NULL,
    changed_by     TEXT NOT NULL
);
CREATE INDEX competition_changes_competition ON competition_changes (competition_id, changed_at);

-- Documents of the tender pack, from the documents store.
CREATE TABLE competition_documents (
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    document_id    TEXT NOT NULL REFERENCES documents (id),
    reason         TEXT NOT NULL DEFAULT '',
    added_at       {{TIMESTAMP}} NOT NULL,
    added_by       TEXT NOT NULL,
    PRIMARY KEY (competition_id, document_id)
);

-- +goose Down
DROP TABLE competition_documents;
DROP TABLE competition_changes;
DROP TABLE competition_invitees;
DROP TABLE competition_panel;
DROP INDEX competition_price_items_name;
DROP TABLE competition_price_items;
DROP TABLE competition_requirements;
DROP TABLE competition_buyers;
DROP TABLE competitions;
