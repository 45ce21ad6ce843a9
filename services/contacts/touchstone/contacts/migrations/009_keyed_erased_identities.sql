-- Erased identities are remembered by a keyed hash: identity_sha256 now holds the HMAC-SHA256,
-- under the key of TOUCHSTONE_IDENTITY_KEYS that key_id names, of the identity's SHA-256.
-- Rows with key_id NULL hold the bare SHA-256 (from before, or from a worker of the release
-- before during a rolling upgrade): lookups still match them, and contacts rekeys them when it
-- starts (PostgresErasure.rekey_erased). The column keeps its name so the release before keeps
-- working beside this one.
ALTER TABLE erased_identities ADD COLUMN key_id text;
