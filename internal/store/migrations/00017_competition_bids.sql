-- The bids of a mini-competition as opened after the submission deadline by
-- two authorised people. The bids themselves stay in the sealed tender box
-- (sealed_submissions, sealed_versions: encrypted, every version kept); a row
-- here pins the version that was opened (number and SHA-256) so that reading
-- it later can prove it is still the same one. No content is ever stored
-- here.
--
-- A bid whose supplier could no longer bid at the opening (its appointment to
-- the lot suspended or ended, or its invitation declined) is recorded as
-- excluded with the reason it was told; its content is not read again.
--
-- status has no CHECK: the later steps add statuses (successful,
-- unsuccessful) and SQLite cannot change a CHECK without rebuilding the table.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE competition_bids (
    id              TEXT PRIMARY KEY,
    competition_id  TEXT NOT NULL REFERENCES competitions (id),
    supplier_org_id TEXT NOT NULL REFERENCES organisations (id),
    submission_id   TEXT NOT NULL UNIQUE REFERENCES sealed_submissions (id),
    version_number  INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    received_at     {{TIMESTAMP}} NOT NULL,
    status          TEXT NOT NULL DEFAULT 'opened',
    excluded_reason TEXT NOT NULL DEFAULT '',
    opened_at       {{TIMESTAMP}} NOT NULL,
    opened_by       TEXT NOT NULL REFERENCES users (id),
    UNIQUE (competition_id, supplier_org_id),
    CHECK (status <> 'excluded' OR excluded_reason <> '')
);
CREATE INDEX competition_bids_supplier ON competition_bids (supplier_org_id);

-- +goose Down
DROP TABLE competition_bids;
