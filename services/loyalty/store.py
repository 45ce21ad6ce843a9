"""Loyalty's Postgres adapter: purchases and lost moments stored once, customers revalued from
their whole history in the same transaction (the figures of lost moments whose history before
them is unchanged read back as stored: valuation.known_figures says which)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from loyalty.churn import LostMoment
from loyalty.domain import Purchase
from loyalty.tiers import Tier, TierChanged, load_tiers
from loyalty.valuation import (
    AtRisk,
    Contact,
    Facts,
    Known,
    Loss,
    Presence,
    Valuation,
    known_figures,
)
from touchstone.common.customer_links import CustomerLinks, PostgresCustomerLinks, fold_links_in
from touchstone.common.outbox import add_to_outbox
from touchstone.common.pg import columns
from touchstone.common.topics import Outgoing

SCHEMA = "loyalty"


class Valuer(Protocol):
    """Values one customer from their history (and their presence, for silence)."""

    def __call__(
        self,
        purchases: Sequence[Purchase],
        lost: Sequence[LostMoment],
        presence: Presence | None = None,
        known: Known | None = None,
    ) -> Valuation: ...


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


@dataclass(frozen=True)
class AtRiskTotal:
    """What lost moments put at stake in one currency."""

    currency: str
    at_stake_minor: int  # still at stake: all of an unrecovered moment, a recovered one's rest
    saved_minor: int  # what recovery took off
    lost_moments: int
    recovered_moments: int


@dataclass(frozen=True)
class History:
    """Everything recorded of a customer and everyone merged into them."""

    customer_id: str  # the id they are known by now
    purchases: list[Purchase]
    lost: list[LostMoment]
    presence: Presence | None = None  # their latest contact and their lane's clock
    at_risk: Mapping[str, AtRisk] = field(default_factory=dict)  # what each lost moment was
    # last valued at, as stored: every fold keeps these current (valuation.known_figures)


@dataclass(frozen=True)
class Standing:
    """Where a customer ranks among their home site's customers."""

    site_id: str
    rank: int  # 1 = the highest lifetime value
    site_customers: int


@dataclass(frozen=True)
class Folded:
    """What a batch's facts changed: the valuations of the customers they concern (as known
    now; erased ones left out) and every tier that moved at the sites they touched."""

    valued: dict[str, Valuation]
    tier_changes: list[TierChanged]
    revisions: dict[str, int] = field(default_factory=dict)  # merges touching each customer
    reopened: set[str] = field(default_factory=set)  # moments no longer recovered
    revalued: set[str] = field(default_factory=set)  # moments whose value at risk is new or
    # other than loyalty had it (a purchase or loss before them in event time heard after them)


# What a folded batch publishes, from its facts and what they changed (the handler's rule)
Told = Callable[[Facts, Folded], Sequence[Outgoing]]


def tell_nothing(facts: Facts, folded: Folded) -> Sequence[Outgoing]:
    """A fold that publishes nothing (a query benchmark, a store test)."""
    return ()


@dataclass(frozen=True)
class Ranked:
    """A customer in a site's ranking."""

    customer_id: str
    currency: str
    lifetime_value_minor: int
    churn_risk: Decimal


def value_as(customer_id: str, valuation: Valuation) -> Valuation:
    """A merged customer's valuation, under the id they are known by now."""
    value = valuation.value
    return replace(valuation, value=replace(value, customer_id=customer_id) if value else None)


def valued_history(history: History | None, valuer: Valuer) -> Valuation | None:
    """A customer's valuation from their history, under the id they are known by now."""
    if history is None:
        return None
    known = Known(history.at_risk)  # nothing has changed since the figures were stored
    valuation = valuer(history.purchases, history.lost, history.presence, known)
    return value_as(history.customer_id, valuation)


@dataclass(frozen=True)
class SilenceClock(Presence):
    """A customer's presence, and the lane whose clock judges their silence."""

    lane: int = 0


def latest_contacts(contacts: Sequence[Contact]) -> dict[str, list[Any]]:
    """SAVE_CONTACTS' column arrays: each customer's latest contact in the batch."""
    latest: dict[str, Contact] = {}
    for c in contacts:
        if c.customer_id not in latest or c.occurred_at > latest[c.customer_id].occurred_at:
            latest[c.customer_id] = c
    rows = [latest[customer] for customer in sorted(latest)]
    return {
        "customer_id": [c.customer_id for c in rows],
        "lane": [c.lane for c in rows],
        "last_at": [c.occurred_at for c in rows],
    }


