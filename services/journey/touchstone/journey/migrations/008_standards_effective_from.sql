-- A promoted version judges the contacts that happen from its effective_from on (event time),
-- so which version judged a contact follows from the log, not from when a worker took it.
ALTER TABLE standards_versions ADD COLUMN effective_from timestamptz;
UPDATE standards_versions SET effective_from = promoted_at;
ALTER TABLE standards_versions ALTER COLUMN effective_from SET NOT NULL;
