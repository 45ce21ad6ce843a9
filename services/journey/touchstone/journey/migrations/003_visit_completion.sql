-- A visit is completed once its map's visit gap has passed by event time, since its last moment
-- happened and since it arrived (a late visit still gets a gap to arrive whole), and no deadline
-- of it is pending: its level, perception, satisfaction and quadrant are kept with it. The tally
-- columns sum what the verdict needs of every judgement, so completing never re-reads moments.
ALTER TABLE visits
    ADD COLUMN completed_at       timestamptz,     -- event time: the last moment plus the gap
    ADD COLUMN level              smallint,
    ADD COLUMN quadrant           text,
    ADD COLUMN perception         double precision,
    ADD COLUMN satisfaction       double precision,
    ADD COLUMN completion         bytea,           -- the VisitCompleted protobuf
    ADD COLUMN seen_at            timestamptz,     -- the event clock when its latest moment came
    ADD COLUMN judged             integer NOT NULL DEFAULT 0,
    ADD COLUMN broken             integer NOT NULL DEFAULT 0,
    ADD COLUMN surprises          integer NOT NULL DEFAULT 0,
    ADD COLUMN severe_broken      integer NOT NULL DEFAULT 0,
    ADD COLUMN weight             double precision NOT NULL DEFAULT 0,
    ADD COLUMN met_weight         double precision NOT NULL DEFAULT 0,
    ADD COLUMN surprised_weight   double precision NOT NULL DEFAULT 0,
    ADD COLUMN procedural_weight  double precision NOT NULL DEFAULT 0,
    ADD COLUMN procedural_met     double precision NOT NULL DEFAULT 0,
    ADD COLUMN personal_weight    double precision NOT NULL DEFAULT 0,
    ADD COLUMN personal_met       double precision NOT NULL DEFAULT 0;
CREATE INDEX visits_open_by_last ON visits (last_at) WHERE completed_at IS NULL;
CREATE INDEX visits_completed_by_customer ON visits (customer_id, last_at)
    WHERE completed_at IS NOT NULL;
