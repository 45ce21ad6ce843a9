-- Each lane's clock is the least of its sources' progress once it has heard from all of them
-- (services/journey/touchstone/journey/lane_clocks.py): the sources each lane expects (touchpoints.v1's
-- partitions and contacts' gRPC ingest; 0 until the first progress), and how far each came.
-- A lane may hear progress before it has a clock.
ALTER TABLE lane_clocks ALTER COLUMN watermark DROP NOT NULL;
ALTER TABLE lane_clocks ADD COLUMN expected integer NOT NULL DEFAULT 0;
CREATE TABLE source_clocks (
    lane        integer NOT NULL,
    source      integer NOT NULL,   -- a partition of touchpoints.v1, or -1: contacts' gRPC ingest
    event_time  timestamptz NOT NULL,
    PRIMARY KEY (lane, source)
);
