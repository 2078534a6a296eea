-- A trust's list of mini-competitions comes newest first, a page at a
-- time: this index walks a trust's competitions in that order, so a page
-- reads its own rows and no others (the index on organisation_id alone
-- is a prefix of it).

-- +goose Up
CREATE INDEX competition_buyers_listed ON competition_buyers (organisation_id, added_at, id);
DROP INDEX competition_buyers_organisation;

-- +goose Down
CREATE INDEX competition_buyers_organisation ON competition_buyers (organisation_id);
DROP INDEX competition_buyers_listed;
