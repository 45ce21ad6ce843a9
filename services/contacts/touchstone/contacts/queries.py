"""Contacts' SQL, one named statement each; the store runs them."""

TOUCHPOINT_COLUMNS = (
    "event_id",
    "customer_id",
    "visit_id",
    "occurred_at",
    "source",
    "journey_map",
    "stage",
    "site_id",
    "payload",
    "late",
)

SAVE_TOUCHPOINTS = """
WITH incoming AS (
    SELECT * FROM unnest(
        %(event_id)b::text[], %(customer_id)b::text[], %(visit_id)b::text[],
        %(occurred_at)b::timestamptz[], %(source)b::text[], %(journey_map)b::text[],
        %(stage)b::text[], %(site_id)b::text[], %(payload)b::bytea[], %(late)b::bool[]
    ) AS t(event_id, customer_id, visit_id, occurred_at, source, journey_map, stage, site_id,
           payload, late)
), inserted AS (
    INSERT INTO contacts.touchpoints
        (event_id, customer_id, visit_id, occurred_at, source, journey_map, stage, site_id,
         payload, late)
    SELECT * FROM incoming
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id, customer_id, occurred_at
), counted AS (
    INSERT INTO contacts.customers (customer_id, first_seen, last_seen, touchpoint_count)
    SELECT customer_id, min(occurred_at), max(occurred_at), count(*) FROM inserted
    GROUP BY customer_id ORDER BY customer_id
    ON CONFLICT (customer_id) DO UPDATE SET
        first_seen = least(customers.first_seen, excluded.first_seen),
        last_seen = greatest(customers.last_seen, excluded.last_seen),
        touchpoint_count = customers.touchpoint_count + excluded.touchpoint_count
)
SELECT event_id FROM inserted
"""

SELECT_IDENTITY_OWNERS = """
WITH wanted AS (SELECT * FROM unnest(%(kind)b::text[], %(value)b::text[]) AS t(kind, value))
SELECT i.kind, i.value, i.customer_id FROM contacts.identities i JOIN wanted USING (kind, value)
UNION ALL
SELECT h.kind, h.value, e.customer_id
FROM unnest(%(hashed_kind)b::text[], %(hashed_value)b::text[], %(digest)b::bytea[])
    AS h(kind, value, digest)
JOIN contacts.erased_identities e ON e.identity_sha256 = h.digest AND e.key_id IS NOT NULL
UNION ALL
SELECT w.kind, w.value, e.customer_id FROM wanted w
JOIN contacts.erased_identities e  -- not yet rekeyed (migration 009)
  ON e.identity_sha256 = sha256(convert_to(w.kind || ':' || w.value, 'UTF8')) AND e.key_id IS NULL
"""

SELECT_PAYLOADS = "SELECT event_id, payload FROM contacts.touchpoints WHERE event_id = ANY(%b)"

SAVE_CONFLICTS = """
INSERT INTO contacts.conflicts
    (event_id, conflicting_sha256, recorded_payload, conflicting_payload, received_at)
SELECT event_id, sha256(conflicting), recorded, conflicting, received_at FROM unnest(
    %(event_id)b::text[], %(recorded)b::bytea[], %(conflicting)b::bytea[],
    %(received_at)b::timestamptz[]
) AS t(event_id, recorded, conflicting, received_at)
ON CONFLICT DO NOTHING
"""

SAVE_IDENTITIES = """
INSERT INTO contacts.identities (kind, value, customer_id)
SELECT * FROM unnest(%(kind)b::text[], %(value)b::text[], %(customer_id)b::text[])
ON CONFLICT (kind, value) DO NOTHING
"""

SAVE_DEAD_LETTERS = """
INSERT INTO contacts.dead_letters
    (topic, partition, "offset", reason, field, source, received_at, key, value, headers)
SELECT topic, partition, "offset", reason, field, source, received_at, key, value,
       headers::jsonb
FROM unnest(
    %(topic)b::text[], %(partition)b::int[], %(offset)b::bigint[], %(reason)b::text[],
    %(field)b::text[], %(source)b::text[], %(received_at)b::timestamptz[], %(key)b::bytea[],
    %(value)b::bytea[], %(headers)b::text[]
) AS t(topic, partition, "offset", reason, field, source, received_at, key, value, headers)
ON CONFLICT DO NOTHING
"""

SELECT_CUSTOMER = """
SELECT r.customer_id, min(c.first_seen), max(c.last_seen), sum(c.touchpoint_count)::bigint,
       r.status, r.profile, r.consent
FROM contacts.customers r JOIN contacts.customers c ON c.customer_id = ANY(%(members)b)
WHERE r.customer_id = %(root)s
GROUP BY r.customer_id
"""

SELECT_IDENTITIES = """
SELECT kind, value FROM contacts.identities WHERE customer_id = ANY(%b) ORDER BY kind, value
"""

SELECT_TOUCHPOINTS = """
SELECT event_id, customer_id, visit_id, occurred_at, payload
FROM contacts.touchpoints
WHERE customer_id IN (SELECT contacts.customer_group(%(customer_id)s))
  AND (occurred_at, event_id) > (%(after_time)s::timestamptz, %(after_id)s::text)
  AND occurred_at < %(until)s::timestamptz
ORDER BY occurred_at, event_id
LIMIT %(limit)s
"""

SELECT_SEEN_AT = """
SELECT EXISTS (
    SELECT 1 FROM contacts.touchpoints
    WHERE customer_id IN (SELECT contacts.customer_group(%(customer_id)s))
      AND site_id = ANY(%(sites)b)
)
"""

# %(sites)s NULL: every site's. Dead letters have no site (many cannot even be read), so they
# are counted only for every site
SELECT_STATS = """
SELECT (SELECT count(*) FROM contacts.touchpoints
        WHERE %(sites)b::text[] IS NULL OR site_id = ANY(%(sites)b::text[])),
       CASE WHEN %(sites)b::text[] IS NULL THEN (SELECT count(*) FROM contacts.dead_letters)
            ELSE 0 END
"""

SAVE_VOCABULARY_GAPS = """
INSERT INTO contacts.vocabulary_gaps (source, journey_map, stage, kind, name, touchpoints)
SELECT * FROM unnest(
    %(source)b::text[], %(journey_map)b::text[], %(stage)b::text[], %(kind)b::text[],
    %(name)b::text[], %(touchpoints)b::bigint[]
)
ON CONFLICT (source, journey_map, stage, kind, name)
DO UPDATE SET touchpoints = vocabulary_gaps.touchpoints + excluded.touchpoints
"""

SELECT_VOCABULARY_GAPS = """
SELECT source, journey_map, stage, kind, name, touchpoints FROM contacts.vocabulary_gaps
ORDER BY touchpoints DESC, source, journey_map, stage, kind, name
"""
