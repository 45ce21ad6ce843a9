-- A step is on notify's clock while its case is open (the sweep tells and escalates only those):
-- on_clock follows the case's status (services/notify/touchstone/notify/outcome_rows.py STEPS_FOLLOW_STATUS), and
-- the sweep's index holds only steps on the clock. Before, it held every pending step of every
-- case recovered or lost since the start, and each sweep walked them all (a second each).
ALTER TABLE case_steps ADD COLUMN on_clock boolean NOT NULL DEFAULT true;
UPDATE case_steps s SET on_clock = false
FROM cases c WHERE c.case_id = s.case_id AND c.status <> 'open';
DROP INDEX case_steps_to_sweep;
CREATE INDEX case_steps_to_sweep ON case_steps (due_at)
    WHERE on_clock AND owner <> 'system' AND status <> 'done' AND escalated_at IS NULL;
