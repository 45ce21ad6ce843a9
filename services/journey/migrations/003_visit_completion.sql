-- A visit is completed once its map's visit gap has passed by event time (and no deadline of it
-- is pending): its level, perception, satisfaction and quadrant are kept with it.
ALTER TABLE visits
    ADD COLUMN completed_at  timestamptz,     -- event time: the last moment plus the visit gap
    ADD COLUMN level         smallint,
    ADD COLUMN quadrant      text,
    ADD COLUMN perception    double precision,
    ADD COLUMN satisfaction  double precision,
    ADD COLUMN completion    bytea;           -- the VisitCompleted protobuf
CREATE INDEX visits_open_by_last ON visits (last_at) WHERE completed_at IS NULL;
CREATE INDEX visits_completed_by_customer ON visits (customer_id, last_at)
    WHERE completed_at IS NOT NULL;
