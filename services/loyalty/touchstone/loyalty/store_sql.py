"""Loyalty's SQL, and the column arrays its statements take and the rows they give, as the
Postgres adapter (store.py) uses them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from touchstone.loyalty.at_risk import AtRisk, Stored
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.tiers import Tier
from touchstone.loyalty.valuation import ContactSeen, Loss

PURCHASE_COLUMNS = (
    "event_id",
    "customer_id",
    "visit_id",
    "occurred_at",
    "currency",
    "minor_units",
    "site_id",
)
VALUE_COLUMNS = (
    "customer_id",
    "currency",
    "average_spend_minor",
    "purchases",
    "visits",
    "visits_per_year",
    "expected_years",
    "lifetime_value_minor",
    "as_of",
    "churn_risk",
    "site_id",
    "silent",
)
RECOVERY_COLUMNS = ("moment_id", "customer_id", "case_id", "recovered_at")
AT_RISK_COLUMNS = (
    "moment_id",
    "site_id",
    "customer_id",
    "occurred_at",
    "currency",
    "lifetime_value_minor",
    "risk_before",
    "risk_after",
    "value_at_risk_minor",
    "recovered",
    "remaining_minor",
)


def latest_contacts(contacts: Sequence[ContactSeen]) -> dict[str, list[Any]]:
    """SAVE_CONTACTS' column arrays: each customer's latest contact in the batch."""
    latest: dict[str, ContactSeen] = {}
    for c in contacts:
        if c.customer_id not in latest or c.occurred_at > latest[c.customer_id].occurred_at:
            latest[c.customer_id] = c
    rows = [latest[customer] for customer in sorted(latest)]
    return {
        "customer_id": [c.customer_id for c in rows],
        "lane": [c.lane for c in rows],
        "last_at": [c.occurred_at for c in rows],
    }


def lane_clocks(contacts: Sequence[ContactSeen]) -> dict[str, list[Any]]:
    """SAVE_CLOCKS' column arrays: how far event time came on each lane in the batch."""
    clocks: dict[int, datetime] = {}
    for c in contacts:
        clocks[c.lane] = max(clocks.get(c.lane, c.occurred_at), c.occurred_at)
    lanes = sorted(clocks)
    return {"lane": lanes, "clock": [clocks[lane] for lane in lanes]}


SAVE_PURCHASES = f"""
INSERT INTO loyalty.purchases ({", ".join(PURCHASE_COLUMNS)})
SELECT * FROM unnest(
    %(event_id)b::text[], %(customer_id)b::text[], %(visit_id)b::text[],
    %(occurred_at)b::timestamptz[], %(currency)b::text[], %(minor_units)b::bigint[],
    %(site_id)b::text[]
)
ON CONFLICT (event_id) DO NOTHING
"""

SELECT_HISTORY = """
SELECT event_id, customer_id, visit_id, occurred_at, currency, minor_units, site_id
FROM loyalty.purchases WHERE customer_id = ANY(%b) ORDER BY customer_id, occurred_at, event_id
"""
SAVE_LOSSES = """
INSERT INTO loyalty.lost_moments (moment_id, customer_id, site_id, occurred_at, side, weight)
SELECT * FROM unnest(
    %(moment_id)b::text[], %(customer_id)b::text[], %(site_id)b::text[],
    %(occurred_at)b::timestamptz[], %(side)b::text[], %(weight)b::numeric[]
)
ON CONFLICT (moment_id) DO NOTHING
"""
LOSS_COLUMNS = """
SELECT l.moment_id, l.customer_id, l.site_id, l.occurred_at, l.side, l.weight,
       r.moment_id IS NOT NULL, r.recovered_at, {stored}"""
