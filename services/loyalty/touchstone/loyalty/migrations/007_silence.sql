-- Silence after a lose, as a live signal. Each lane (a partition of contacts.recorded.v1, where
-- a customer's contacts arrive in order) keeps its event clock; each customer their latest
-- contact; each unrecovered lose they have not been back since, when silence after it begins.
-- A customer is revalued when their lane's clock passes that time, and when they come back.
CREATE TABLE lane_clocks (
    lane   integer PRIMARY KEY,
    clock  timestamptz NOT NULL
);
CREATE TABLE last_contacts (
    customer_id  text PRIMARY KEY,
    lane         integer NOT NULL,
    last_at      timestamptz NOT NULL
);
CREATE TABLE silences (
    moment_id    text PRIMARY KEY,
    customer_id  text NOT NULL,             -- the customer as known when it was scheduled
    lane         integer NOT NULL,
    due_at       timestamptz NOT NULL,
    fired        boolean NOT NULL
);
CREATE INDEX silences_by_customer ON silences (customer_id);
CREATE INDEX silences_pending ON silences (lane, due_at) WHERE NOT fired;
ALTER TABLE customer_values ADD COLUMN silent boolean NOT NULL DEFAULT false;
