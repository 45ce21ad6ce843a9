-- Each customer's key for what contacts seals about them on topics kept forever (the email
-- addresses on contacts.profiles.v1; touchstone/common/sealing.py). Told on contacts.keys.v1;
-- erasure deletes the row and tells the key destroyed, so every sealed copy stays unreadable.
CREATE TABLE customer_keys (
    customer_id text PRIMARY KEY,
    key bytea NOT NULL CHECK (length(key) = 32)
);