LOSSES = (
    LOSS_COLUMNS
    + """
FROM loyalty.lost_moments l LEFT JOIN loyalty.recoveries r USING (moment_id)
     LEFT JOIN loyalty.moments_at_risk a USING (moment_id)
WHERE l.customer_id = ANY(%b) ORDER BY l.customer_id, l.occurred_at, l.moment_id
"""
)
# Each lost moment with its recovery and what it was last valued at (AT_RISK_COLUMNS, or nulls)
SELECT_LOSSES = LOSSES.format(stored=", ".join(f"a.{c}" for c in AT_RISK_COLUMNS))
# Each lost moment of each customer since a time (remembered.read_from) with its recovery and
# whether figures are stored for it, with the moment they were figured for (valuation.Stored):
# what a fold needs, the figures themselves not read
SELECT_LOSSES_SINCE = (
    LOSS_COLUMNS.format(stored="a.moment_id IS NOT NULL, a.occurred_at, a.recovered, a.site_id")
    + """
FROM unnest(%(customer_id)b::text[], %(since)b::timestamptz[]) AS q(customer_id, since)
     JOIN loyalty.lost_moments l ON l.customer_id = q.customer_id AND l.occurred_at >= q.since
     LEFT JOIN loyalty.recoveries r USING (moment_id)
     LEFT JOIN loyalty.moments_at_risk a USING (moment_id)
ORDER BY l.customer_id, l.occurred_at, l.moment_id
"""
)
SAVE_CONTACTS = """
INSERT INTO loyalty.last_contacts AS c (customer_id, lane, last_at)
SELECT * FROM unnest(%(customer_id)b::text[], %(lane)b::int[], %(last_at)b::timestamptz[])
ON CONFLICT (customer_id) DO UPDATE SET
    lane = CASE WHEN excluded.last_at > c.last_at THEN excluded.lane ELSE c.lane END,
    last_at = greatest(c.last_at, excluded.last_at)
"""
SAVE_CLOCKS = """
INSERT INTO loyalty.lane_clocks AS l (lane, clock)
SELECT * FROM unnest(%(lane)b::int[], %(clock)b::timestamptz[])
ON CONFLICT (lane) DO UPDATE SET clock = greatest(l.clock, excluded.clock)
"""
SELECT_SILENCE_MOVED = """
SELECT s.customer_id FROM loyalty.silences s
WHERE s.customer_id IN (SELECT loyalty.customer_root(c) FROM unnest(%(back)b::text[]) AS c)
UNION
SELECT s.customer_id FROM loyalty.silences s JOIN loyalty.lane_clocks l USING (lane)
WHERE NOT s.fired AND s.due_at <= l.clock
"""
SELECT_PRESENCE = """
SELECT c.customer_id, c.lane, c.last_at, l.clock
FROM loyalty.last_contacts c JOIN loyalty.lane_clocks l USING (lane)
WHERE c.customer_id = ANY(%b)
"""
SILENCE_COLUMNS = ("moment_id", "customer_id", "lane", "due_at", "begun")  # begun: fired
DROP_SILENCES = "DELETE FROM loyalty.silences WHERE customer_id = ANY(%b)"
SAVE_SILENCES = """
INSERT INTO loyalty.silences (moment_id, customer_id, lane, due_at, fired)
SELECT * FROM unnest(
    %(moment_id)b::text[], %(customer_id)b::text[], %(lane)b::int[],
    %(due_at)b::timestamptz[], %(begun)b::bool[]
)
ON CONFLICT (moment_id) DO UPDATE SET
    customer_id = excluded.customer_id, lane = excluded.lane, due_at = excluded.due_at,
    fired = excluded.fired
"""
SAVE_ERASED = """
INSERT INTO loyalty.erased_customers (customer_id) SELECT unnest(%b::text[])
ON CONFLICT DO NOTHING
"""
# Each root's members, whether any is erased, and how many merges (live or undone) touch them:
# the group's link revision, which names its value events apart before and after a merge.
SELECT_GROUPS = """
SELECT r.root, g.members,
       EXISTS (SELECT 1 FROM loyalty.erased_customers e WHERE e.customer_id = ANY(g.members)),
       (SELECT count(*) FROM loyalty.customer_links l
        WHERE l.survivor_id = ANY(g.members) OR l.absorbed_id = ANY(g.members))
FROM (SELECT DISTINCT loyalty.customer_root(id) AS root FROM unnest(%b::text[]) AS id) r,
     LATERAL (SELECT array(SELECT loyalty.customer_group(r.root)) AS members) g
ORDER BY r.root
"""
SELECT_ERASED = """
SELECT EXISTS (SELECT 1 FROM loyalty.erased_customers
               WHERE customer_id IN (SELECT loyalty.customer_group(%s)))
"""
DROP_VALUES = "DELETE FROM loyalty.customer_values WHERE customer_id = ANY(%b)"
ALL_SITES = "SELECT DISTINCT site_id FROM loyalty.customer_values"
SELECT_SITES = "SELECT DISTINCT site_id FROM loyalty.customer_values WHERE customer_id = ANY(%b)"
# Every customer of the touched sites ranked; those whose tier differs from the one kept are
# returned (then updated by SET_TIERS). A site is ranked whole (O(its customers)), once per batch
# touching it.
RETIER = """
WITH ranked AS (
    SELECT customer_id, site_id, tier AS was, currency, lifetime_value_minor,
           row_number() OVER (
               PARTITION BY site_id ORDER BY lifetime_value_minor DESC, customer_id
           ) AS rank,
           count(*) OVER (PARTITION BY site_id) AS customers
    FROM loyalty.customer_values WHERE site_id = ANY({sites})
), tiered AS (
    SELECT r.*, {tier_of_rank} AS tier FROM ranked r
)
SELECT customer_id, site_id, tier, coalesce(was, ''), rank, customers, currency,
       lifetime_value_minor
FROM tiered WHERE was IS DISTINCT FROM tier
"""
SET_TIERS = """
UPDATE loyalty.customer_values v SET tier = u.tier
FROM unnest(%(customer_id)b::text[], %(tier)b::text[]) AS u(customer_id, tier)
WHERE v.customer_id = u.customer_id
"""


