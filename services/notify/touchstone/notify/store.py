"""Notify's Postgres adapter: cases opened once per visit, lost moments joined once each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.notify.address_book_store import fold_contacts, fold_keys
from touchstone.notify.case_queries import case_timeline, list_cases
from touchstone.notify.case_tables import (
    load_case,
    load_cases,
)
from touchstone.notify.codec import case_recovered
from touchstone.notify.contact_book import ContactChange, KeyChange
from touchstone.notify.domain import (
    CaseOpening,
    LostMoment,
    MomentValue,
    UnknownCase,
    Win,
)
from touchstone.notify.erased_store import is_erased
from touchstone.notify.opening_store import open_or_join
from touchstone.notify.openings import LayOut
from touchstone.notify.outcome_rows import (
    FORGET_MOVES_UNTIL,
    LOCK_CUSTOMERS,
    SAVE_OUTCOMES,
    SELECT_KEPT,
    SELECT_OUTCOMES,
    STEPS_FOLLOW_STATUS,
    cases_to_decide,
    held_outcome,
    news_since,
    outcome_columns,
)
from touchstone.notify.outcome_settlement import SettleOutcomes, settling
from touchstone.notify.playbooks import RecoveryPolicy
from touchstone.notify.ports import Swept
from touchstone.notify.rows import CaseFilter, CaseRow, TimelineRow
from touchstone.notify.staff_commands import Resolve, TakeStep
from touchstone.notify.sweep_store import case_counts, prune_wins, sweep_lost, sweep_steps
from touchstone.notify.touchpoint_signals import Complaint, SiteVisit
from touchstone.notify.value_escalation import Escalate
from touchstone.notify.value_store import weigh as weigh_cases
from touchstone.platform.messaging.customer_links import LinkChange
from touchstone.platform.messaging.customer_links_store import PostgresCustomerLinks
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.persistence.pg import columns

SCHEMA = "notify"


LOCK_CASE = "SELECT status, resolved_by FROM notify.cases WHERE case_id = %s FOR NO KEY UPDATE"
SAVE_STEP = f"""
WITH taken AS (
    UPDATE notify.case_steps SET status = %(status)s, taken_by = %(by)s, taken_at = %(at)s,
                                 note = %(note)s, first_taken_at = coalesce(first_taken_at, %(at)s)
    WHERE case_id = %(case_id)s AND n = %(n)s
    RETURNING case_id
), {FORGET_MOVES_UNTIL.format(taken="taken")}
SELECT 1
"""
RESOLVE = f"""
WITH resolved AS (
    UPDATE notify.cases SET status = %(status)s, resolved_by = %(by)s, resolved_at = %(at)s,
                            resolved_note = %(note)s, recovered_at = %(recovered_at)s
    WHERE case_id = %(case_id)s
    RETURNING case_id, status
), {STEPS_FOLLOW_STATUS.format(changed="resolved")}
SELECT 1
"""

WIN_COLUMNS = ("moment_id", "customer_id", "occurred_at", "how", "site_id", "visit_id")
SAVE_WINS = """
INSERT INTO notify.wins (moment_id, customer_id, occurred_at, how, site_id, visit_id)
SELECT * FROM unnest(%(moment_id)b::text[], %(customer_id)b::text[], %(occurred_at)b::timestamptz[],
                     %(how)b::text[], %(site_id)b::text[], %(visit_id)b::text[])
ON CONFLICT (moment_id) DO NOTHING
"""
SAVE_VISITS = """
INSERT INTO notify.site_visits AS v (site_id, visit_id, first_at)
SELECT * FROM unnest(%(site_id)b::text[], %(visit_id)b::text[], %(first_at)b::timestamptz[])
ON CONFLICT (site_id, visit_id) DO UPDATE SET first_at = least(v.first_at, excluded.first_at)
"""
SAVE_COMPLAINTS = """
INSERT INTO notify.complaints (event_id, site_id, customer_id, occurred_at, kind)
SELECT * FROM unnest(%(event_id)b::text[], %(site_id)b::text[], %(customer_id)b::text[],
                     %(occurred_at)b::timestamptz[], %(kind)b::text[])
