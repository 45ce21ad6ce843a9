-- The journey map's figures by procedural area and quality dimension (docs/domain.md §4): per
-- site, map, stage and local day, the weight of the standards of each area (and of each
-- dimension) that judged a moment, and the weight of those met. Added to with stage_days.
CREATE TABLE stage_day_labels (
    site_id      text NOT NULL,
    journey_map  text NOT NULL,
    stage        text NOT NULL,
    day          date NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('area', 'dimension')),
    label        text NOT NULL,
    weight       double precision NOT NULL,
    met          double precision NOT NULL,
    PRIMARY KEY (site_id, journey_map, stage, day, kind, label)
);
CREATE INDEX stage_day_labels_by_map ON stage_day_labels (journey_map, day);