def retier_statement(tiers: Sequence[Tier]) -> sql.Composed:
    """RETIER with the tiers' cuts as a CASE over each customer's rank (the cuts are exact
    numerics, as in tiers.py: ceil(share x customers))."""
    cases = [
        sql.SQL("WHEN r.rank <= ceil({} * r.customers) THEN {}").format(
            sql.Literal(t.share), sql.Literal(t.name)
        )
        for t in tiers[:-1]
    ]
    last: sql.Composable = sql.Literal(tiers[-1].name)
    tier_of_rank = sql.SQL("CASE {} ELSE {} END").format(sql.SQL(" ").join(cases), last)
    if not cases:  # a single tier: everyone is in it
        tier_of_rank = sql.SQL("{}::text").format(last)
    return sql.SQL(RETIER).format(sites=sql.Placeholder("sites"), tier_of_rank=tier_of_rank)


DROP_RECOVERIES = """
DELETE FROM loyalty.recoveries WHERE case_id = ANY(%b) RETURNING moment_id, customer_id
"""

SAVE_RECOVERIES = f"""
INSERT INTO loyalty.recoveries ({", ".join(RECOVERY_COLUMNS)})
SELECT * FROM unnest(
    %(moment_id)b::text[], %(customer_id)b::text[], %(case_id)b::text[],
    %(recovered_at)b::timestamptz[]
)
ON CONFLICT (moment_id) DO NOTHING
"""
SAVE_AT_RISK = f"""
INSERT INTO loyalty.moments_at_risk AS r ({", ".join(AT_RISK_COLUMNS)})
SELECT * FROM unnest(
    %(moment_id)b::text[], %(site_id)b::text[], %(customer_id)b::text[],
    %(occurred_at)b::timestamptz[], %(currency)b::text[], %(lifetime_value_minor)b::bigint[],
    %(risk_before)b::numeric[], %(risk_after)b::numeric[], %(value_at_risk_minor)b::bigint[],
    %(recovered)b::bool[], %(remaining_minor)b::bigint[]
)
ON CONFLICT (moment_id) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in AT_RISK_COLUMNS[1:])}
WHERE ({", ".join(f"r.{c}" for c in AT_RISK_COLUMNS[1:])})
    IS DISTINCT FROM ({", ".join(f"excluded.{c}" for c in AT_RISK_COLUMNS[1:])})
RETURNING moment_id
"""

SELECT_AT_RISK_TOTALS = """
SELECT currency, sum(remaining_minor), sum(value_at_risk_minor - remaining_minor),
       count(*), count(*) FILTER (WHERE recovered)
FROM loyalty.moments_at_risk
WHERE occurred_at >= %(since)s AND occurred_at < %(until)s
  AND (%(site_id)s = '' OR site_id = %(site_id)s)
GROUP BY currency ORDER BY currency
"""

COUNT_SITE = "SELECT count(*) FROM loyalty.customer_values WHERE site_id = %s"
SELECT_STANDING = """
SELECT v.site_id,
       (SELECT count(*) FROM loyalty.customer_values o
        WHERE o.site_id = v.site_id
          AND (o.lifetime_value_minor > v.lifetime_value_minor
               OR (o.lifetime_value_minor = v.lifetime_value_minor
                   AND o.customer_id < v.customer_id))) + 1,
       (SELECT count(*) FROM loyalty.customer_values o WHERE o.site_id = v.site_id)
FROM loyalty.customer_values v WHERE v.customer_id = %s
"""
SELECT_TOP = """
SELECT customer_id, currency, lifetime_value_minor, coalesce(churn_risk, 0)
FROM loyalty.customer_values WHERE site_id = %s
ORDER BY lifetime_value_minor DESC, customer_id
LIMIT %s OFFSET %s
"""

