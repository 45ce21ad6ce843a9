-- Journey owns every scored moment and the visits they roll up into.
CREATE TABLE moments (
    moment_id        text PRIMARY KEY,     -- derived from the source touchpoint: a replay is a duplicate
    source_event_id  text NOT NULL,
    customer_id      text NOT NULL,
    visit_id         text NOT NULL,
    site_id          text NOT NULL,
    journey_map      text NOT NULL,
    stage            text NOT NULL,
    occurred_at      timestamptz NOT NULL,
    verdict          text NOT NULL CHECK (verdict IN ('win', 'lose', 'unscored')),
    payload          bytea NOT NULL         -- the MomentScored protobuf
);
CREATE INDEX moments_by_time ON moments (occurred_at, moment_id);
CREATE INDEX moments_by_customer ON moments (customer_id, occurred_at, moment_id);
CREATE INDEX moments_by_visit ON moments (visit_id, occurred_at, moment_id);
CREATE INDEX moments_by_site ON moments (site_id, occurred_at, moment_id);

CREATE TABLE visits (
    visit_id     text PRIMARY KEY,
    customer_id  text NOT NULL,
    site_id      text NOT NULL,
    journey_map  text NOT NULL,
    wins         integer NOT NULL,
    losses       integer NOT NULL,
    unscored     integer NOT NULL,
    first_at     timestamptz NOT NULL,
    last_at      timestamptz NOT NULL
);
