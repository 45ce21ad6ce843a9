-- Until when news could still move a case's kept outcome (services/notify/touchstone/notify/recovery.py's
-- moves_until; 'infinity' while any win could): the recovery read (SELECT_KEPT) reads only the
-- cases a batch's news can reach, not every unresolved case of its customers. Every case kept
-- before starts at 'infinity' and gets its bound when it is next decided.
ALTER TABLE cases ADD COLUMN moves_until timestamptz NOT NULL DEFAULT 'infinity';
CREATE INDEX cases_news_reaches ON cases (customer_id, moves_until) WHERE resolved_by IS NULL;
