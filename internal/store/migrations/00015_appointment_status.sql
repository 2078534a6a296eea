-- An appointment to a framework lot can be suspended (for instance while a
-- supplier's insolvency or a breach is looked into) or ended, with the
-- reason; a suspended one can be reinstated. Call-offs check it: a
-- supplier whose appointment is suspended or ended at a competition's
-- deadline is not opened.

-- +goose Up
ALTER TABLE framework_applications ADD COLUMN appointment_status TEXT NOT NULL DEFAULT '';
ALTER TABLE framework_applications ADD COLUMN appointment_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE framework_applications ADD COLUMN appointment_changed_at {{TIMESTAMP}};

-- +goose Down
ALTER TABLE framework_applications DROP COLUMN appointment_changed_at;
ALTER TABLE framework_applications DROP COLUMN appointment_reason;
ALTER TABLE framework_applications DROP COLUMN appointment_status;
