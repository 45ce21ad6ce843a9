-- Lost moments (journey's LOSE verdicts) and what each put at risk; churn risk with each value.
-- Values are recomputed from the whole history of a customer (purchases and lost moments) on
-- every change, so late and out-of-order events give what in-order ones would.
CREATE TABLE lost_moments (
    moment_id    text PRIMARY KEY,          -- journey's moment id: a redelivery is a duplicate
    customer_id  text NOT NULL,
    site_id      text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    side         text NOT NULL CHECK (side IN ('personal', 'procedural')),
    weight       numeric NOT NULL CHECK (weight > 0),
    recovered    boolean NOT NULL DEFAULT false
);
CREATE INDEX lost_moments_by_customer ON lost_moments (customer_id, occurred_at);

CREATE TABLE moments_at_risk (
    moment_id             text PRIMARY KEY,
    customer_id           text NOT NULL,
    site_id               text NOT NULL,
    occurred_at           timestamptz NOT NULL,
    currency              text NOT NULL,
    lifetime_value_minor  bigint NOT NULL,
    risk_before           numeric NOT NULL,
    risk_after            numeric NOT NULL,
    value_at_risk_minor   bigint NOT NULL,
    recovered             boolean NOT NULL
);
CREATE INDEX moments_at_risk_by_site ON moments_at_risk (site_id, occurred_at);

ALTER TABLE customer_values ADD COLUMN churn_risk numeric;
