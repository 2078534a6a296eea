-- Evaluating framework applications and appointing suppliers.
--
-- At the application deadline the consortium lead opens the lots' sealed
-- boxes; every eligible submitted application becomes a framework_applications
-- row pinning the sealed version opened (its number and SHA-256), so later
-- reads can be checked against it. The content stays in the sealed box.
-- Evaluators are assigned per framework; each scores every requirement of the
-- lot for every application (framework_scores) and then submits them
-- (framework_evaluations), after which they cannot change. The lead decides
-- appointed or unsuccessful per application, with reasons, and starts the
-- standstill, which sends the award letters.
-- frameworks.last_state is the state (derived from the status and the clock)
-- last recorded by the lifecycle job, so each change is audited and notified
-- once; '' means not yet recorded (set below for frameworks that existed
-- before this migration, so they are recorded without a burst of
-- notifications).
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
ALTER TABLE frameworks ADD COLUMN opened_at {{TIMESTAMP}};
ALTER TABLE frameworks ADD COLUMN opened_by TEXT NOT NULL DEFAULT '';
ALTER TABLE frameworks ADD COLUMN standstill_started_at {{TIMESTAMP}};
ALTER TABLE frameworks ADD COLUMN last_state TEXT NOT NULL DEFAULT 'draft';
UPDATE frameworks SET last_state = '' WHERE status <> 'draft';
CREATE INDEX frameworks_last_state ON frameworks (last_state);

CREATE TABLE framework_applications (
    id              TEXT PRIMARY KEY,
    framework_id    TEXT NOT NULL REFERENCES frameworks (id),
    lot_id          TEXT NOT NULL REFERENCES framework_lots (id),
    supplier_org_id TEXT NOT NULL REFERENCES organisations (id),
    submission_id   TEXT NOT NULL UNIQUE REFERENCES sealed_submissions (id),
    -- version_number and sha256 are the sealed version opened.
    version_number  INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    received_at     {{TIMESTAMP}} NOT NULL,
    status          TEXT NOT NULL DEFAULT 'opened' CHECK (status IN ('opened', 'appointed', 'unsuccessful')),
    reason          TEXT NOT NULL DEFAULT '',
    decided_at      {{TIMESTAMP}},
    decided_by      TEXT NOT NULL DEFAULT '',
    opened_at       {{TIMESTAMP}} NOT NULL,
    opened_by       TEXT NOT NULL,
    UNIQUE (lot_id, supplier_org_id)
);
CREATE INDEX framework_applications_framework ON framework_applications (framework_id, lot_id);
CREATE INDEX framework_applications_supplier ON framework_applications (supplier_org_id);

CREATE TABLE framework_evaluators (
    framework_id TEXT NOT NULL REFERENCES frameworks (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    assigned_at  {{TIMESTAMP}} NOT NULL,
    assigned_by  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (framework_id, user_id)
);
CREATE INDEX framework_evaluators_user ON framework_evaluators (user_id);

-- One evaluator's mark for one requirement of one application: pass for a
-- pass/fail requirement, score (0-4) for the others, and always a
-- justification.
CREATE TABLE framework_scores (
    application_id     TEXT NOT NULL REFERENCES framework_applications (id),
    lot_requirement_id TEXT NOT NULL REFERENCES framework_lot_requirements (id),
    evaluator_user_id  TEXT NOT NULL REFERENCES users (id),
    pass               BOOLEAN,
    score              INTEGER CHECK (score BETWEEN 0 AND 4),
    justification      TEXT NOT NULL,
    saved_at           {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (application_id, lot_requirement_id, evaluator_user_id),
    CHECK (pass IS NULL OR score IS NULL)
);

-- An evaluator's scores for an application, submitted and final.
CREATE TABLE framework_evaluations (
    application_id    TEXT NOT NULL REFERENCES framework_applications (id),
    evaluator_user_id TEXT NOT NULL REFERENCES users (id),
    submitted_at      {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (application_id, evaluator_user_id)
);

-- +goose Down
DROP TABLE framework_evaluations;
DROP TABLE framework_scores;
DROP TABLE framework_evaluators;
DROP TABLE framework_applications;
DROP INDEX frameworks_last_state;
ALTER TABLE frameworks DROP COLUMN last_state;
ALTER TABLE frameworks DROP COLUMN standstill_started_at;
ALTER TABLE frameworks DROP COLUMN opened_by;
ALTER TABLE frameworks DROP COLUMN opened_at;
