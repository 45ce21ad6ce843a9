-- Deadlines: standards a later moment must keep ("reply before the end of the next working
-- day"), and journey's event-time clock, which breaks the ones nothing kept.
CREATE TABLE deadlines (
    deadline_id      text PRIMARY KEY,      -- derived from the opening moment and the standard
    standard_id      text NOT NULL,
    customer_id      text NOT NULL,
    visit_id         text NOT NULL,
    site_id          text NOT NULL,
    journey_map      text NOT NULL,
    stage            text NOT NULL,         -- the opening stage
    until_stage      text NOT NULL,
    opened_by        text NOT NULL,         -- the opening moment
    source_event_id  text NOT NULL,
    opened_at        timestamptz NOT NULL,
    due_at           timestamptz NOT NULL,
    closed_by        text,                  -- the moment that came for it, in time or late
    missed           boolean NOT NULL DEFAULT false  -- the deadline passed with nothing
);
CREATE INDEX deadlines_open_by_due ON deadlines (due_at) WHERE closed_by IS NULL AND NOT missed;
CREATE INDEX deadlines_open_by_customer ON deadlines (customer_id, standard_id, opened_at)
    WHERE closed_by IS NULL AND NOT missed;

-- The latest event time journey has seen (one row): deadlines fall by it, never by the wall clock.
CREATE TABLE event_clock (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    watermark   timestamptz NOT NULL
);

-- Lost moments that no input record carries (a deadline passed) are published from here, written
-- in the transaction that decided them, so a crash can never lose one.
CREATE TABLE outbox (
    id       bigserial PRIMARY KEY,
    topic    text NOT NULL,
    key      bytea NOT NULL,
    value    bytea NOT NULL,
    headers  jsonb NOT NULL DEFAULT '[]'
);
