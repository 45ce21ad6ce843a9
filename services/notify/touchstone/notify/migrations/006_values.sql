-- What each lost moment put at risk, as loyalty values it (loyalty.values.v1): recovery is ranked
-- by money, and a case whose moments put at least the playbooks' escalate_at_risk at stake goes
-- to the duty manager at once (a step_in step added to it).
CREATE TABLE moment_values (
    moment_id            text PRIMARY KEY,
    currency             text NOT NULL,
    value_at_risk_minor  bigint NOT NULL CHECK (value_at_risk_minor >= 0)
);
ALTER TABLE cases ADD COLUMN value_escalated boolean NOT NULL DEFAULT false;
