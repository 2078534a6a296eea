-- The sealed electronic tender box, shared by framework applications and
-- mini-competition bids: one submission per supplier per box, every version
-- kept with its receipt (server time of the durable commit and SHA-256 of the
-- plain content). Content is stored encrypted (envelope encryption with the
-- master key, which is not in the database); the plain content never is.
-- box_type and box_id name the framework or competition without a foreign
-- key, so one table serves both; the sealed package checks the deadline.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE sealed_submissions (
    id              TEXT PRIMARY KEY,
    box_type        TEXT NOT NULL CHECK (box_type IN ('framework_application', 'competition_bid')),
    box_id          TEXT NOT NULL,
    supplier_org_id TEXT NOT NULL REFERENCES organisations (id),
    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'withdrawn')),
    -- current_version is the number of the latest sealed_versions row (0
    -- while only a draft exists).
    current_version INTEGER NOT NULL DEFAULT 0,
    -- version is the optimistic lock: it rises with every submit, resubmit
    -- and withdrawal.
    version         INTEGER NOT NULL DEFAULT 0,
    created_at      {{TIMESTAMP}} NOT NULL,
    updated_at      {{TIMESTAMP}} NOT NULL,
    UNIQUE (box_type, box_id, supplier_org_id)
);
CREATE INDEX sealed_submissions_supplier ON sealed_submissions (supplier_org_id);

CREATE TABLE sealed_versions (
    id            TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES sealed_submissions (id),
    number        INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('submit', 'resubmit', 'withdraw')),
    -- received_at is the server's time when the version was committed.
    received_at   {{TIMESTAMP}} NOT NULL,
    -- sha256 is the hex SHA-256 of the plain content (of nothing for a withdrawal).
    sha256        TEXT NOT NULL,
    content       {{BLOB}} NOT NULL,
    wrapped_key   {{BLOB}} NOT NULL,
    submitted_by  TEXT NOT NULL REFERENCES users (id),
    UNIQUE (submission_id, number)
);

CREATE TABLE sealed_drafts (
    submission_id TEXT PRIMARY KEY REFERENCES sealed_submissions (id),
    content       {{BLOB}} NOT NULL,
    wrapped_key   {{BLOB}} NOT NULL,
    saved_at      {{TIMESTAMP}} NOT NULL
);

-- +goose Down
DROP TABLE sealed_drafts;
DROP TABLE sealed_versions;
DROP TABLE sealed_submissions;
