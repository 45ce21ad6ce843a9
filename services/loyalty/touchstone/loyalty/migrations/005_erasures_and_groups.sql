-- Customers contacts erased: loyalty keeps their purchases and lost moments as anonymous
-- amounts (site totals, value at risk) but no longer values, ranks or explains them, whichever
-- arrives first, the erasure or a late fact.
CREATE TABLE erased_customers (
    customer_id  text PRIMARY KEY
);
-- customer_values now holds one row per customer as they are known now (the root of a merged
-- group, valued from the whole group's history), so a merged customer is ranked once.
-- Rows kept before under an id merged into another leave the ranking; the survivor's row is
-- revalued from the whole group the next time anything of the group arrives.
DELETE FROM customer_values WHERE customer_root(customer_id) <> customer_id;
