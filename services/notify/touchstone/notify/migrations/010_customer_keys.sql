-- Addresses come sealed with their customer's key (touchstone/common/sealing.py) and are kept
-- sealed; the keys are folded from contacts.keys.v1 and deleted when contacts destroys one
-- (erasure), which leaves every sealed copy unreadable. email keeps addresses told in clear by
-- profile events from before sealing.
ALTER TABLE contacts ADD COLUMN sealed_email bytea NOT NULL DEFAULT '';
CREATE TABLE customer_keys (
    customer_id text PRIMARY KEY,
    key bytea NOT NULL CHECK (length(key) = 32)
);
