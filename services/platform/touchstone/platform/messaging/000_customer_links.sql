-- Customer links, folded from contacts' CustomersMerged and CustomersUnmerged (contacts keeps its
-- ledger in the same table). History rows keep the customer id they were recorded under; queries
-- follow the live links instead, so a merge rewrites nothing and an unmerge is exact.
-- Every service's schema gets this file (search_path is the schema while it runs).
CREATE TABLE customer_links (
    merge_id     text PRIMARY KEY,
    survivor_id  text NOT NULL,
    absorbed_id  text NOT NULL,
    unmerged     boolean NOT NULL DEFAULT false
);
CREATE INDEX customer_links_by_absorbed ON customer_links (absorbed_id) WHERE NOT unmerged;
CREATE INDEX customer_links_by_survivor ON customer_links (survivor_id) WHERE NOT unmerged;

-- The customer an id belongs to now: itself, or the survivor at the end of its live links.
-- Depth-capped: links folded from different partitions may form a cycle for a moment.
CREATE FUNCTION customer_root(customer text) RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    WITH RECURSIVE up(id, depth) AS (
        SELECT customer, 0
        UNION ALL
        SELECT l.survivor_id, up.depth + 1
        FROM up JOIN customer_links l ON l.absorbed_id = up.id AND NOT l.unmerged
        WHERE up.depth < 32
    )
    SELECT id FROM up ORDER BY depth DESC LIMIT 1
$$;

-- Every id whose history counts as the customer's: the root and all merged into it.
-- ROWS 4: a customer is a few ids, so the planner keeps using each table's customer index.
CREATE FUNCTION customer_group(customer text) RETURNS SETOF text
LANGUAGE sql STABLE ROWS 4 SET search_path FROM CURRENT AS $$
    WITH RECURSIVE down(id, depth) AS (
        SELECT customer_root(customer), 0
        UNION ALL
        SELECT l.absorbed_id, down.depth + 1
        FROM down JOIN customer_links l ON l.survivor_id = down.id AND NOT l.unmerged
        WHERE down.depth < 32
    )
    SELECT DISTINCT id FROM down
$$;
