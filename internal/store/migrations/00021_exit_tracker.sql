-- The national contract exit tracker: the national contracts that end, the
-- deployments each trust runs under them, each deployment's exit plan, the
-- rules the red/amber/green rating is computed from, and the weekly
-- snapshots that keep the ratings' history.
--
-- Dates (expires_on, procurement_complete_by and the milestones' planned
-- and actual dates) are calendar dates held as the timestamp of midnight at
-- the start of that date in UK time, in UTC, as the contracts' dates are.
-- expires_on is the national contract's last day.
--
-- The rating itself is never stored on a deployment: it is computed from
-- the plan, the rules and the clock whenever it is shown, so it cannot be
-- typed in or go stale. Only a snapshot stores ratings, as they were.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE national_contracts (
    id                      TEXT PRIMARY KEY,
    -- reference is how the import and the contracts name it ("LSP-LONDON").
    reference               TEXT NOT NULL UNIQUE,
    supplier_name           TEXT NOT NULL,
    -- area is the region code of orgs.Regions the contract covers.
    area                    TEXT NOT NULL,
    expires_on              {{TIMESTAMP}} NOT NULL,
    -- procurement_complete_by is the date the national body asks trusts
    -- to have finished procurement by, leaving time to migrate (NULL: none).
    procurement_complete_by {{TIMESTAMP}},
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              {{TIMESTAMP}} NOT NULL,
    updated_at              {{TIMESTAMP}} NOT NULL,
    CHECK (procurement_complete_by IS NULL OR procurement_complete_by <= expires_on)
);

-- A deployment is one system a trust runs under a national contract, and
-- its exit plan: the path chosen ('' until chosen), the competition and
-- the contract that replace it, and the milestones' planned and actual
-- dates. system_type and path have no CHECK so that later steps may add
-- values (the exit package validates them).
CREATE TABLE deployments (
    id                       TEXT PRIMARY KEY,
    national_contract_id     TEXT NOT NULL REFERENCES national_contracts (id),
    organisation_id          TEXT NOT NULL REFERENCES organisations (id),
    system_type              TEXT NOT NULL,
    product                  TEXT NOT NULL,
    path                     TEXT NOT NULL DEFAULT '',
    competition_id           TEXT REFERENCES competitions (id),
    contract_id              TEXT REFERENCES contracts (id),
    procurement_start_plan   {{TIMESTAMP}},
    procurement_start_actual {{TIMESTAMP}},
    award_plan               {{TIMESTAMP}},
    award_actual             {{TIMESTAMP}},
    signed_plan              {{TIMESTAMP}},
    signed_actual            {{TIMESTAMP}},
    migration_start_plan     {{TIMESTAMP}},
    migration_start_actual   {{TIMESTAMP}},
    cutover_plan             {{TIMESTAMP}},
    cutover_actual           {{TIMESTAMP}},
    notes                    TEXT NOT NULL DEFAULT '',
    version                  INTEGER NOT NULL DEFAULT 1,
    created_at               {{TIMESTAMP}} NOT NULL,
    updated_at               {{TIMESTAMP}} NOT NULL,
    UNIQUE (national_contract_id, organisation_id, system_type, product)
);
CREATE INDEX deployments_organisation ON deployments (organisation_id);
CREATE INDEX deployments_contract ON deployments (contract_id);
CREATE INDEX deployments_competition ON deployments (competition_id);

-- The rating rules an administrator may change: months of migration lead
-- time per system type (kind 'migration'), months of typical procurement
-- per path (kind 'procurement'), and the thresholds of slack below which a
-- deployment is red or amber (kind 'threshold', names 'red' and 'amber').
-- The exit package fills in its defaults for any row missing.
CREATE TABLE exit_rules (
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    months     INTEGER NOT NULL CHECK (months BETWEEN -60 AND 120),
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (kind, name)
);

-- A weekly snapshot of every deployment's rating and reason, as computed
-- then; week is the ISO week ("2026-W49"), one snapshot each.
CREATE TABLE exit_snapshots (
    id       TEXT PRIMARY KEY,
    week     TEXT NOT NULL UNIQUE,
    taken_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX exit_snapshots_taken ON exit_snapshots (taken_at);

CREATE TABLE exit_snapshot_ratings (
    snapshot_id   TEXT NOT NULL REFERENCES exit_snapshots (id),
    deployment_id TEXT NOT NULL REFERENCES deployments (id),
    rating        TEXT NOT NULL CHECK (rating IN ('red', 'amber', 'green')),
    reason        TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, deployment_id)
);
CREATE INDEX exit_snapshot_ratings_deployment ON exit_snapshot_ratings (deployment_id);

-- Contract expiry notices: each contract's trust is told once per window
-- (18, 12 and 6 months before the contract ends).
CREATE TABLE contract_expiry_notices (
    contract_id   TEXT NOT NULL REFERENCES contracts (id),
    window_months INTEGER NOT NULL CHECK (window_months IN (6, 12, 18)),
    sent_at       {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (contract_id, window_months)
);

-- +goose Down
DROP TABLE contract_expiry_notices;
DROP TABLE exit_snapshot_ratings;
DROP TABLE exit_snapshots;
DROP TABLE exit_rules;
DROP TABLE deployments;
DROP TABLE national_contracts;
