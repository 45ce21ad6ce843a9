-- Erased customers keep only anonymous facts; their identities are remembered by hash alone,
-- so a replayed touchpoint naming one resolves to the erased customer and is stored scrubbed.
ALTER TABLE customers DROP CONSTRAINT customers_status_check;
ALTER TABLE customers ADD CONSTRAINT customers_status_check
    CHECK (status IN ('provisional', 'registered', 'erased'));

CREATE TABLE erased_identities (
    identity_sha256  bytea PRIMARY KEY,   -- sha256 of "kind:canonical value"
    customer_id      text NOT NULL
);
CREATE INDEX erased_identities_by_customer ON erased_identities (customer_id);
