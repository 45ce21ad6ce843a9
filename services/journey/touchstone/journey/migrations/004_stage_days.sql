-- The journey map's figures: per site, map, stage and local day (the site's calendar day), the
-- moments stored, their verdicts, the weight of standards met on each side, and how often each
-- standard broke. Added to in the transaction that stores the moments, once per moment.
CREATE TABLE stage_days (
    site_id            text NOT NULL,
    journey_map        text NOT NULL,
    stage              text NOT NULL,
    day                date NOT NULL,
    moments            integer NOT NULL,
    wins               integer NOT NULL,
    losses             integer NOT NULL,
    unscored           integer NOT NULL,
    procedural_weight  double precision NOT NULL,
    procedural_met     double precision NOT NULL,
    personal_weight    double precision NOT NULL,
    personal_met       double precision NOT NULL,
    PRIMARY KEY (site_id, journey_map, stage, day)
);
CREATE INDEX stage_days_by_map ON stage_days (journey_map, day);

CREATE TABLE stage_day_breaks (
    site_id      text NOT NULL,
    journey_map  text NOT NULL,
    stage        text NOT NULL,
    day          date NOT NULL,
    standard_id  text NOT NULL,
    broken       integer NOT NULL,
    PRIMARY KEY (site_id, journey_map, stage, day, standard_id)
);
CREATE INDEX stage_day_breaks_by_map ON stage_day_breaks (journey_map, day);
