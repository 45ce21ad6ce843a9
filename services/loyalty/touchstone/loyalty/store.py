"""Loyalty's Postgres adapter: purchases and lost moments stored once, customers revalued from
their whole history in the same transaction (the figures of lost moments whose history before
them is unchanged read back as stored: valuation.known_figures says which)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

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
from touchstone.loyalty.remembered import Kept, read_from
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
    SELECT_PRESENCE,
    SELECT_SILENCE_MOVED,
    SELECT_SITES,
    SELECT_STANDING,
    SELECT_TOP,
    SET_TIERS,
    VALUE_COLUMNS,
    at_risk_columns,
    lane_clocks,
    latest_contacts,
    loss_columns,
    losses_of,
    purchases_of,
    retier_statement,
    stored_at_risk,
)
from touchstone.loyalty.store_valuing import Valuing
from touchstone.loyalty.tiers import Tier, TierChanged, load_tiers
from touchstone.loyalty.valuation import Facts, Valuation, facts_change_from
from touchstone.loyalty.valued import SilenceClock, disjoint, valued_history
from touchstone.platform.messaging.customer_links_store import PostgresCustomerLinks, fold_links_in
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.persistence.pg import columns

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
        reopened, reopened_for = await self._save(conn, facts)
        customers = sorted(set(facts.customers) | await self._silence_moved(conn, facts))
        if not customers:
            return Folded({}, [])
        rows = await (await conn.execute(SELECT_GROUPS, (customers,))).fetchall()
        groups = disjoint({root: tuple(members) for root, members, _, _ in rows})
        erased = {root for root, _, is_erased, _ in rows if is_erased and root in groups}
        revisions = {root: int(n) for root, _, _, n in rows if n and root in groups}
        members = sorted({m for group in groups.values() for m in group})
        await conn.execute(LOCK_CUSTOMERS, (members,))  # one fold of a group at a time
        remembered = await (await conn.execute(SELECT_REMEMBERED, (list(groups),))).fetchall()
        kept = kept_of(remembered)
        presence = await self._presence(conn, groups)
        bought = purchases_of(await (await conn.execute(SELECT_HISTORY, (members,))).fetchall())
        recovery_changed_for = {r.customer_id for r in facts.recoveries} | reopened_for
        since = {
            root: read_from(
                kept.get(root),
                group,
                facts_change_from(facts, group, recovery_changed_for),
                p.last_contact_at if (p := presence.get(root)) else None,
            )
            for root, group in groups.items()
        }
        recovery_changed = facts.moment_ids | reopened
        valuing = Valuing(facts, valuer, bought, presence, recovery_changed, kept)
        valued = await valuing.groups(conn, groups, since)
        await self._schedule_silences(conn, members, valued, erased, presence)
        values = [v.value for r, v in valued.items() if v.value and r not in erased]
        gone = [m for r, g in groups.items() for m in g if m != r or r in erased]
        sites = {v.site_id for v in values} | await self._sites_of(conn, members)
        await conn.execute(DROP_VALUES, (gone,))
        if values:
            await conn.execute(SAVE_VALUES, columns(values, VALUE_COLUMNS))
        await self._remember(conn, groups, valued, gone)
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
        current = {r: v for r, v in valued.items() if r not in erased}
        return Folded(current, changes, revisions, reopened, revalued)

    @staticmethod
    async def _remember(
        conn: AsyncConnection,
        groups: dict[str, tuple[str, ...]],
        valued: dict[str, Valuation],
        gone: Sequence[str],
    ) -> None:
        """Keep where each group's lost moments leave it, for the next fold to go on from;
        forget it for ids no longer a group's root (merged, erased)."""
        if gone:
            await conn.execute(DROP_REMEMBERED, (list(gone),))
        kept = {
            root: Kept(tuple(sorted(groups[root])), valuation.remembered)
            for root, valuation in valued.items()
            if valuation.remembered is not None and root not in gone
        }
        if kept:
            await conn.execute(SAVE_REMEMBERED, remembered_columns(kept))

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
    async def _save(conn: AsyncConnection, facts: Facts) -> tuple[set[str], set[str]]:
        """Store each fact once (reopened cases' recoveries dropped before the batch's own are
        kept); the moments no longer recovered, and the customers they were recorded with."""
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
        recovered = {r.moment_id for r in facts.recoveries}
        reopened = {moment for moment, _ in dropped if moment not in recovered}
        return reopened, {customer for moment, customer in dropped if moment in reopened}

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
