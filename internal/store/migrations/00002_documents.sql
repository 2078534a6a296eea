-- Documents: tender packs, applications and bids carry files. The content is
-- stored encrypted outside the database; a row holds only the data key
-- wrapped by the master key, which the database never holds.

-- +goose Up
CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    owner_type      TEXT NOT NULL DEFAULT 'library',
    owner_id        TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL,
    file_type       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    storage_key     TEXT NOT NULL,
    wrapped_key     {{BLOB}} NOT NULL,
    uploaded_by     TEXT NOT NULL REFERENCES users (id),
    created_at      {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX documents_storage_key ON documents (storage_key);
CREATE INDEX documents_organisation ON documents (organisation_id, created_at);
CREATE INDEX documents_owner ON documents (owner_type, owner_id);

-- +goose Down
DROP TABLE documents;
