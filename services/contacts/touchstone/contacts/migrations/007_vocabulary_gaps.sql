-- Words recorded touchpoints carried that their stage's vocabulary does not declare, and values
-- outside its plausible range, counted per producer (GetIngestStats, the console).
CREATE TABLE vocabulary_gaps (
    source       text NOT NULL,
    journey_map  text NOT NULL,
    stage        text NOT NULL,
    kind         text NOT NULL,          -- unknown_measurement | unknown_observation | out_of_range
    name         text NOT NULL,
    touchpoints  bigint NOT NULL,
    PRIMARY KEY (source, journey_map, stage, kind, name)
);
