-- Outcomes: a case is recovered by the customer's first win after its last lost moment. Every
-- win is kept (once) so the outcome follows from the facts whatever order they arrive in.
CREATE TABLE wins (
    moment_id    text PRIMARY KEY,
    customer_id  text NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX wins_by_customer ON wins (customer_id, occurred_at);
ALTER TABLE cases ADD COLUMN recovered_at timestamptz;   -- the recovering win's event time
ALTER TABLE cases ADD COLUMN recovered_by text;          -- its moment id
