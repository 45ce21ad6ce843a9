-- Contacts' merge ledger is its customer_links table (000_customer_links.sql, which every
-- service folds from CustomersMerged / CustomersUnmerged) plus when and why.
ALTER TABLE customer_links
    ADD COLUMN reason text NOT NULL DEFAULT '',
    ADD COLUMN merged_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN unmerged_at timestamptz,
    ADD COLUMN unmerge_reason text NOT NULL DEFAULT '';
-- A customer is folded into one other at most; merging again needs an unmerge first.
CREATE UNIQUE INDEX customer_links_one_live_merge ON customer_links (absorbed_id)
    WHERE NOT unmerged;
