"""Loyalty's Postgres adapter: purchases and lost moments stored once; for each batch, what the
fold decision reads is loaded, and what it decides written, in one transaction
(fold_decision.py: which groups to value again and from what, what to keep)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.loyalty.fold_decision import (
    FoldWrites,
    Group,
    Loaded,
    LostSince,
    distinct_groups,
    no_longer_recovered,
    settle_fold,
    value_groups,
)
from touchstone.loyalty.ports import (
    AtRiskTotal,
    Folded,
    History,
    Ranked,
    Standing,
    Told,
    Valuer,
    tell_nothing,
)
from touchstone.loyalty.remembered_sql import (
    DROP_REMEMBERED,
    LOCK_CUSTOMERS,
    SAVE_REMEMBERED,
    SELECT_REMEMBERED,
    kept_of,
    remembered_columns,
)
from touchstone.loyalty.store_sql import (
    ALL_SITES,
    COUNT_SITE,
    DROP_RECOVERIES,
    DROP_SILENCES,
    DROP_VALUES,
    PURCHASE_COLUMNS,
    RECOVERY_COLUMNS,
    SAVE_AT_RISK,
    SAVE_CLOCKS,
    SAVE_CONTACTS,
    SAVE_ERASED,
    SAVE_LOSSES,
    SAVE_PURCHASES,
    SAVE_RECOVERIES,
    SAVE_SILENCES,
    SAVE_VALUES,
    SELECT_AT_RISK_TOTALS,
    SELECT_ERASED,
    SELECT_GROUPS,
    SELECT_HISTORY,
    SELECT_LOSSES,
    SELECT_LOSSES_SINCE,
    SELECT_PRESENCE,
    SELECT_SILENCE_MOVED,
    SELECT_SITES,
    SELECT_STANDING,
    SELECT_TOP,
    SET_TIERS,
    SILENCE_COLUMNS,
    VALUE_COLUMNS,
    at_risk_columns,
    lane_clocks,
    latest_contacts,
    loss_columns,
    losses_of,
    purchases_of,
    retier_statement,
    since_columns,
    stored_at_risk,
    stored_marks,
)
from touchstone.loyalty.tiers import Tier, TierChanged, load_tiers
from touchstone.loyalty.valuation import Facts, Valuation
from touchstone.loyalty.valued import presence_of, valued_history
from touchstone.platform.messaging.customer_links_store import PostgresCustomerLinks, fold_links_in
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.persistence.pg import columns
from touchstone.platform.runtime.metrics import VALUATIONS

SCHEMA = "loyalty"


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
        reopened = no_longer_recovered(await self._save(conn, facts), facts)
        customers = sorted(set(facts.customers) | await self._silence_moved(conn, facts))
        if not customers:
            return Folded({}, [])
        loaded = await self._load(conn, customers)
        load_lost = partial(self._lost_since, conn)
        valued = await value_groups(facts, valuer, loaded, reopened, load_lost)
        VALUATIONS.labels("recent").inc(valued.gone_on)
        VALUATIONS.labels("whole").inc(len(valued.valuations) - valued.gone_on)
        writes = settle_fold(loaded, valued)
        sites = {v.site_id for v in writes.values} | await self._sites_of(conn, writes.members)
        revalued = await self._write(conn, writes)
        changes = await self._retier(conn, sorted(sites))
        return Folded(writes.current, changes, writes.revisions, set(reopened.moments), revalued)

    async def _load(self, conn: AsyncConnection, customers: Sequence[str]) -> Loaded:
        """The customers' groups, locked, with what valuing them reads before their lost
        moments: purchases, presence, what the last fold remembered."""
        rows = await (await conn.execute(SELECT_GROUPS, (list(customers),))).fetchall()
        groups = distinct_groups(
            Group(root, tuple(members), bool(erased), int(n or 0))
            for root, members, erased, n in rows
        )
        members = sorted({m for g in groups.values() for m in g.members})
        await conn.execute(LOCK_CUSTOMERS, (members,))  # one fold of a group at a time
        remembered = await (await conn.execute(SELECT_REMEMBERED, (list(groups),))).fetchall()
        latest = await self._latest_contacts(conn, members)
        presence = {
            root: clock
            for root, g in groups.items()
            if (clock := presence_of(g.members, latest)) is not None
        }
        bought = await (await conn.execute(SELECT_HISTORY, (members,))).fetchall()
        return Loaded(groups, purchases_of(bought), presence, kept_of(remembered))

    @staticmethod
    async def _lost_since(conn: AsyncConnection, reads: Mapping[str, datetime]) -> LostSince:
        """Each member's lost moments since the time given, and which have figures stored."""
        rows = await (await conn.execute(SELECT_LOSSES_SINCE, since_columns(reads))).fetchall()
        return LostSince(losses_of(rows), stored_marks(rows))

    @staticmethod
    async def _write(conn: AsyncConnection, writes: FoldWrites) -> set[str]:
        """Keep what the fold decided; the lost moments whose figures are new or other than
        stored."""
        await conn.execute(DROP_SILENCES, (writes.members,))
        if writes.silences:
            await conn.execute(SAVE_SILENCES, columns(writes.silences, SILENCE_COLUMNS))
        await conn.execute(DROP_VALUES, (writes.gone,))
        if writes.values:
            await conn.execute(SAVE_VALUES, columns(writes.values, VALUE_COLUMNS))
        if writes.gone:
            await conn.execute(DROP_REMEMBERED, (writes.gone,))
        if writes.remembered:
            await conn.execute(SAVE_REMEMBERED, remembered_columns(writes.remembered))
        if not writes.at_risk:
            return set()
        saved = await conn.execute(SAVE_AT_RISK, at_risk_columns(writes.at_risk))
        return {moment for (moment,) in await saved.fetchall()}

    @staticmethod
    async def _silence_moved(conn: AsyncConnection, facts: Facts) -> set[str]:
        """Customers whose silence the batch moved: back in contact after a lose, or past the
        time silence after one begins on their lane's clock."""
        back = sorted({c.customer_id for c in facts.contacts})
        rows = await (await conn.execute(SELECT_SILENCE_MOVED, {"back": back})).fetchall()
        return {customer for (customer,) in rows}

    @staticmethod
    async def _latest_contacts(
        conn: AsyncConnection, members: Sequence[str]
    ) -> dict[str, tuple[datetime, int, datetime]]:
        """Each member's latest contact, its lane and that lane's clock."""
        rows = await (await conn.execute(SELECT_PRESENCE, (list(members),))).fetchall()
        return {customer: (last_at, lane, clock) for customer, lane, last_at, clock in rows}

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
    async def _save(conn: AsyncConnection, facts: Facts) -> list[tuple[str, str]]:
        """Store each fact once (reopened cases' recoveries dropped before the batch's own are
        kept); the recoveries dropped, as (moment, customer recorded with)."""
        if facts.purchases:
            await conn.execute(SAVE_PURCHASES, columns(facts.purchases, PURCHASE_COLUMNS))
        if facts.losses:
            await conn.execute(SAVE_LOSSES, loss_columns(facts.losses))
        dropped: list[tuple[str, str]] = []
        if facts.reopened:
            cases = sorted({c.case_id for c in facts.reopened})
            dropped = await (await conn.execute(DROP_RECOVERIES, (cases,))).fetchall()
        if facts.recoveries:
            await conn.execute(SAVE_RECOVERIES, columns(facts.recoveries, RECOVERY_COLUMNS))
        if facts.erased:
            await conn.execute(SAVE_ERASED, (list(facts.erased),))
        if facts.contacts:
            await conn.execute(SAVE_CONTACTS, latest_contacts(facts.contacts))
            await conn.execute(SAVE_CLOCKS, lane_clocks(facts.contacts))
        await fold_links_in(conn, SCHEMA, facts.links)
        return [(moment, customer) for moment, customer in dropped]

    async def get_history(self, customer_id: str) -> History | None:
        group = await self.customer_group(customer_id)
        async with self.pool.connection() as conn:
            bought = await (await conn.execute(SELECT_HISTORY, (list(group),))).fetchall()
            lost = await (await conn.execute(SELECT_LOSSES, (list(group),))).fetchall()
            latest = await self._latest_contacts(conn, group)
        if not bought and not lost:
            return None
        purchases = [p for ps in purchases_of(bought).values() for p in ps]
        moments = [m for ms in losses_of(lost).values() for m in ms]
        presence = presence_of(group, latest)
        return History(group[0], purchases, moments, presence, stored_at_risk(lost))

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
