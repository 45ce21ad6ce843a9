-- A contact whose producer named no visit joins its customer's open visit on the map at the site
-- when it falls within the map's visit gap: each batch reads its customers' open visits.
CREATE INDEX visits_open_by_customer ON visits (customer_id) WHERE completed_at IS NULL;
