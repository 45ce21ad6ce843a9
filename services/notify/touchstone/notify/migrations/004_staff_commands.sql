-- Staff commands: each step's progress, a case confirmed recovered by staff, and the outbox
-- their events are written to in the command's transaction (OutboxRelay publishes it).
ALTER TABLE case_steps ADD COLUMN status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'acknowledged', 'done'));
ALTER TABLE case_steps ADD COLUMN taken_by text NOT NULL DEFAULT '';
ALTER TABLE case_steps ADD COLUMN taken_at timestamptz;
ALTER TABLE case_steps ADD COLUMN note text NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN resolved_by text;     -- staff who confirmed recovery: final
ALTER TABLE cases ADD COLUMN resolved_at timestamptz;
ALTER TABLE cases ADD COLUMN resolved_note text NOT NULL DEFAULT '';
CREATE TABLE outbox (
    id       bigserial PRIMARY KEY,
    topic    text NOT NULL,
    key      bytea NOT NULL,
    value    bytea NOT NULL,
    headers  jsonb NOT NULL DEFAULT '[]'   -- [[name, base64 value], ...]
);
