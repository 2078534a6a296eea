-- Contracts: one per buying trust, made from the confirmed award of a
-- mini-competition (the award package calls contracts.CreateFromAward in the
-- transaction that confirms the award).
--
-- Dates: start_date and end_date are calendar dates held as the timestamp of
-- midnight at the start of that date in UK time (Europe/London), in UTC, the
-- same on both engines. end_date is the contract's last day: it runs to
-- midnight at the end of end_date, plus extended_months once extensions are
-- exercised. signed_at is the signature date, held the same way (NULL until
-- signed). Timestamps rather than DATE columns because the states are
-- compared with the clock's moment, and a UK midnight is not a UTC one for
-- half the year.
--
-- Only what people decide is stored in status: pending (the default) and
-- terminated (with terminated_at and termination_reason). Active (signed and
-- started) and expired (past the end, extensions included) are derived from
-- the clock by the contracts package, so no job has to flip them. status has
-- no CHECK so that later steps may add statuses (SQLite cannot change a CHECK
-- without rebuilding the table).
--
-- What the contract replaces is text for now: national_contract_ref names
-- the national contract and deployments_note the deployments; the national
-- contract and deployment tables of the next step link to them.
-- Column types in double braces are filled in per database by the store package.

-- +goose Up
CREATE TABLE contracts (
    id                    TEXT PRIMARY KEY,
    competition_id        TEXT NOT NULL REFERENCES competitions (id),
    organisation_id       TEXT NOT NULL REFERENCES organisations (id),
    supplier_org_id       TEXT NOT NULL REFERENCES organisations (id),
    reference             TEXT NOT NULL UNIQUE,
    title                 TEXT NOT NULL,
    value_pence           BIGINT NOT NULL CHECK (value_pence >= 0),
    start_date            {{TIMESTAMP}} NOT NULL,
    end_date              {{TIMESTAMP}} NOT NULL,
    extension_options     TEXT NOT NULL DEFAULT '',
    max_extension_months  INTEGER NOT NULL DEFAULT 0 CHECK (max_extension_months BETWEEN 0 AND 120),
    extended_months       INTEGER NOT NULL DEFAULT 0 CHECK (extended_months BETWEEN 0 AND max_extension_months),
    signed_at             {{TIMESTAMP}},
    status                TEXT NOT NULL DEFAULT 'pending',
    terminated_at         {{TIMESTAMP}},
    termination_reason    TEXT NOT NULL DEFAULT '',
    national_contract_ref TEXT,
    deployments_note      TEXT NOT NULL DEFAULT '',
    created_by            TEXT NOT NULL DEFAULT '',
    version               INTEGER NOT NULL DEFAULT 1,
    created_at            {{TIMESTAMP}} NOT NULL,
    updated_at            {{TIMESTAMP}} NOT NULL,
    UNIQUE (competition_id, organisation_id),
    CHECK (end_date >= start_date),
    CHECK (status <> 'terminated' OR (terminated_at IS NOT NULL AND termination_reason <> ''))
);
-- The register filters by trust and supplier and flags contracts by expiry.
CREATE INDEX contracts_organisation ON contracts (organisation_id, end_date);
CREATE INDEX contracts_supplier ON contracts (supplier_org_id, end_date);
CREATE INDEX contracts_end ON contracts (end_date);

-- Documents of a contract (the signed contract, schedules, variations), from
-- the buying trust's document library.
CREATE TABLE contract_documents (
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    added_at    {{TIMESTAMP}} NOT NULL,
    added_by    TEXT NOT NULL,
    PRIMARY KEY (contract_id, document_id)
);
CREATE INDEX contract_documents_document ON contract_documents (document_id);

-- +goose Down
DROP TABLE contract_documents;
DROP TABLE contracts;
