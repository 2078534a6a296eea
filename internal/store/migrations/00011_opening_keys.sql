-- Two-key opening: a sealed box (or a framework's set of boxes, one per
-- lot) is opened only when two different authorised people have each
-- turned a key. One row per person per scope; the same person turning
-- twice is refused, so two rows mean two people.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE sealed_opening_keys (
    scope     TEXT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users (id),
    turned_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (scope, user_id)
);

-- +goose Down
DROP TABLE sealed_opening_keys;
