-- The award of a mini-competition, from the evaluation's recommendation
-- (competition_recommendations) to the confirmed award the contracts are
-- made from.
--
-- Board approval: every buying trust's board approves or rejects the
-- recommended award; each board member of that trust records a decision
-- (approve, reject, or recuse: a declared interest, counted neither way)
-- with comments and, optionally, the minutes from the trust's document
-- library. A trust has approved once approvals reach the recommendation's
-- quorum; any rejection stops the award. Decisions are tied to the
-- recommendation's version, so a new recommendation starts afresh.
--
-- The award row is written when the lead sends the award decision: letters
-- with an assessment summary to every bidder. Under the 2015 regulations
-- the letters are the award decision notices and start the standstill (a
-- call-off is exempt, so standstill_ends is the moment of sending unless a
-- voluntary standstill was chosen); under the Procurement Act 2023 the
-- standstill starts only when the contract award notice is published
-- afterwards (notice_published_at), so standstill_ends stays NULL until
-- then. A challenge recorded while the award is not yet confirmed pauses
-- it until resolved. status has no CHECK (SQLite cannot change one without
-- rebuilding the table): decided, confirmed, set_aside.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE award_approvals (
    id                     TEXT PRIMARY KEY,
    competition_id         TEXT NOT NULL REFERENCES competitions (id),
    organisation_id        TEXT NOT NULL REFERENCES organisations (id),
    user_id                TEXT NOT NULL REFERENCES users (id),
    recommendation_version INTEGER NOT NULL,
    decision               TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'recuse')),
    comments               TEXT NOT NULL DEFAULT '',
    minutes_document_id    TEXT REFERENCES documents (id),
    decided_at             {{TIMESTAMP}} NOT NULL,
    UNIQUE (competition_id, recommendation_version, organisation_id, user_id),
    CHECK (decision = 'approve' OR comments <> '')
);
CREATE INDEX award_approvals_competition ON award_approvals (competition_id, organisation_id);

-- Reminders sent to board members before (and after) the approval date, so
-- each is sent once: kind is requested, due_soon or overdue.
CREATE TABLE award_reminders (
    competition_id         TEXT NOT NULL REFERENCES competitions (id),
    recommendation_version INTEGER NOT NULL,
    user_id                TEXT NOT NULL REFERENCES users (id),
    kind                   TEXT NOT NULL,
    sent_at                {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (competition_id, recommendation_version, user_id, kind)
);

CREATE TABLE competition_awards (
    competition_id         TEXT PRIMARY KEY REFERENCES competitions (id),
    recommendation_version INTEGER NOT NULL,
    bid_id                 TEXT NOT NULL REFERENCES competition_bids (id),
    supplier_org_id        TEXT NOT NULL REFERENCES organisations (id),
    status                 TEXT NOT NULL DEFAULT 'decided',
    voluntary_standstill   BOOLEAN NOT NULL DEFAULT FALSE,
    letters_sent_at        {{TIMESTAMP}} NOT NULL,
    notice_published_at    {{TIMESTAMP}},
    standstill_ends        {{TIMESTAMP}},
    decided_by             TEXT NOT NULL REFERENCES users (id),
    confirmed_at           {{TIMESTAMP}},
    confirmed_by           TEXT REFERENCES users (id),
    version                INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE award_challenges (
    id              TEXT PRIMARY KEY,
    competition_id  TEXT NOT NULL REFERENCES competitions (id),
    supplier_org_id TEXT REFERENCES organisations (id),
    details         TEXT NOT NULL CHECK (details <> ''),
    received_at     {{TIMESTAMP}} NOT NULL,
    recorded_by     TEXT NOT NULL REFERENCES users (id),
    recorded_at     {{TIMESTAMP}} NOT NULL,
    outcome         TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'dismissed', 'withdrawn', 'upheld')),
    resolution      TEXT NOT NULL DEFAULT '',
    resolved_at     {{TIMESTAMP}},
    resolved_by     TEXT REFERENCES users (id),
    CHECK (outcome = '' OR (resolution <> '' AND resolved_at IS NOT NULL))
);
CREATE INDEX award_challenges_competition ON award_challenges (competition_id, received_at);

-- +goose Down
DROP TABLE award_challenges;
DROP TABLE competition_awards;
DROP TABLE award_reminders;
DROP TABLE award_approvals;
