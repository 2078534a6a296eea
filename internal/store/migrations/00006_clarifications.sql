-- Clarification questions, shared by every kind of procedure (frameworks,
-- mini-competitions): a supplier asks privately; the lead answers everyone
-- with the question reworded so it does not name the supplier
-- (public_question), or answers the asker alone.
-- procedure_type and procedure_id name the procedure without a foreign key,
-- so one table serves them all; the clarify package checks ownership.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE clarification_questions (
    id              TEXT PRIMARY KEY,
    procedure_type  TEXT NOT NULL CHECK (procedure_type IN ('framework', 'competition')),
    procedure_id    TEXT NOT NULL,
    asked_by_org    TEXT NOT NULL REFERENCES organisations (id),
    asked_by_user   TEXT NOT NULL REFERENCES users (id),
    text            TEXT NOT NULL,
    asked_at        {{TIMESTAMP}} NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered_public', 'answered_private', 'withdrawn')),
    answer          TEXT NOT NULL DEFAULT '',
    -- public_question is the lead's anonymised wording, shown to everyone
    -- with a public answer; empty for private answers.
    public_question TEXT NOT NULL DEFAULT '',
    answered_at     {{TIMESTAMP}},
    answered_by     TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX clarification_questions_procedure ON clarification_questions (procedure_type, procedure_id, asked_at);
CREATE INDEX clarification_questions_org ON clarification_questions (asked_by_org);

-- +goose Down
DROP TABLE clarification_questions;
