-- Erased identities are remembered by a keyed hash: HMAC-SHA256, under the key of
-- TOUCHSTONE_IDENTITY_KEYS that key_id names, of the SHA-256 this column held. Without the key,
-- a copy of the table gives no phone number back. Rows from before (key_id NULL) are rekeyed by
-- contacts when it starts (PostgresErasure.rekey_erased).
ALTER TABLE erased_identities RENAME COLUMN identity_sha256 TO identity_digest;
ALTER TABLE erased_identities ADD COLUMN key_id text;