ON CONFLICT (event_id) DO NOTHING
"""


class PostgresNotifyStore(PostgresCustomerLinks):
    """NotifyStore on Postgres (schema notify)."""

    links_schema = SCHEMA

    def __init__(
        self, pool: AsyncConnectionPool, settle_outcomes: SettleOutcomes | None = None
    ) -> None:
        self.pool = pool
        # what deciding a customer's cases again makes of them (merges decide them too)
        self.settle_outcomes = settle_outcomes or settling(case_recovered)

    async def open_or_join(
        self, openings: Sequence[CaseOpening], moments: Sequence[LostMoment], lay_out: LayOut
    ) -> dict[str, CaseRow]:
        if not moments:
            return {}
        async with self.pool.connection() as conn, conn.transaction():
            return await open_or_join(conn, openings, moments, lay_out)

    async def settle(
        self, wins: Sequence[Win], customers: Sequence[str], joined: Sequence[str]
    ) -> None:
        await self._settle(wins, customers, joined)

    async def _settle(
        self,
        wins: Sequence[Win],
        customers: Sequence[str],
        joined: Sequence[str],
        everything: bool = False,
    ) -> None:
        """Decide again the cases news could move (every case of the customers if everything:
        a merge or unmerge changes whose wins count)."""
        ids = sorted({*customers, *(w.customer_id for w in wins)})
        if not ids:
            return
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(LOCK_CUSTOMERS, (ids,))
            if wins:
                await conn.execute(SAVE_WINS, columns(wins, WIN_COLUMNS))
            since = news_since(ids, wins, everything)
            asked = {"ids": ids, "since": since, "joined": list(joined)}
            as_kept = await (await conn.execute(SELECT_KEPT, asked)).fetchall()
            candidates = cases_to_decide(as_kept, wins, everything)
            rows = await (await conn.execute(SELECT_OUTCOMES, (candidates,))).fetchall()
            cases = await load_cases(conn, [row[0] for row in rows])  # locked above
            settled = self.settle_outcomes([held_outcome(r, cases[r[0]]) for r in rows], joined)
            await conn.execute(SAVE_OUTCOMES, outcome_columns(settled.decided))
            await add_to_outbox(conn, SCHEMA, settled.records)

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        await super().fold_links(changes)
        linked = [c for change in changes for c in (change.survivor_id, change.absorbed_id)]
        await self._settle([], linked, [], everything=True)

    async def list_cases(
        self, where: CaseFilter, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[CaseRow], int]:
        async with self.pool.connection() as conn:
            return await list_cases(conn, where, after, limit)

    async def get_case(self, case_id: str) -> CaseRow | None:
        async with self.pool.connection() as conn:
            return await load_case(conn, case_id)

    async def take_step(self, case_id: str, decide: TakeStep) -> CaseRow:
        async with self.pool.connection() as conn, conn.transaction():
            case = await self._locked(conn, case_id)
            taken = decide(case, await is_erased(conn, case.customer_id))
            if taken is None:
                return case
            step = taken.step
            params = {"case_id": case_id, "n": step.n, "status": step.status, "note": taken.note}
            await conn.execute(SAVE_STEP, {**params, "by": step.taken_by, "at": step.taken_at})
            await add_to_outbox(conn, SCHEMA, taken.records)
            return await self._locked(conn, case_id)

    async def resolve(self, case_id: str, decide: Resolve) -> CaseRow:
        async with self.pool.connection() as conn, conn.transaction():
            case = await self._locked(conn, case_id)
            resolution = decide(case, await is_erased(conn, case.customer_id))
            if resolution is None:
                return case
            done = resolution.case
            params: dict[str, object] = {"case_id": case_id, "status": done.status}
            params |= {"by": done.resolved_by, "recovered_at": done.recovered_at}
            await conn.execute(
                RESOLVE, {**params, "at": resolution.resolved_at, "note": resolution.note}
            )
            await add_to_outbox(conn, SCHEMA, resolution.records)
            return await self._locked(conn, case_id)

    async def record_visits(
        self, visits: Sequence[SiteVisit], complaints: Sequence[Complaint]
    ) -> None:
        if not (visits or complaints):
            return
        async with self.pool.connection() as conn, conn.transaction():
            if visits:
                first = {
                    (v.site_id, v.visit_id): v
                    for v in sorted(visits, key=lambda v: v.first_at, reverse=True)
                }
                ordered = sorted(first.values(), key=lambda v: (v.site_id, v.visit_id))
                await conn.execute(
                    SAVE_VISITS, columns(ordered, ("site_id", "visit_id", "first_at"))
                )
            if complaints:
                names = ("event_id", "site_id", "customer_id", "occurred_at", "kind")
                await conn.execute(SAVE_COMPLAINTS, columns(complaints, names))

    async def case_timeline(self, case_id: str) -> list[TimelineRow]:
        async with self.pool.connection() as conn:
            return await case_timeline(conn, case_id)

    async def fold_tiers(self, tiers: Sequence[tuple[str, str]]) -> None:
        if not tiers:
            return
        latest = dict(tiers)
        params = {"customer_id": list(latest), "tier": list(latest.values())}
        async with self.pool.connection() as conn:
            await conn.execute(SAVE_TIERS, params)

    async def tiers_of(self, customer_ids: Sequence[str]) -> dict[str, str]:
        if not customer_ids:
            return {}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(TIERS_OF, (sorted(set(customer_ids)),))).fetchall()
        return {customer_id: tier for customer_id, tier in rows}

    async def fold_contacts(self, changes: Sequence[ContactChange]) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await fold_contacts(conn, changes)

    async def fold_keys(self, changes: Sequence[KeyChange]) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await fold_keys(conn, changes)

    async def weigh(
        self, values: Sequence[MomentValue], moment_ids: Sequence[str], decide: Escalate
    ) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await weigh_cases(conn, values, moment_ids, decide)

    async def case_counts(self, now: datetime) -> tuple[dict[str, int], int]:
        async with self.pool.connection() as conn:
            return await case_counts(conn, now)

    async def sweep(self, now: datetime, policy: RecoveryPolicy) -> Swept:
        """Tell the steps people are late with and escalate those late enough, close as lost
        the cases no win recovered in time, and forget wins too old to matter (PRUNE_WINS);
        each decision with its events (and the tasks it changes) in the outbox, in one
        transaction per batch.
        Cases another transaction holds are left for the next sweep."""
        total = Swept()
        while True:
            async with self.pool.connection() as conn, conn.transaction():
                swept = await sweep_steps(conn, now, policy)
                swept += await sweep_lost(conn, now, policy)
            total += swept
            if swept.due + swept.escalated + swept.lost == 0:
                break
        async with self.pool.connection() as conn:
            pruned = await prune_wins(conn, now, policy)
        return total + Swept(pruned_wins=pruned)

    async def _locked(self, conn: AsyncConnection, case_id: str) -> CaseRow:
        """The case, locked until the transaction ends; UnknownCase if there is none."""
        await conn.execute(LOCK_CASE, (case_id,))
        case = await load_case(conn, case_id)
        if case is None:
            raise UnknownCase(f"case {case_id} not found")
        return case


SAVE_TIERS = """
INSERT INTO notify.customer_tiers (customer_id, tier)
SELECT * FROM unnest(%(customer_id)b::text[], %(tier)b::text[])
ON CONFLICT (customer_id) DO UPDATE SET tier = excluded.tier
"""
TIERS_OF = """
WITH ids AS MATERIALIZED (  -- each id's root once, not once for every row a join compares
    SELECT r.id, notify.customer_root(r.id) AS root FROM unnest(%b::text[]) AS r(id)
)
SELECT r.id, coalesce(own.tier, root.tier, '')
FROM ids r
LEFT JOIN notify.customer_tiers own ON own.customer_id = r.id
LEFT JOIN notify.customer_tiers root ON root.customer_id = r.root
"""