SAVE_VALUES = f"""
INSERT INTO loyalty.customer_values AS v ({", ".join(VALUE_COLUMNS)})
SELECT * FROM unnest(
    %(customer_id)b::text[], %(currency)b::text[], %(average_spend_minor)b::bigint[],
    %(purchases)b::int[], %(visits)b::int[], %(visits_per_year)b::numeric[],
    %(expected_years)b::numeric[], %(lifetime_value_minor)b::bigint[], %(as_of)b::timestamptz[],
    %(churn_risk)b::numeric[], %(site_id)b::text[], %(silent)b::bool[]
)
ON CONFLICT (customer_id) DO UPDATE SET
    currency = excluded.currency, average_spend_minor = excluded.average_spend_minor,
    purchases = excluded.purchases, visits = excluded.visits,
    visits_per_year = excluded.visits_per_year, expected_years = excluded.expected_years,
    lifetime_value_minor = excluded.lifetime_value_minor, as_of = excluded.as_of,
    churn_risk = excluded.churn_risk, site_id = excluded.site_id, silent = excluded.silent,
    tier = CASE WHEN v.site_id = excluded.site_id THEN v.tier END  -- a new site ranks afresh
"""


def losses_of(rows: Sequence[Sequence[Any]]) -> dict[str, list[LostMoment]]:
    """Lost moments by customer, as SELECT_LOSSES reads them."""
    by_customer: dict[str, list[LostMoment]] = {}
    for moment_id, customer_id, site_id, at, side, weight, recovered, recovered_at in (
        row[:8] for row in rows
    ):
        moment = LostMoment(moment_id, at, side, Decimal(weight), recovered, site_id, recovered_at)
        by_customer.setdefault(customer_id, []).append(moment)
    return by_customer


def since_columns(members: Mapping[str, datetime]) -> dict[str, list[Any]]:
    """SELECT_LOSSES_SINCE's column arrays: from when each customer's moments are read."""
    customers = sorted(members)
    return {"customer_id": customers, "since": [members[c] for c in customers]}


def stored_marks(rows: Sequence[Sequence[Any]]) -> dict[str, Stored]:
    """Which lost moments have figures stored, and what for, as SELECT_LOSSES_SINCE reads it."""
    return {row[0]: Stored(*row[9:12]) for row in rows if row[8]}


def stored_at_risk(rows: Sequence[Sequence[Any]]) -> dict[str, AtRisk]:
    """What each lost moment was last valued at, as SELECT_LOSSES reads it."""
    stored = {}
    for row in rows:
        if row[8] is not None:
            figures = dict(zip(AT_RISK_COLUMNS, row[8:], strict=True))
            del figures["customer_id"]
            stored[row[0]] = AtRisk(**figures)
    return stored


def purchases_of(rows: Sequence[Sequence[Any]]) -> dict[str, list[Purchase]]:
    """Purchases by customer, as SELECT_HISTORY reads them."""
    by_customer: dict[str, list[Purchase]] = {}
    for event_id, customer, visit, at, currency, minor_units, site_id in rows:
        purchase = Purchase(event_id, customer, visit, at, currency.strip(), minor_units, site_id)
        by_customer.setdefault(customer, []).append(purchase)
    return by_customer


def loss_columns(losses: Sequence[Loss]) -> dict[str, list[Any]]:
    """SAVE_LOSSES' column arrays."""
    return {
        "moment_id": [x.moment.moment_id for x in losses],
        "customer_id": [x.customer_id for x in losses],
        "site_id": [x.moment.site_id for x in losses],
        "occurred_at": [x.moment.occurred_at for x in losses],
        "side": [x.moment.side for x in losses],
        "weight": [x.moment.weight for x in losses],
    }


def at_risk_columns(rows: Sequence[tuple[str, AtRisk]]) -> dict[str, list[Any]]:
    """SAVE_AT_RISK's column arrays, from (customer, what the moment put at risk)."""
    params: dict[str, list[Any]] = {"customer_id": [c for c, _ in rows]}
    for name in AT_RISK_COLUMNS:
        if name not in params:
            params[name] = [getattr(r, name) for _, r in rows]
    return params
