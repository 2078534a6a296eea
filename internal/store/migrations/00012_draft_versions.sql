-- A supplier's working copy carries a version, moved on by every save, so
-- that two tabs (or two colleagues) saving the same application at once
-- cannot silently overwrite each other's answers.

-- +goose Up
ALTER TABLE sealed_drafts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE sealed_drafts DROP COLUMN version;
