-- Standards versions promoted to live (StandardsPromoted from journey.standards.v1), in the order
-- journey took them: the latest is in force, over TOUCHSTONE_STANDARDS_FILE. Every worker reads
-- it before each batch, so all of them switch even though one consumes the promotion.
CREATE TABLE standards_versions (
    seq             bigserial PRIMARY KEY,
    event_id        text NOT NULL UNIQUE,   -- a redelivered promotion is taken once
    version         text NOT NULL,
    standards_yaml  text NOT NULL,
    promoted_at     timestamptz NOT NULL,
    payload         bytea NOT NULL,         -- the StandardsPromoted protobuf
    taken_at        timestamptz NOT NULL DEFAULT now()
);
