-- Where each purchase was paid, and each customer's home site (where they paid most often), so
-- customers are ranked by lifetime value within their site: the index answers a site's top n.
ALTER TABLE purchases ADD COLUMN site_id text NOT NULL DEFAULT '';
ALTER TABLE customer_values ADD COLUMN site_id text NOT NULL DEFAULT '';
CREATE INDEX customer_values_by_site_value
    ON customer_values (site_id, lifetime_value_minor DESC, customer_id);
