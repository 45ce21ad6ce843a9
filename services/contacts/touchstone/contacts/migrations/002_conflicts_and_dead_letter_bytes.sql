-- Late arrivals are kept and marked; dead letters keep the original record so they can be redriven;
-- a second, different touchpoint under a recorded event id is quarantined beside the first.
ALTER TABLE touchpoints ADD COLUMN late boolean NOT NULL DEFAULT false;

ALTER TABLE dead_letters
    ADD COLUMN key bytea NOT NULL DEFAULT '',
    ADD COLUMN value bytea NOT NULL DEFAULT '',
    ADD COLUMN headers jsonb NOT NULL DEFAULT '[]',  -- [[name, base64 value], ...] in order
    ADD COLUMN redriven_at timestamptz;
CREATE INDEX dead_letters_by_time ON dead_letters (received_at);

CREATE TABLE conflicts (
    event_id             text NOT NULL,
    conflicting_sha256   bytea NOT NULL,
    recorded_payload     bytea NOT NULL,
    conflicting_payload  bytea NOT NULL,
    received_at          timestamptz NOT NULL,
    PRIMARY KEY (event_id, conflicting_sha256)
);
