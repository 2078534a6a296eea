-- Requirement catalogues: a consortium's library of requirements, grouped in
-- sections, from which framework lots and mini-competitions copy. Publishing
-- freezes the whole catalogue as a numbered version (a JSON snapshot), so a
-- framework keeps the exact wording it was published with while the draft
-- moves on. A published version is never updated or deleted by the portal.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE catalogues (
    id              TEXT PRIMARY KEY,
    consortium_id   TEXT NOT NULL REFERENCES organisations (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    -- current_version is the number of the latest published version; 0 until
    -- the first publication.
    current_version INTEGER NOT NULL DEFAULT 0,
    -- version guards edits of the title and description (optimistic locking).
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      {{TIMESTAMP}} NOT NULL,
    updated_at      {{TIMESTAMP}} NOT NULL
);
CREATE INDEX catalogues_consortium ON catalogues (consortium_id, title);

CREATE TABLE catalogue_sections (
    id           TEXT PRIMARY KEY,
    catalogue_id TEXT NOT NULL REFERENCES catalogues (id),
    title        TEXT NOT NULL,
    position     INTEGER NOT NULL
);
-- Imports find sections by title, so titles differing only in case would be
-- ambiguous.
CREATE UNIQUE INDEX catalogue_sections_title ON catalogue_sections (catalogue_id, LOWER(title));

CREATE TABLE catalogue_requirements (
    id            TEXT PRIMARY KEY,
    catalogue_id  TEXT NOT NULL REFERENCES catalogues (id),
    section_id    TEXT NOT NULL REFERENCES catalogue_sections (id),
    reference     TEXT NOT NULL,
    text          TEXT NOT NULL,
    priority      TEXT NOT NULL CHECK (priority IN ('must', 'should', 'could', 'wont')),
    weight        INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),
    response_type TEXT NOT NULL CHECK (response_type IN ('pass_fail', 'scored', 'numeric', 'price_schedule')),
    -- descriptors is a JSON array of the five descriptors of marks 0 to 4 for
    -- scored requirements, '' otherwise.
    descriptors   TEXT NOT NULL DEFAULT '',
    guidance      TEXT NOT NULL DEFAULT '',
    position      INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    {{TIMESTAMP}} NOT NULL,
    updated_at    {{TIMESTAMP}} NOT NULL,
    UNIQUE (catalogue_id, reference)
);
CREATE INDEX catalogue_requirements_section ON catalogue_requirements (section_id, position);

CREATE TABLE catalogue_versions (
    id                TEXT PRIMARY KEY,
    catalogue_id      TEXT NOT NULL REFERENCES catalogues (id),
    number            INTEGER NOT NULL,
    published_at      {{TIMESTAMP}} NOT NULL,
    -- published_by is the user id ('' for the portal itself); the name is
    -- kept as it was, for display.
    published_by      TEXT NOT NULL DEFAULT '',
    published_by_name TEXT NOT NULL DEFAULT '',
    -- snapshot is the JSON of the title, sections and requirements as they
    -- were at publication.
    snapshot          TEXT NOT NULL,
    UNIQUE (catalogue_id, number)
);

-- +goose Down
DROP TABLE catalogue_versions;
DROP TABLE catalogue_requirements;
DROP TABLE catalogue_sections;
DROP TABLE catalogues;
