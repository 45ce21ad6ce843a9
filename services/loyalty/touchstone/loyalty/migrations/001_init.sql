-- Loyalty owns purchases and the lifetime value derived from them.
CREATE TABLE purchases (
    event_id     text PRIMARY KEY,         -- the touchpoint's id: a redelivery is a duplicate
    customer_id  text NOT NULL,
    visit_id     text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    currency     char(3) NOT NULL,
    minor_units  bigint NOT NULL CHECK (minor_units >= 0)
);
CREATE INDEX purchases_by_customer ON purchases (customer_id, occurred_at);

CREATE TABLE customer_values (
    customer_id           text PRIMARY KEY,
    currency              char(3) NOT NULL,
    average_spend_minor   bigint NOT NULL,
    purchases             integer NOT NULL,
    visits                integer NOT NULL,
    visits_per_year       numeric NOT NULL,
    expected_years        numeric NOT NULL,
    lifetime_value_minor  bigint NOT NULL,
    as_of                 timestamptz NOT NULL
);
