-- Evaluation of a mini-competition's opened bids: the panel's sections,
-- conflict-of-interest declarations, each evaluator's marks, the lead trust's
-- moderation, the price formula and tie-break rule, and the award
-- recommendation.
--
-- On the competition: price_formula (how price points are worked out from the
-- bids' total prices; the evaluation package knows the formulas, so no CHECK:
-- later steps may add some), tie_break ('' until the lead records one:
-- 'quality' or 'price'), and when moderation completed and the award was
-- recommended. These are timestamps rather than statuses so that the stored
-- status (draft, published, cancelled) and the states the clock derives stay
-- as they are.
--
-- A panel member with no rows in competition_panel_sections evaluates every
-- section; with rows, only those sections (by competition_requirements'
-- section_title). The rows are not tied to competition_panel by a foreign
-- key: the panel may be replaced until the bids are opened, and a restriction
-- of someone no longer on it simply does not count.
--
-- competition_declarations holds each person's declaration about each
-- opened bid's supplier: no conflict, or a conflict with its details. A
-- conflict, once declared, is never withdrawn (the competition package only
-- ever turns a "no conflict" into a conflict).
--
-- competition_scores are an evaluator's marks per requirement per bid (pass
-- or fail for a pass/fail requirement, 0 to 4 for the others, never both),
-- drafts until competition_evaluations records that they submitted them for
-- that bid. competition_moderations records that the lead trust moderated a
-- bid, competition_consensus the consensus mark and rationale per
-- requirement, and competition_bid_totals the bid's total price per buying
-- trust in pence, worked out from the sealed bid when it was moderated (the
-- bid itself stays in the sealed box). competition_recommendations is the
-- lead trust's award recommendation: one per competition, with the approval
-- quorum each buying trust's board needs and the date approvals are due.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
ALTER TABLE competitions ADD COLUMN price_formula TEXT NOT NULL DEFAULT 'lowest_over_bid';
ALTER TABLE competitions ADD COLUMN tie_break TEXT NOT NULL DEFAULT '';
ALTER TABLE competitions ADD COLUMN moderated_at {{TIMESTAMP}};
ALTER TABLE competitions ADD COLUMN recommended_at {{TIMESTAMP}};

CREATE TABLE competition_panel_sections (
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    user_id        TEXT NOT NULL REFERENCES users (id),
    section_title  TEXT NOT NULL,
    set_at         {{TIMESTAMP}} NOT NULL,
    set_by         TEXT NOT NULL,
    PRIMARY KEY (competition_id, user_id, section_title)
);

CREATE TABLE competition_declarations (
    competition_id  TEXT NOT NULL REFERENCES competitions (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    supplier_org_id TEXT NOT NULL REFERENCES organisations (id),
    conflict        BOOLEAN NOT NULL,
    details         TEXT NOT NULL DEFAULT '',
    declared_at     {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (competition_id, user_id, supplier_org_id),
    CHECK (conflict = FALSE OR details <> '')
);
CREATE INDEX competition_declarations_supplier ON competition_declarations (competition_id, supplier_org_id);

CREATE TABLE competition_scores (
    bid_id            TEXT NOT NULL REFERENCES competition_bids (id),
    requirement_id    TEXT NOT NULL REFERENCES competition_requirements (id),
    evaluator_user_id TEXT NOT NULL REFERENCES users (id),
    pass              BOOLEAN,
    score             INTEGER CHECK (score BETWEEN 0 AND 4),
    justification     TEXT NOT NULL CHECK (justification <> ''),
    saved_at          {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (bid_id, requirement_id, evaluator_user_id),
    CHECK ((pass IS NULL) <> (score IS NULL))
);

CREATE TABLE competition_evaluations (
    bid_id            TEXT NOT NULL REFERENCES competition_bids (id),
    evaluator_user_id TEXT NOT NULL REFERENCES users (id),
    submitted_at      {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (bid_id, evaluator_user_id)
);

CREATE TABLE competition_moderations (
    bid_id         TEXT PRIMARY KEY REFERENCES competition_bids (id),
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    moderated_by   TEXT NOT NULL REFERENCES users (id),
    moderated_at   {{TIMESTAMP}} NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX competition_moderations_competition ON competition_moderations (competition_id);

CREATE TABLE competition_consensus (
    bid_id         TEXT NOT NULL REFERENCES competition_moderations (bid_id),
    requirement_id TEXT NOT NULL REFERENCES competition_requirements (id),
    pass           BOOLEAN,
    score          INTEGER CHECK (score BETWEEN 0 AND 4),
    rationale      TEXT NOT NULL CHECK (rationale <> ''),
    PRIMARY KEY (bid_id, requirement_id),
    CHECK ((pass IS NULL) <> (score IS NULL))
);

CREATE TABLE competition_bid_totals (
    bid_id          TEXT NOT NULL REFERENCES competition_moderations (bid_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    total_pence     BIGINT NOT NULL CHECK (total_pence >= 0),
    PRIMARY KEY (bid_id, organisation_id)
);

CREATE TABLE competition_recommendations (
    competition_id  TEXT PRIMARY KEY REFERENCES competitions (id),
    bid_id          TEXT NOT NULL UNIQUE REFERENCES competition_bids (id),
    supplier_org_id TEXT NOT NULL REFERENCES organisations (id),
    rationale       TEXT NOT NULL CHECK (rationale <> ''),
    quorum          INTEGER NOT NULL DEFAULT 2 CHECK (quorum BETWEEN 1 AND 5),
    approval_due    {{TIMESTAMP}} NOT NULL,
    recommended_by  TEXT NOT NULL REFERENCES users (id),
    recommended_at  {{TIMESTAMP}} NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);

-- +goose Down
DROP TABLE competition_recommendations;
DROP TABLE competition_bid_totals;
DROP TABLE competition_consensus;
DROP TABLE competition_moderations;
DROP TABLE competition_evaluations;
DROP TABLE competition_scores;
DROP INDEX competition_declarations_supplier;
DROP TABLE competition_declarations;
DROP TABLE competition_panel_sections;
ALTER TABLE competitions DROP COLUMN recommended_at;
ALTER TABLE competitions DROP COLUMN moderated_at;
ALTER TABLE competitions DROP COLUMN tie_break;
ALTER TABLE competitions DROP COLUMN price_formula;