def lane_clocks(contacts: Sequence[Contact]) -> dict[str, list[Any]]:
    """SAVE_CLOCKS' column arrays: how far event time came on each lane in the batch."""
    clocks: dict[int, datetime] = {}
    for c in contacts:
        clocks[c.lane] = max(clocks.get(c.lane, c.occurred_at), c.occurred_at)
    lanes = sorted(clocks)
    return {"lane": lanes, "clock": [clocks[lane] for lane in lanes]}


def disjoint(groups: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """One group per set of members: while links folded from different partitions form a cycle
    for a moment, two ids may each look like the root of the same members; the smallest wins."""
    by_members: dict[frozenset[str], str] = {}
    for root, members in groups.items():
        key = frozenset(members)
        by_members[key] = min(root, by_members.get(key, root))
    return {root: groups[root] for root in sorted(by_members.values())}


def history_of(
    group: Sequence[str],
    bought: dict[str, list[Purchase]],
    lost: dict[str, list[LostMoment]],
) -> tuple[list[Purchase], list[LostMoment]]:
    """A group's purchases and lost moments, from each member's."""
    return (
        [p for member in group for p in bought.get(member, [])],
        [m for member in group for m in lost.get(member, [])],
    )


class LoyaltyStore(CustomerLinks, Protocol):
    """What the loyalty handler and API need from storage."""

    async def fold(self, facts: Facts, valuer: Valuer, told: Told = tell_nothing) -> Folded:
        """Store the facts, revalue every customer they concern from the whole history of
        everyone merged into them, and re-tier the sites they touched, in one transaction; what
        `told` makes of the facts and what they changed goes to the outbox in it too (what a
        batch changed is known only to the transaction that changed it). Erased customers are
        left out: nothing of theirs is valued any more."""

    async def get_history(self, customer_id: str) -> History | None:
        """Everything recorded of the customer and everyone merged into them; None if nothing
        of theirs was recorded."""

    async def is_erased(self, customer_id: str) -> bool:
        """Whether contacts erased the customer (or anyone merged with them)."""

    async def get_value(self, customer_id: str, valuer: Valuer) -> Valuation | None:
        """The customer's valuation now, with everyone merged into them valued as one; None if
        nothing of theirs was recorded."""

    async def standing(self, customer_id: str) -> Standing | None:
        """Where the customer's value ranks at their home site; None if they have no value."""

    async def retier(self) -> list[TierChanged]:
        """Re-tier every site (after loading values in bulk, or changing tiers.yaml)."""

    async def site_customers(self, site_id: str) -> int:
        """How many customers have this home site."""

    async def ranked(self, site_id: str, offset: int, limit: int) -> list[Ranked]:
        """The site's customers by lifetime value, best first: limit of them after offset."""

    async def value_at_risk(
        self, site_id: str, since: datetime, until: datetime
    ) -> list[AtRiskTotal]:
        """What the moments lost at the site (every site if "") in [since, until) put at stake,
        by currency."""


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
# Each lost moment with its recovery and what it was last valued at (AT_RISK_COLUMNS, or nulls)
SELECT_LOSSES = """
SELECT l.moment_id, l.customer_id, l.site_id, l.occurred_at, l.side, l.weight,
       r.moment_id IS NOT NULL, r.recovered_at,
       a.moment_id, a.site_id, a.customer_id, a.occurred_at, a.currency, a.lifetime_value_minor,
       a.risk_before, a.risk_after, a.value_at_risk_minor, a.recovered, a.remaining_minor
FROM loyalty.lost_moments l LEFT JOIN loyalty.recoveries r USING (moment_id)
     LEFT JOIN loyalty.moments_at_risk a USING (moment_id)
WHERE l.customer_id = ANY(%b) ORDER BY l.customer_id, l.occurred_at, l.moment_id
"""
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
DROP_SILENCES = "DELETE FROM loyalty.silences WHERE customer_id = ANY(%b)"
SAVE_SILENCES = """
INSERT INTO loyalty.silences (moment_id, customer_id, lane, due_at, fired)
SELECT * FROM unnest(
    %(moment_id)b::text[], %(customer_id)b::text[], %(lane)b::int[],
    %(due_at)b::timestamptz[], %(fired)b::bool[]
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
DELETE FROM loyalty.recoveries WHERE case_id = ANY(%b) RETURNING moment_id
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
    for row in rows:
        purchase = Purchase(*row)
        by_customer.setdefault(purchase.customer_id, []).append(
            replace(purchase, currency=purchase.currency.strip())
        )
    return by_customer


class PostgresLoyaltyStore(PostgresCustomerLinks):
    """LoyaltyStore on Postgres (schema loyalty)."""

    links_schema = SCHEMA

    def __init__(self, pool: AsyncConnectionPool, tiers: tuple[Tier, ...] | None = None) -> None:
        self.pool = pool
        self.tiers = tiers or load_tiers()

    async def fold(self, facts: Facts, valuer: Valuer, told: Told = tell_nothing) -> Folded:
        if not facts.customers and not facts.contacts:
            return Folded({}, [])
        async with self.pool.connection() as conn, conn.transaction():
            folded = await self._fold(conn, facts, valuer)
            await add_to_outbox(conn, SCHEMA, told(facts, folded))
        return folded

    async def _fold(self, conn: AsyncConnection, facts: Facts, valuer: Valuer) -> Folded:
        reopened = await self._save(conn, facts)
        customers = sorted(set(facts.customers) | await self._silence_moved(conn, facts))
        if not customers:
            return Folded({}, [])
        rows = await (await conn.execute(SELECT_GROUPS, (customers,))).fetchall()
        groups = disjoint({root: tuple(members) for root, members, _, _ in rows})
        erased = {root for root, _, is_erased, _ in rows if is_erased and root in groups}
        revisions = {root: int(n) for root, _, _, n in rows if n and root in groups}
        members = sorted({m for group in groups.values() for m in group})
        bought = purchases_of(await (await conn.execute(SELECT_HISTORY, (members,))).fetchall())
        loss_rows = await (await conn.execute(SELECT_LOSSES, (members,))).fetchall()
        lost, stored = losses_of(loss_rows), stored_at_risk(loss_rows)
        presence = await self._presence(conn, groups)
        recovery_changed = facts.moment_ids | reopened
        valued = {}
        for root, group in groups.items():
            purchases, moments = history_of(group, bought, lost)
            known = known_figures(facts, group, moments, recovery_changed, stored)
            valued[root] = value_as(root, valuer(purchases, moments, presence.get(root), known))
        await self._schedule_silences(conn, members, valued, erased, presence)
        values = [v.value for r, v in valued.items() if v.value and r not in erased]
        gone = [m for r, g in groups.items() for m in g if m != r or r in erased]
        sites = {v.site_id for v in values} | await self._sites_of(conn, members)
        await conn.execute(DROP_VALUES, (gone,))
        if values:
            await conn.execute(SAVE_VALUES, columns(values, VALUE_COLUMNS))
        at_risk = [
            (c, r)
            for c, valuation in valued.items()
            for r in valuation.at_risk
            if r.moment_id not in valuation.kept  # kept figures are stored already
        ]
        revalued: set[str] = set()
        if at_risk:
            saved = await conn.execute(SAVE_AT_RISK, at_risk_columns(at_risk))
            revalued = {moment for (moment,) in await saved.fetchall()}
        changes = await self._retier(conn, sorted(sites))
        kept = {r: v for r, v in valued.items() if r not in erased}
        return Folded(kept, changes, revisions, reopened, revalued)

    @staticmethod
    async def _silence_moved(conn: AsyncConnection, facts: Facts) -> set[str]:
        """Customers whose silence the batch moved: back in contact after a lose, or past the
        time silence after one begins on their lane's clock."""
        back = sorted({c.customer_id for c in facts.contacts})
        rows = await (await conn.execute(SELECT_SILENCE_MOVED, {"back": back})).fetchall()
        return {customer for (customer,) in rows}

    @staticmethod
    async def _presence(
        conn: AsyncConnection, groups: dict[str, tuple[str, ...]]
    ) -> dict[str, SilenceClock]:
        """Each group's latest contact, its lane and that lane's clock."""
        members = [m for group in groups.values() for m in group]
        rows = await (await conn.execute(SELECT_PRESENCE, (members,))).fetchall()
        latest = {customer: (last_at, lane, clock) for customer, lane, last_at, clock in rows}
        presence = {}
        for root, group in groups.items():
            seen = [latest[m] for m in group if m in latest]
            if seen:
                last_at, lane, clock = max(seen)
                presence[root] = SilenceClock(last_at, clock, lane)
        return presence

    @staticmethod
    async def _schedule_silences(
        conn: AsyncConnection,
        members: Sequence[str],
        valued: dict[str, Valuation],
        erased: set[str],
        presence: dict[str, SilenceClock],
    ) -> None:
        """Replace the customers' silences with those their valuations found."""
        await conn.execute(DROP_SILENCES, (list(members),))
        due = [
            (moment, root, presence[root].lane, at, at <= presence[root].clock)
            for root, valuation in valued.items()
            if root not in erased and root in presence
            for moment, at in valuation.silence_due
        ]
        if due:
            names = ("moment_id", "customer_id", "lane", "due_at", "fired")
            params = {name: [row[n] for row in due] for n, name in enumerate(names)}
            await conn.execute(SAVE_SILENCES, params)

    async def retier(self) -> list[TierChanged]:
        """Re-tier every site (after loading values in bulk, or changing tiers.yaml)."""
        async with self.pool.connection() as conn, conn.transaction():
            rows = await (await conn.execute(ALL_SITES)).fetchall()
            return await self._retier(conn, [site for (site,) in rows])

    @staticmethod
    async def _sites_of(conn: AsyncConnection, customers: Sequence[str]) -> set[str]:
        """The home sites the customers are ranked at now."""
        rows = await (await conn.execute(SELECT_SITES, (list(customers),))).fetchall()
        return {site for (site,) in rows}

    async def _retier(self, conn: AsyncConnection, sites: Sequence[str]) -> list[TierChanged]:
        """Every tier that moved at the sites, kept and returned."""
        if not sites:
            return []
        statement = retier_statement(self.tiers)
        rows = await (await conn.execute(statement, {"sites": list(sites)})).fetchall()
        changes = [
            TierChanged(c, site, tier, was, int(rank), int(n), cur.strip(), int(value))
            for c, site, tier, was, rank, n, cur, value in rows
        ]
        if changes:
            await conn.execute(SET_TIERS, columns(changes, ("customer_id", "tier")))
        return sorted(changes, key=lambda t: (t.site_id, t.rank))

    @staticmethod
    async def _save(conn: AsyncConnection, facts: Facts) -> set[str]:
        """Store each fact once (reopened cases' recoveries dropped before the batch's own are
        kept); the moments no longer recovered."""
        if facts.purchases:
            await conn.execute(SAVE_PURCHASES, columns(facts.purchases, PURCHASE_COLUMNS))
        if facts.losses:
            await conn.execute(SAVE_LOSSES, loss_columns(facts.losses))
        reopened: set[str] = set()
        if facts.reopened:
            cases = sorted({c.case_id for c in facts.reopened})
            dropped = await (await conn.execute(DROP_RECOVERIES, (cases,))).fetchall()
            reopened = {moment for (moment,) in dropped}
        if facts.recoveries:
            await conn.execute(SAVE_RECOVERIES, columns(facts.recoveries, RECOVERY_COLUMNS))
        if facts.erased:
            await conn.execute(SAVE_ERASED, (list(facts.erased),))
        if facts.contacts:
            await conn.execute(SAVE_CONTACTS, latest_contacts(facts.contacts))
            await conn.execute(SAVE_CLOCKS, lane_clocks(facts.contacts))
        await fold_links_in(conn, SCHEMA, facts.links)
        return reopened - {r.moment_id for r in facts.recoveries}

    async def get_history(self, customer_id: str) -> History | None:
        group = await self.customer_group(customer_id)
        async with self.pool.connection() as conn:
            bought = await (await conn.execute(SELECT_HISTORY, (list(group),))).fetchall()
            lost = await (await conn.execute(SELECT_LOSSES, (list(group),))).fetchall()
            presence = await self._presence(conn, {group[0]: group})
        if not bought and not lost:
            return None
        purchases = [p for ps in purchases_of(bought).values() for p in ps]
        moments = [m for ms in losses_of(lost).values() for m in ms]
        return History(group[0], purchases, moments, presence.get(group[0]), stored_at_risk(lost))

    async def get_value(self, customer_id: str, valuer: Valuer) -> Valuation | None:
        return valued_history(await self.get_history(customer_id), valuer)

    async def is_erased(self, customer_id: str) -> bool:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_ERASED, (customer_id,))).fetchone()
        return bool(row and row[0])

    async def standing(self, customer_id: str) -> Standing | None:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_STANDING, (customer_id,))).fetchone()
        return Standing(row[0], int(row[1]), int(row[2])) if row else None

    async def site_customers(self, site_id: str) -> int:
        async with self.pool.connection() as conn:
            (count,) = await (await conn.execute(COUNT_SITE, (site_id,))).fetchone() or (0,)
        return int(count)

    async def ranked(self, site_id: str, offset: int, limit: int) -> list[Ranked]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_TOP, (site_id, limit, offset))).fetchall()
        return [Ranked(c, cur.strip(), int(v), Decimal(r)) for c, cur, v, r in rows]

    async def value_at_risk(
        self, site_id: str, since: datetime, until: datetime
    ) -> list[AtRiskTotal]:
        where = {"site_id": site_id, "since": since, "until": until}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_AT_RISK_TOTALS, where)).fetchall()
        return [AtRiskTotal(c, int(a), int(s), int(n), int(r)) for c, a, s, n, r in rows]


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
