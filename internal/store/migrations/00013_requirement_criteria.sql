-- Each scored requirement of a lot counts towards one of the framework's
-- evaluation criteria (Quality, Price, Social value...), so the criteria's
-- weights decide how much each part of an application counts. Empty means
-- the first criterion.

-- +goose Up
ALTER TABLE framework_lot_requirements ADD COLUMN criterion TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE framework_lot_requirements DROP COLUMN criterion;
