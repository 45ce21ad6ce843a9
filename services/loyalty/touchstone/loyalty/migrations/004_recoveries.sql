-- Recoveries notify reports (CaseRecovered on notify.cases.v1), one row per lost moment of the
-- case. Kept apart from lost_moments so either may arrive first: a moment is recovered when a
-- recovery names it, whatever the order. What a recovered moment still puts at stake is kept
-- beside what it put at stake, so the difference is what recovery saved.
CREATE TABLE recoveries (
    moment_id     text PRIMARY KEY,
    customer_id   text NOT NULL,
    case_id       text NOT NULL,
    recovered_at  timestamptz NOT NULL
);
ALTER TABLE lost_moments DROP COLUMN recovered;
ALTER TABLE moments_at_risk ADD COLUMN remaining_minor bigint;
UPDATE moments_at_risk SET remaining_minor = value_at_risk_minor;
ALTER TABLE moments_at_risk ALTER COLUMN remaining_minor SET NOT NULL;
