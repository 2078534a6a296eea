-- Supplier invitations to a framework: the lead invites a supplier by email;
-- the emailed link carries a random token of which only the SHA-256 hash is
-- stored. Accepting links the invitation to the supplier organisation the
-- signed-in person acts for (registered on the way when not yet known).
-- At most one invitation per email and framework is open ('sent') at a time;
-- inviting again revokes the old one.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE framework_invitations (
    id              TEXT PRIMARY KEY,
    framework_id    TEXT NOT NULL REFERENCES frameworks (id),
    email           TEXT NOT NULL,
    supplier_org_id TEXT REFERENCES organisations (id),
    token_hash      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'accepted', 'revoked')),
    invited_by      TEXT NOT NULL DEFAULT '',
    invited_at      {{TIMESTAMP}} NOT NULL,
    accepted_at     {{TIMESTAMP}},
    accepted_by     TEXT NOT NULL DEFAULT '',
    revoked_at      {{TIMESTAMP}}
);
CREATE UNIQUE INDEX framework_invitations_open ON framework_invitations (framework_id, email) WHERE status = 'sent';
CREATE INDEX framework_invitations_framework ON framework_invitations (framework_id, invited_at);
CREATE INDEX framework_invitations_supplier ON framework_invitations (supplier_org_id) WHERE supplier_org_id IS NOT NULL;

-- +goose Down
DROP TABLE framework_invitations;
