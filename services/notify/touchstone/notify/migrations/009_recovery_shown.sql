-- Recovery means recovery (services/notify/touchstone/notify/recovery.py): a case is recovered, after its apology,
-- by the customer's positive feedback or a visit with no lost moment at the case's site. So a
-- kept win says where and in which visit it came, and what it is; a clean visit is one.
ALTER TABLE wins ADD COLUMN site_id text NOT NULL DEFAULT '';
ALTER TABLE wins ADD COLUMN visit_id text NOT NULL DEFAULT '';
ALTER TABLE wins DROP CONSTRAINT wins_how_check;
ALTER TABLE wins ADD CONSTRAINT wins_how_check CHECK (how IN ('win', 'feedback', 'visit'));
CREATE INDEX wins_signs_by_customer ON wins (customer_id, occurred_at) WHERE how <> 'win';
-- A later win from another visit that showed nothing: the customer returned, not recovered.
ALTER TABLE cases ADD COLUMN returned_at timestamptz;
ALTER TABLE cases ADD COLUMN returned_by text;
