-- Control figures (DOMAIN.md §10). Notify reads contacts.recorded.v1 for what the rates are
-- out of and what recovers a case besides a win: each site's visits, the complaints made (on
-- site, or as negative feedback), and positive feedback, kept like a win.
ALTER TABLE wins ADD COLUMN how text NOT NULL DEFAULT 'win' CHECK (how IN ('win', 'feedback'));

CREATE TABLE site_visits (
    site_id   text NOT NULL,
    visit_id  text NOT NULL,
    first_at  timestamptz NOT NULL,     -- its first touchpoint: the day it counts on
    PRIMARY KEY (site_id, visit_id)
);
CREATE INDEX site_visits_by_time ON site_visits (site_id, first_at);

CREATE TABLE complaints (
    event_id     text PRIMARY KEY,      -- the recorded touchpoint's id
    site_id      text NOT NULL,
    customer_id  text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('on_site', 'negative_feedback'))
);
CREATE INDEX complaints_by_site ON complaints (site_id, occurred_at);
CREATE INDEX cases_by_site_time ON cases (site_id, opened_at);

-- When a step was first taken on (acknowledged or done): recovery had started by then.
ALTER TABLE case_steps ADD COLUMN first_taken_at timestamptz;
UPDATE case_steps SET first_taken_at = taken_at;
-- A win a case was recovered by is kept for good (pruning old wins must not reopen it).
CREATE INDEX cases_recovered_by ON cases (recovered_by) WHERE recovered_by IS NOT NULL;

-- Each customer's tier at their home site, from loyalty's tier changes: playbook rules may ask.
CREATE TABLE customer_tiers (
    customer_id  text PRIMARY KEY,
    tier         text NOT NULL
);
