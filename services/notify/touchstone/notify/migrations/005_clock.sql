-- Notify's clock: a staff step past its due time is told once (step due) and, still not done
-- escalate_after later, escalated to the duty manager once; an open case whose customer has not
-- won within lost_after of its last lost moment is closed as lost (services/notify/touchstone/notify/sweeper.py).
ALTER TABLE case_steps ADD COLUMN due_told boolean NOT NULL DEFAULT false;
ALTER TABLE case_steps ADD COLUMN escalated_at timestamptz;
CREATE INDEX case_steps_to_sweep ON case_steps (due_at)
    WHERE owner <> 'system' AND status <> 'done' AND escalated_at IS NULL;

ALTER TABLE cases ADD COLUMN last_moment_at timestamptz;   -- its latest lost moment's time
UPDATE cases c SET last_moment_at = (
    SELECT max(m.occurred_at) FROM case_moments m WHERE m.case_id = c.case_id
);
UPDATE cases SET last_moment_at = opened_at WHERE last_moment_at IS NULL;
ALTER TABLE cases ALTER COLUMN last_moment_at SET NOT NULL;
ALTER TABLE cases ADD COLUMN lost_at timestamptz;          -- last lost moment + lost_after
CREATE INDEX cases_open_by_last_moment ON cases (last_moment_at) WHERE status = 'open';
CREATE INDEX wins_by_time ON wins (occurred_at);
