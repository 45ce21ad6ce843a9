-- Contacts owns who the customer is and every touchpoint it accepted.
CREATE TABLE touchpoints (
    event_id     text PRIMARY KEY,          -- producer's id: a second arrival is a duplicate
    customer_id  text NOT NULL,
    visit_id     text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    source       text NOT NULL,
    journey_map  text NOT NULL,
    stage        text NOT NULL,
    site_id      text NOT NULL,
    payload      bytea NOT NULL             -- the Touchpoint protobuf as recorded
);
CREATE INDEX touchpoints_by_customer ON touchpoints (customer_id, occurred_at, event_id);

CREATE TABLE customers (
    customer_id       text PRIMARY KEY,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    touchpoint_count  bigint NOT NULL
);

CREATE TABLE identities (
    kind         text NOT NULL,
    value        text NOT NULL,
    customer_id  text NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_by_customer ON identities (customer_id);

CREATE TABLE dead_letters (
    topic        text NOT NULL,
    partition    integer NOT NULL,
    "offset"     bigint NOT NULL,
    reason       text NOT NULL,
    field        text NOT NULL,
    source       text NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);
