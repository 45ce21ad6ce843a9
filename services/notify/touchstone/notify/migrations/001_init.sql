-- Notify owns recovery cases and the lost moments in them.
CREATE TABLE cases (
    case_id            text PRIMARY KEY,   -- derived from customer and visit: one case per visit
    customer_id        text NOT NULL,
    visit_id           text NOT NULL,
    site_id            text NOT NULL,
    status             text NOT NULL CHECK (status IN ('open', 'recovered', 'lost')),
    opening_moment_id  text NOT NULL,
    stage              text NOT NULL,
    reason             text NOT NULL,
    opened_at          timestamptz NOT NULL,
    due_at             timestamptz NOT NULL
);
CREATE INDEX cases_by_time ON cases (opened_at, case_id);
CREATE INDEX cases_by_customer ON cases (customer_id, opened_at);
CREATE INDEX cases_by_status ON cases (status, opened_at);

CREATE TABLE case_moments (
    moment_id    text PRIMARY KEY,         -- a lost moment joins exactly one case, once
    case_id      text NOT NULL REFERENCES cases (case_id),
    stage        text NOT NULL,
    reason       text NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX case_moments_by_case ON case_moments (case_id, occurred_at);
