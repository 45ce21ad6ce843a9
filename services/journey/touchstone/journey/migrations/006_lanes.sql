-- Event time by lane: a lane is one partition of journey's input, and holds every contact of the
-- customers keyed to it (their deadlines and visits with them). Each lane has its own clock, the
-- latest on-time event time seen in it, and only that clock misses the lane's deadlines and ends
-- its visits: a lane that lags (catch-up after an outage) can no longer have its deadlines missed
-- early by another lane's time, workers sharing partitions lock only their own lanes, and a replay
-- decides the same however the lanes' records interleave. Rows from before lanes join lane 0.
ALTER TABLE deadlines ADD COLUMN lane integer NOT NULL DEFAULT 0;
ALTER TABLE deadlines ALTER COLUMN lane DROP DEFAULT;
ALTER TABLE visits ADD COLUMN lane integer NOT NULL DEFAULT 0;
ALTER TABLE visits ALTER COLUMN lane DROP DEFAULT;

DROP INDEX deadlines_open_by_due;
CREATE INDEX deadlines_open_by_lane_due ON deadlines (lane, due_at)
    WHERE closed_by IS NULL AND NOT missed;
DROP INDEX visits_open_by_last;
CREATE INDEX visits_open_by_lane_last ON visits (lane, last_at) WHERE completed_at IS NULL;

CREATE TABLE lane_clocks (
    lane       integer PRIMARY KEY,
    watermark  timestamptz NOT NULL
);
INSERT INTO lane_clocks (lane, watermark) SELECT 0, watermark FROM event_clock;
DROP TABLE event_clock;
