"""Notify's Postgres adapter: cases opened once per visit, lost moments joined once each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from touchstone.notify.codec import case_escalated, case_lost, case_recovered, step_due
from touchstone.notify.contact_book import Contact, ContactChange, KeyChange, folded
from touchstone.notify.deliveries import PlannedDelivery, planned_deliveries
from touchstone.notify.domain import (
    CaseClosed,
    CaseOpening,
    CaseOutcome,
    LostMoment,
    MomentValue,
    UnknownCase,
    UnknownStep,
    Win,
    case_value,
    escalates_for_value,
    note_kept,
    step_moves,
)
from touchstone.notify.erased_store import is_erased
from touchstone.notify.opening_store import moved_openings
from touchstone.notify.openings import as_laid_out, earliest_openings
from touchstone.notify.outcome_rows import (
    FORGET_MOVES_UNTIL,
    LOCK_CUSTOMERS,
    SAVE_OUTCOMES,
    SELECT_KEPT,
    SELECT_OUTCOMES,
    STEPS_FOLLOW_STATUS,
    cases_to_decide,
    news_since,
    outcome_columns,
    outcome_key,
    outcome_of,
    outcomes_to_tell,
)
from touchstone.notify.overdue import StepOnClock, escalates, falls_due
from touchstone.notify.playbooks import PlannedStep, RecoveryPolicy
from touchstone.notify.rows import CaseFilter, CaseRow, DeliveryRow, StepCommand, TimelineRow
from touchstone.notify.tasks import task_records
from touchstone.notify.touchpoint_signals import Complaint, SiteVisit
from touchstone.platform.messaging.customer_links import (
    CustomerLinks,
    LinkChange,
    PostgresCustomerLinks,
    equality_filters,
)
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.messaging.topics import Outgoing
from touchstone.platform.persistence.pg import BEGINNING, columns

SCHEMA = "notify"


StepEvent = Callable[[CaseRow, PlannedStep, StepCommand, datetime], Outgoing]
OutcomeEvent = Callable[[CaseOutcome], Outgoing]
ResolveEvent = Callable[[CaseRow, datetime], Outgoing]  # the resolved case, when


class NotifyStore(CustomerLinks, Protocol):
    """What the notify handler and API need from storage."""

    async def open_or_join(
        self, openings: Sequence[CaseOpening], moments: Sequence[LostMoment]
    ) -> dict[str, CaseRow]:
        """Open new cases, join new moments; return each moment's case by moment id."""

    async def settle(
        self, wins: Sequence[Win], customers: Sequence[str], joined: Sequence[str]
    ) -> None:
        """Keep the wins; decide again the outcome of every open or recovered case (not one staff
        resolved) of these customers and everyone merged with them, under a lock per customer
        so that two workers never decide one customer at once. A case that became recovered, or
        that stays recovered while one of the joined lost moments joined it, gets its event
        written to the outbox in the same transaction."""

    async def take_step(self, command: StepCommand, at: datetime, event: StepEvent) -> CaseRow:
        """Acknowledge or complete a step of a case, writing the event its change makes (if it
        moved) to the outbox in the same transaction; the case as it is now. UnknownCase,
        UnknownStep or CaseClosed if it cannot be done."""

    async def resolve(
        self, case_id: str, by: str, note: str, at: datetime, event: ResolveEvent
    ) -> CaseRow:
        """Close the case as recovered, confirmed by staff, with its event in the outbox (once:
        a second confirmation changes nothing); the case as it is now. UnknownCase if none."""

    async def list_cases(
        self, where: CaseFilter, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[CaseRow], int]:
        """Cases matching the filter by opening time after a keyset position, and their total."""

    async def get_case(self, case_id: str) -> CaseRow | None:
        """The case with its moments, or None."""

    async def record_visits(
        self, visits: Sequence[SiteVisit], complaints: Sequence[Complaint]
    ) -> None:
        """Keep the visits seen at each site (by their first touchpoint) and the complaints
        made, once each: what the control figures count."""

    async def case_timeline(self, case_id: str) -> list[TimelineRow]:
        """What happened to the case, in time order."""

    async def fold_tiers(self, tiers: Sequence[tuple[str, str]]) -> None:
        """Keep each customer's latest tier (customer id, tier), in order."""

    async def tiers_of(self, customer_ids: Sequence[str]) -> dict[str, str]:
        """Each customer's tier, theirs or (merged) their survivor's; "" if not ranked."""

    async def fold_contacts(self, changes: Sequence[ContactChange]) -> None:
        """Fold what profile events say about reaching customers, in order; an erased customer's
        contact and staff's notes on their cases are dropped, and they are remembered as
        erased."""

    async def fold_keys(self, changes: Sequence[KeyChange]) -> None:
        """Keep the customers' keys contacts tells, in order; a destroyed key is deleted."""

    async def weigh(
        self, values: Sequence[MomentValue], moment_ids: Sequence[str], policy: RecoveryPolicy
    ) -> None:
        """Keep what lost moments put at risk; every open case of these moments (valued or
        joined) whose value reaches the policy's escalate_at_risk and was not escalated for it
        yet goes to the duty manager: a step_in step added, its event and task in the outbox."""


OPENING_COLUMNS = (
    "playbook",
    "case_id",
    "customer_id",
    "visit_id",
    "site_id",
    "opening_moment_id",
    "stage",
    "reason",
    "opened_at",
    "due_at",
)

OPEN_CASES = """
INSERT INTO notify.cases (case_id, customer_id, visit_id, site_id, status, opening_moment_id,
                          stage, reason, opened_at, due_at, playbook, last_moment_at)
SELECT case_id, customer_id, visit_id, site_id, 'open', opening_moment_id, stage, reason,
       opened_at, due_at, playbook, opened_at
FROM unnest(
    %(playbook)b::text[],
    %(case_id)b::text[], %(customer_id)b::text[], %(visit_id)b::text[], %(site_id)b::text[],
    %(opening_moment_id)b::text[], %(stage)b::text[], %(reason)b::text[],
    %(opened_at)b::timestamptz[], %(due_at)b::timestamptz[]
) AS t(playbook, case_id, customer_id, visit_id, site_id, opening_moment_id, stage, reason,
       opened_at, due_at)
ORDER BY case_id
ON CONFLICT (case_id) DO NOTHING
RETURNING case_id
"""
# A case's steps as laid out, on notify's clock while the case is open (outcome_rows.py
# STEPS_FOLLOW_STATUS): an earlier lost moment heard after the clock closed its case as lost
# lays the steps out again, off the clock as they were.
SAVE_STEPS = """
INSERT INTO notify.case_steps (case_id, n, action, owner, channel, due_at, on_clock)
SELECT t.*, c.status = 'open'
FROM unnest(
    %(case_id)b::text[], %(n)b::int[], %(action)b::text[], %(owner)b::text[],
    %(channel)b::text[], %(due_at)b::timestamptz[]
) AS t(case_id, n, action, owner, channel, due_at)
JOIN notify.cases c USING (case_id)
ON CONFLICT (case_id, n) DO NOTHING
"""
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
    UPDATE notify.cases SET status = 'recovered', resolved_by = %(by)s, resolved_at = %(at)s,
                            resolved_note = %(note)s, recovered_at = coalesce(recovered_at, %(at)s)
    WHERE case_id = %(case_id)s
    RETURNING case_id, status
), {STEPS_FOLLOW_STATUS.format(changed="resolved")}
SELECT 1
"""

JOIN_MOMENTS = """
INSERT INTO notify.case_moments
SELECT * FROM unnest(
    %(moment_id)b::text[], %(case_id)b::text[], %(stage)b::text[], %(reason)b::text[],
    %(occurred_at)b::timestamptz[]
)
ON CONFLICT (moment_id) DO NOTHING
"""
# A later lost moment moves the case's last one, and a lost case's lost_at with it (it is always
# last_moment_at + lost_after: overdue.lost_at), whether it came before the clock closed the case
# or after, as a backlog's may
LATEST_MOMENTS = """
UPDATE notify.cases c SET last_moment_at = j.at, lost_at = c.lost_at + (j.at - c.last_moment_at)
FROM (SELECT case_id, max(occurred_at) AS at
      FROM unnest(%(case_id)b::text[], %(occurred_at)b::timestamptz[]) AS t(case_id, occurred_at)
      GROUP BY case_id) j
WHERE c.case_id = j.case_id AND j.at > c.last_moment_at
"""

CASE_COLUMNS = (
    "case_id, customer_id, visit_id, site_id, status, opening_moment_id, opened_at, due_at"
)
FULL_CASE_COLUMNS = (
    f"{CASE_COLUMNS}, recovered_at, coalesce(recovered_by, ''), playbook,"
    " coalesce(resolved_by, ''), coalesce(val.minor, 0), coalesce(val.currency, ''),"
    " returned_at, coalesce(returned_by, ''), val.minor IS NOT NULL"
)
# Each moment's value, looked up by its key: the OFFSET 0 keeps the planner from joining every
# stored value at once, which a plan cached while the table was small chooses (a hash join over
# all of moment_values for each case: work that grew with history, and held case locks long)
MOMENT_VALUE = """
CROSS JOIN LATERAL (
    SELECT v.currency, v.value_at_risk_minor FROM notify.moment_values v
    WHERE v.moment_id = m.moment_id OFFSET 0
) v
"""
# Each case's value at risk: its lost moments' values, in its largest currency (domain.case_value).
WITH_VALUE = f"""
notify.cases LEFT JOIN LATERAL (
    SELECT v.currency, sum(v.value_at_risk_minor)::bigint AS minor
    FROM notify.case_moments m {MOMENT_VALUE}
    WHERE m.case_id = cases.case_id
    GROUP BY v.currency ORDER BY minor DESC, v.currency LIMIT 1
) val ON true
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
SELECT_CASES_OF_MOMENTS = f"""
SELECT m.moment_id, {", ".join("c." + c.strip() for c in CASE_COLUMNS.split(","))}
FROM notify.case_moments m JOIN notify.cases c USING (case_id)
WHERE m.moment_id = ANY(%b)
"""

SELECT_CASE_PAGE = sql.SQL(f"""
SELECT {FULL_CASE_COLUMNS}, (SELECT count(*) FROM notify.cases WHERE true {{filters}})
FROM {WITH_VALUE}
WHERE (opened_at, case_id) > (%(after_time)s::timestamptz, %(after_id)s::text) {{filters}}
ORDER BY opened_at, case_id
LIMIT %(limit)s
""")

SELECT_CASES = f"SELECT {FULL_CASE_COLUMNS} FROM {WITH_VALUE} WHERE case_id = ANY(%b)"
SELECT_CASES_MOMENTS = """
SELECT case_id, moment_id, reason FROM notify.case_moments WHERE case_id = ANY(%b)
ORDER BY case_id, occurred_at, moment_id
"""
SELECT_CASES_STEPS = """
SELECT case_id, n, action, owner, channel, due_at, status, taken_by, escalated_at IS NOT NULL,
       taken_at
FROM notify.case_steps WHERE case_id = ANY(%b) ORDER BY case_id, n
"""
SELECT_CASES_DELIVERIES = """
SELECT case_id, delivery_id, n, channel, action, status, reason, attempts, sent_at, language
FROM notify.deliveries WHERE case_id = ANY(%b) ORDER BY case_id, n, channel
"""

SELECT_PAGE_MOMENTS = """
SELECT case_id, array_agg(moment_id ORDER BY occurred_at, moment_id),
       array_agg(reason ORDER BY occurred_at, moment_id)
FROM notify.case_moments WHERE case_id = ANY(%b) GROUP BY case_id
"""


OWNED_BY = sql.SQL("""
AND status = 'open' AND EXISTS (
    SELECT 1 FROM notify.case_steps s
    WHERE s.case_id = cases.case_id AND s.status <> 'done'
      AND (s.owner = %(owner)s OR (%(owner)s = 'duty_manager' AND s.escalated_at IS NOT NULL)))
""")
OVERDUE = sql.SQL("""
AND status = 'open' AND EXISTS (
    SELECT 1 FROM notify.case_steps s
    WHERE s.case_id = cases.case_id AND s.owner <> 'system' AND s.status <> 'done'
      AND s.due_at < %(overdue_at)s)
""")


WORTH = sql.SQL(f"""
AND EXISTS (
    SELECT 1 FROM notify.case_moments m {MOMENT_VALUE}
    WHERE m.case_id = cases.case_id
    GROUP BY v.currency HAVING sum(v.value_at_risk_minor) >= %(min_value_at_risk_minor)s)
""")


def _filters(where: CaseFilter) -> sql.Composable:
    equal = equality_filters(where, ("customer_id", "site_id", "status"), SCHEMA)
    owned = OWNED_BY if where.owner else sql.SQL("")
    overdue = OVERDUE if where.overdue_at is not None else sql.SQL("")
    worth = WORTH if where.min_value_at_risk_minor > 0 else sql.SQL("")
    return sql.Composed([equal, owned, overdue, worth])


class PostgresNotifyStore(PostgresCustomerLinks):
    """NotifyStore on Postgres (schema notify)."""

    links_schema = SCHEMA

    def __init__(
        self, pool: AsyncConnectionPool, outcome_event: OutcomeEvent | None = None
    ) -> None:
        self.pool = pool
        self.outcome_event = outcome_event or case_recovered  # what a recovered case publishes

    async def open_or_join(
        self, openings: Sequence[CaseOpening], moments: Sequence[LostMoment]
    ) -> dict[str, CaseRow]:
        if not moments:
            return {}
        joins = {
            "moment_id": [m.moment_id for m in moments],
            "case_id": [o.case_id for o in openings],
            "stage": [m.stage for m in moments],
            "reason": [m.reason for m in moments],
            "occurred_at": [m.occurred_at for m in moments],
        }
        first = earliest_openings(openings)
        async with self.pool.connection() as conn, conn.transaction():
            opened = await (
                await conn.execute(OPEN_CASES, columns(first, OPENING_COLUMNS))
            ).fetchall()
            new = {case_id for (case_id,) in opened}
            moved = await moved_openings(conn, [o for o in first if o.case_id not in new])
            plans = {o.case_id: o.steps for o in first if o.case_id in new}
            plans |= {case_id: plan for case_id, (plan, _) in moved.items()}
            steps = [(case_id, step) for case_id, plan in plans.items() for step in plan]
            if steps:
                await conn.execute(SAVE_STEPS, step_columns(steps))
            deliveries = [
                d
                for o in first
                if o.case_id in plans
                for d in planned_deliveries(
                    o.case_id, o.customer_id, o.site_id, o.opened_at, o.steps
                )
            ]
            if deliveries:
                await conn.execute(SAVE_DELIVERIES, columns(deliveries, DELIVERY_COLUMNS))
            await conn.execute(JOIN_MOMENTS, joins)
            await conn.execute(LATEST_MOMENTS, joins)
            rows = await (
                await conn.execute(SELECT_CASES_OF_MOMENTS, (joins["moment_id"],))
            ).fetchall()
        gone = {case_id: taken_off for case_id, (_, taken_off) in moved.items()}
        return {row[0]: as_laid_out(CaseRow(*row[1:]), plans, gone) for row in rows}

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
            decided = [outcome_of(row) for row in rows]
            outcomes = [outcome for outcome, _ in decided]
            await conn.execute(SAVE_OUTCOMES, outcome_columns(decided))
            kept = {row[0]: (row[4], row[10]) for row in rows}  # status, recovered_by before
            moved = {o.case_id for o in outcomes if outcome_key(o) != kept[o.case_id]}
            news = [self.outcome_event(o) for o in outcomes_to_tell(outcomes, moved, joined)]
            cases = await load_cases(conn, sorted(moved))
            for case_id in sorted(moved):  # their tasks open again, or are cancelled
                case = cases[case_id]  # locked above
                news.extend(task_records(case, case.recovered_at or case.opened_at))
            await add_to_outbox(conn, SCHEMA, news)

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        await super().fold_links(changes)
        linked = [c for change in changes for c in (change.survivor_id, change.absorbed_id)]
        await self._settle([], linked, [], everything=True)

    async def list_cases(
        self, where: CaseFilter, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[CaseRow], int]:
        after_time, after_id = after or (BEGINNING, "")
        query = SELECT_CASE_PAGE.format(filters=_filters(where))
        params = {**vars(where), "after_time": after_time, "after_id": after_id, "limit": limit}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
            if not rows:
                total_query = sql.SQL("SELECT count(*) FROM notify.cases WHERE true {}").format(
                    _filters(where)
                )
                total_row = await (await conn.execute(total_query, vars(where))).fetchone()
                return [], int(total_row[0]) if total_row else 0
            cases = [case_row(row[:-1]) for row in rows]
            found = await conn.execute(SELECT_PAGE_MOMENTS, ([c.case_id for c in cases],))
            joined = {case_id: (ids, reasons) for case_id, ids, reasons in await found.fetchall()}
        listed = [
            replace(c, moment_ids=tuple(joined[c.case_id][0]), reasons=tuple(joined[c.case_id][1]))
            if c.case_id in joined
            else c
            for c in cases
        ]
        return listed, int(rows[0][-1])

    async def get_case(self, case_id: str) -> CaseRow | None:
        async with self.pool.connection() as conn:
            return await load_case(conn, case_id)

    async def take_step(self, command: StepCommand, at: datetime, event: StepEvent) -> CaseRow:
        async with self.pool.connection() as conn, conn.transaction():
            case = await self._locked(conn, command.case_id)
            if case.status == "lost":
                raise CaseClosed(f"case {case.case_id} was closed as lost")
            step = next((s for s in case.steps if s.n == command.n), None)
            if step is None:
                raise UnknownStep(f"case {case.case_id} has no step {command.n}")
            erased = await is_erased(conn, case.customer_id)
            command = replace(command, note=note_kept(command.note, erased))
            if step_moves(step.status, command.completed):
                status = "done" if command.completed else "acknowledged"
                params = {**vars(command), "status": status, "at": at}
                await conn.execute(SAVE_STEP, params)
                now = await self._locked(conn, command.case_id)
                news = [event(case, step, command, at), *task_records(now, at, command.n)]
                await add_to_outbox(conn, SCHEMA, news)
                return now
            return case

    async def resolve(
        self, case_id: str, by: str, note: str, at: datetime, event: ResolveEvent
    ) -> CaseRow:
        async with self.pool.connection() as conn, conn.transaction():
            case = await self._locked(conn, case_id)
            if not case.resolved_by:
                note = note_kept(note, await is_erased(conn, case.customer_id))
                params = {"case_id": case_id, "by": by, "at": at, "note": note}
                await conn.execute(RESOLVE, params)
                resolved = await self._locked(conn, case_id)
                news = [event(resolved, at), *task_records(resolved, at)]
                await add_to_outbox(conn, SCHEMA, news)
                return resolved
            return case

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
            rows = await (await conn.execute(TIMELINE, {"case_id": case_id})).fetchall()
        return [TimelineRow(*row) for row in rows]

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
        if not changes:
            return
        async with self.pool.connection() as conn, conn.transaction():
            ids = sorted({c.customer_id for c in changes})
            rows = await (await conn.execute(CONTACTS_OF, (ids,))).fetchall()
            known = {row[0]: contact_row(row) for row in rows}
            erased: set[str] = set()
            for change in changes:
                if change.erased:
                    known.pop(change.customer_id, None)
                    erased.add(change.customer_id)
                else:
                    erased.discard(change.customer_id)
                    contact = known.get(change.customer_id, Contact(change.customer_id))
                    known[change.customer_id] = folded(contact, change)
            if erased:
                await conn.execute(ERASE_CONTACTS, {"ids": sorted(erased)})
                await conn.execute(FORGET_HASHES, (sorted(erased),))
                await conn.execute(FORGET_NOTES, {"ids": sorted(erased)})
                await conn.execute(DESTROY_KEYS, (sorted(erased),))
            kept = [c for c in known.values() if c.customer_id not in erased]
            if kept:
                params = columns(kept, [f for f in vars(kept[0]) if f != "channels"])
                params["channels"] = [",".join(c.channels) for c in kept]
                await conn.execute(SAVE_CONTACTS, params)

    async def fold_keys(self, changes: Sequence[KeyChange]) -> None:
        latest = {c.customer_id: c.key for c in changes}  # in order: the last one holds
        kept = sorted((c, k) for c, k in latest.items() if k)
        destroyed = sorted(c for c, k in latest.items() if not k)
        if not latest:
            return
        async with self.pool.connection() as conn, conn.transaction():
            if kept:
                params = {"customer_id": [c for c, _ in kept], "key": [k for _, k in kept]}
                await conn.execute(SAVE_KEYS, params)
            if destroyed:
                await conn.execute(DESTROY_KEYS, (destroyed,))

    async def weigh(
        self, values: Sequence[MomentValue], moment_ids: Sequence[str], policy: RecoveryPolicy
    ) -> None:
        ids = sorted({*moment_ids, *(v.moment_id for v in values)})
        if not ids:
            return
        async with self.pool.connection() as conn, conn.transaction():
            # a moment's value and the moment itself may reach two workers at once: whichever
            # weighs second sees what the first wrote
            await conn.execute(LOCK_MOMENTS, (ids,))
            if values:
                latest = list({v.moment_id: v for v in values}.values())  # one row per moment
                names = ("moment_id", "currency", "value_at_risk_minor")
                await conn.execute(SAVE_VALUES, columns(latest, names))
            locked = await (await conn.execute(CASES_TO_WEIGH, (ids,))).fetchall()
            cases = [case_id for (case_id,) in locked]
            if not cases:
                return
            totals: dict[str, dict[str, int]] = {}
            tipped_at: dict[str, datetime] = {}
            for case_id, currency, minor, latest in await (
                await conn.execute(CASE_TOTALS, (cases,))
            ).fetchall():
                totals.setdefault(case_id, {})[currency] = minor
                tipped_at[case_id] = max(tipped_at.get(case_id, latest), latest)
            news: list[Outgoing] = []
            for case_id in cases:
                value = case_value(totals.get(case_id, {}))
                if value is None or not escalates_for_value(value, policy):
                    continue
                added = await (await conn.execute(STEP_IN, (case_id,))).fetchone()
                await conn.execute(MARK_VALUE_ESCALATED, (case_id,))
                case = await load_case(conn, case_id)
                assert case is not None and added is not None  # locked above
                step = next(s for s in case.steps if s.n == added[0])
                at = tipped_at[case_id]
                news.append(case_escalated(case, step, at, value))
                news.extend(task_records(case, at, step.n))
            await add_to_outbox(conn, SCHEMA, news)

    async def case_counts(self, now: datetime) -> tuple[dict[str, int], int]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(CASE_COUNTS)).fetchall()
            late = await (await conn.execute(OVERDUE_COUNT, (now,))).fetchone()
        return {status: int(n) for status, n in rows}, int(late[0]) if late else 0

    async def sweep(self, now: datetime, policy: RecoveryPolicy) -> Swept:
        """Tell the steps people are late with and escalate those late enough, close as lost
        the cases no win recovered in time, and forget wins too old to matter (PRUNE_WINS);
        each decision
        with its events (and the tasks it changes) in the outbox, in one transaction per batch.
        Cases another transaction holds are left for the next sweep."""
        total = Swept()
        while True:
            async with self.pool.connection() as conn, conn.transaction():
                swept = await self._sweep_steps(conn, now, policy)
                swept += await self._sweep_lost(conn, now, policy)
            total += swept
            if swept.due + swept.escalated + swept.lost == 0:
                break
        async with self.pool.connection() as conn:
            keep = 2 * policy.lost_after
            pruned = await conn.execute(PRUNE_WINS, {"now": now, "keep": keep})
        return total + Swept(pruned_wins=pruned.rowcount)

    async def _sweep_steps(
        self, conn: AsyncConnection, now: datetime, policy: RecoveryPolicy
    ) -> Swept:
        params = {"now": now, "escalate_before": now - policy.escalate_after, "limit": SWEEP_BATCH}
        rows = await (await conn.execute(STEPS_ON_CLOCK, params)).fetchall()
        steps = [StepOnClock(*row) for row in rows]
        due = [s for s in steps if falls_due(s, now)]
        escalated = [s for s in steps if escalates(s, now, policy)]
        escalating = {(s.case_id, s.n) for s in escalated}
        told = {(s.case_id, s.n): (s.case_id, s.n) in escalating for s in [*due, *escalated]}
        if not told:
            return Swept()
        marks = {
            "case_id": [case_id for case_id, _ in told],
            "n": [n for _, n in told],
            "escalate": list(told.values()),
            "now": now,
        }
        await conn.execute(MARK_STEPS, marks)
        news: list[Outgoing] = []
        cases = await load_cases(conn, [case_id for case_id, _ in told])
        falling_due = {(s.case_id, s.n) for s in due}
        for case_id in sorted({case_id for case_id, _ in told}):
            case = cases[case_id]  # locked above
            for step in case.steps:
                if (case_id, step.n) in falling_due:
                    news.append(step_due(case, step, now))
                if (case_id, step.n) in escalating:
                    news.append(case_escalated(case, step, now))
                    news.extend(task_records(case, now, step.n))
        await add_to_outbox(conn, SCHEMA, news)
        return Swept(due=len(due), escalated=len(escalated))

    async def _sweep_lost(
        self, conn: AsyncConnection, now: datetime, policy: RecoveryPolicy
    ) -> Swept:
        params = {"lost_before": now - policy.lost_after, "limit": SWEEP_BATCH}
        ids = [
            case_id for (case_id,) in await (await conn.execute(LOSABLE_CASES, params)).fetchall()
        ]
        if not ids:
            return Swept()
        marked = await conn.execute(MARK_LOST, {"case_id": ids, "lost_after": policy.lost_after})
        news: list[Outgoing] = []
        lost = sorted(await marked.fetchall())
        cases = await load_cases(conn, [case_id for case_id, _ in lost])
        for case_id, at in lost:
            case = cases[case_id]  # locked above
            news.extend([case_lost(case, at), *task_records(case, at)])
        await add_to_outbox(conn, SCHEMA, news)
        return Swept(lost=len(ids))

    async def _locked(self, conn: AsyncConnection, case_id: str) -> CaseRow:
        """The case, locked until the transaction ends; UnknownCase if there is none."""
        await conn.execute(LOCK_CASE, (case_id,))
        case = await load_case(conn, case_id)
        if case is None:
            raise UnknownCase(f"case {case_id} not found")
        return case


SAVE_VALUES = """
INSERT INTO notify.moment_values AS v (moment_id, currency, value_at_risk_minor)
SELECT * FROM unnest(%(moment_id)b::text[], %(currency)b::text[], %(value_at_risk_minor)b::bigint[])
ON CONFLICT (moment_id) DO UPDATE
SET currency = excluded.currency, value_at_risk_minor = excluded.value_at_risk_minor
"""
# The open cases of these moments not yet escalated for their value, locked; then their values.
CASES_TO_WEIGH = """
SELECT c.case_id FROM notify.cases c
WHERE c.case_id IN (SELECT case_id FROM notify.case_moments WHERE moment_id = ANY(%b))
  AND c.status = 'open' AND NOT c.value_escalated
ORDER BY c.case_id
FOR NO KEY UPDATE
"""
CASE_TOTALS = f"""
SELECT m.case_id, v.currency, sum(v.value_at_risk_minor)::bigint, max(m.occurred_at)
FROM notify.case_moments m {MOMENT_VALUE}
WHERE m.case_id = ANY(%b)
GROUP BY m.case_id, v.currency
"""
STEP_IN = """
INSERT INTO notify.case_steps (case_id, n, action, owner, channel, due_at)
SELECT c.case_id, coalesce(max(s.n), 0) + 1, 'step_in', 'duty_manager', 'in_person', c.due_at
FROM notify.cases c LEFT JOIN notify.case_steps s USING (case_id)
WHERE c.case_id = %s
GROUP BY c.case_id, c.due_at
RETURNING n
"""
MARK_VALUE_ESCALATED = "UPDATE notify.cases SET value_escalated = true WHERE case_id = %s"

DELIVERY_COLUMNS = tuple(PlannedDelivery.__dataclass_fields__)
SAVE_DELIVERIES = f"""
INSERT INTO notify.deliveries ({", ".join(DELIVERY_COLUMNS)})
SELECT * FROM unnest(
    %(delivery_id)b::text[], %(case_id)b::text[], %(n)b::int[], %(channel)b::text[],
    %(action)b::text[], %(customer_id)b::text[], %(site_id)b::text[],
    %(moment_at)b::timestamptz[], %(next_attempt_at)b::timestamptz[]
)
ON CONFLICT (delivery_id) DO NOTHING
"""
CONTACTS_OF = """
SELECT customer_id, email, language, channels, quiet_start, quiet_end, time_zone, sealed_email
FROM notify.contacts WHERE customer_id = ANY(%b)
"""
SAVE_CONTACTS = """
INSERT INTO notify.contacts AS c (customer_id, email, language, channels, quiet_start, quiet_end,
                                  time_zone, sealed_email)
SELECT customer_id, email, language, string_to_array(channels, ','), quiet_start, quiet_end,
       time_zone, sealed_email
FROM unnest(%(customer_id)b::text[], %(email)b::text[], %(language)b::text[],
            %(channels)b::text[], %(quiet_start)b::text[], %(quiet_end)b::text[],
            %(time_zone)b::text[], %(sealed_email)b::bytea[])
    AS t(customer_id, email, language, channels, quiet_start, quiet_end, time_zone, sealed_email)
ON CONFLICT (customer_id) DO UPDATE
SET email = excluded.email, language = excluded.language, channels = excluded.channels,
    quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
    time_zone = excluded.time_zone, sealed_email = excluded.sealed_email
"""
SAVE_KEYS = """
INSERT INTO notify.customer_keys (customer_id, key)
SELECT * FROM unnest(%(customer_id)b::text[], %(key)b::bytea[])
ON CONFLICT (customer_id) DO UPDATE SET key = excluded.key
"""
DESTROY_KEYS = "DELETE FROM notify.customer_keys WHERE customer_id = ANY(%b)"
ERASE_CONTACTS = """
WITH gone AS (DELETE FROM notify.contacts WHERE customer_id = ANY(%(ids)b))
INSERT INTO notify.erased_customers SELECT unnest(%(ids)b::text[]) ON CONFLICT DO NOTHING
"""

# A hash of an address and a known text would let a guess of the address be confirmed.
FORGET_HASHES = "UPDATE notify.deliveries SET content_hash = '' WHERE customer_id = ANY(%b)"
# staff's free text on an erased customer's cases (it may say anything about them); who did what
# and when stays: those are staff's records, not the customer's
FORGET_NOTES = """
WITH steps AS (
    UPDATE notify.case_steps s SET note = '' FROM notify.cases c
    WHERE s.case_id = c.case_id AND c.customer_id = ANY(%(ids)b) AND s.note <> ''
)
UPDATE notify.cases SET resolved_note = '' WHERE customer_id = ANY(%(ids)b) AND resolved_note <> ''
"""
TIMELINE = """
SELECT occurred_at, 'lost_moment', 0, reason FROM notify.case_moments WHERE case_id = %(case_id)s
UNION ALL
SELECT due_at, 'step_due', n, action FROM notify.case_steps
WHERE case_id = %(case_id)s AND due_told
UNION ALL
SELECT first_taken_at,
       CASE WHEN status = 'done' AND first_taken_at = taken_at THEN 'step_done'
            ELSE 'step_acknowledged' END,
       n, taken_by
FROM notify.case_steps WHERE case_id = %(case_id)s AND first_taken_at IS NOT NULL
UNION ALL
SELECT taken_at, 'step_done', n, taken_by FROM notify.case_steps
WHERE case_id = %(case_id)s AND status = 'done' AND taken_at > first_taken_at
UNION ALL
SELECT escalated_at, 'escalated', n, 'overdue_step' FROM notify.case_steps
WHERE case_id = %(case_id)s AND escalated_at IS NOT NULL
UNION ALL
SELECT sent_at, 'message_sent', n, channel FROM notify.deliveries
WHERE case_id = %(case_id)s AND sent_at IS NOT NULL
UNION ALL
SELECT recovered_at, 'recovered', 0, recovered_by FROM notify.cases
WHERE case_id = %(case_id)s AND recovered_by IS NOT NULL AND status = 'recovered'
UNION ALL
SELECT resolved_at, 'resolved', 0, resolved_by FROM notify.cases
WHERE case_id = %(case_id)s AND resolved_by IS NOT NULL
UNION ALL
SELECT lost_at, 'lost', 0, '' FROM notify.cases WHERE case_id = %(case_id)s AND status = 'lost'
ORDER BY 1, 3, 2
"""
LOCK_MOMENTS = """
SELECT pg_advisory_xact_lock(hashtext('notify.moment:' || m)) FROM unnest(%b::text[]) AS m
ORDER BY m
"""
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

CASE_COUNTS = "SELECT status, count(*) FROM notify.cases GROUP BY status"
OVERDUE_COUNT = """
SELECT count(*) FROM notify.case_steps s JOIN notify.cases c USING (case_id)
WHERE c.status = 'open' AND s.owner <> 'system' AND s.status <> 'done' AND s.due_at < %s
"""

SWEEP_BATCH = 500
STEPS_ON_CLOCK = """
SELECT s.case_id, s.n, s.owner, s.due_at, s.status, s.due_told, s.escalated_at IS NOT NULL
FROM notify.case_steps s JOIN notify.cases c USING (case_id)
WHERE c.status = 'open' AND s.on_clock AND s.owner <> 'system' AND s.status <> 'done'
  AND s.escalated_at IS NULL AND s.due_at <= %(now)s
  AND (NOT s.due_told OR (s.owner = 'staff' AND s.due_at <= %(escalate_before)s))
ORDER BY s.due_at, s.case_id, s.n
LIMIT %(limit)s
FOR NO KEY UPDATE OF c SKIP LOCKED
"""
MARK_STEPS = """
UPDATE notify.case_steps s SET due_told = true,
    escalated_at = CASE WHEN t.escalate THEN %(now)s ELSE s.escalated_at END
FROM unnest(%(case_id)b::text[], %(n)b::int[], %(escalate)b::bool[]) AS t(case_id, n, escalate)
WHERE s.case_id = t.case_id AND s.n = t.n
"""
LOSABLE_CASES = """
SELECT case_id FROM notify.cases
WHERE status = 'open' AND last_moment_at <= %(lost_before)s
ORDER BY last_moment_at, case_id
LIMIT %(limit)s
FOR NO KEY UPDATE SKIP LOCKED
"""
MARK_LOST = f"""
WITH lost AS (
    UPDATE notify.cases SET status = 'lost', lost_at = last_moment_at + %(lost_after)s
    WHERE case_id = ANY(%(case_id)b)
    RETURNING case_id, status, lost_at
), {STEPS_FOLLOW_STATUS.format(changed="lost")}
SELECT case_id, lost_at FROM lost
"""
# Wins too old to matter: older by `keep` than both the wall clock and the latest win notify has
# seen, so a backlog or a replay of months-old touchpoints keeps the wins its own cases need
# (by the wall clock alone, whichever cases were decided before the sweep saw different wins)
PRUNE_WINS = """
DELETE FROM notify.wins w
WHERE w.occurred_at < least(%(now)s, (SELECT max(occurred_at) FROM notify.wins)) - %(keep)s
  AND NOT EXISTS (SELECT 1 FROM notify.cases c WHERE c.recovered_by = w.moment_id)
"""


@dataclass(frozen=True)
class Swept:
    """What one sweep of the clock told."""

    due: int = 0  # steps told late
    escalated: int = 0  # steps escalated to the duty manager
    lost: int = 0  # cases closed as lost
    pruned_wins: int = 0  # wins too old to recover any case

    def __add__(self, other: Swept) -> Swept:
        return Swept(
            *(a + b for a, b in zip(vars(self).values(), vars(other).values(), strict=True))
        )


async def load_case(conn: AsyncConnection, case_id: str) -> CaseRow | None:
    """The case with its moments, steps and deliveries, or None."""
    return (await load_cases(conn, [case_id])).get(case_id)


async def load_cases(conn: AsyncConnection, case_ids: Sequence[str]) -> dict[str, CaseRow]:
    """The cases with their moments, steps and deliveries, by id (those that exist): four
    statements for any number of cases."""
    ids = sorted(set(case_ids))
    rows = await (await conn.execute(SELECT_CASES, (ids,))).fetchall()
    if not rows:
        return {}
    moments: dict[str, list[tuple[str, str]]] = {}
    for case_id, moment_id, reason in await (
        await conn.execute(SELECT_CASES_MOMENTS, (ids,))
    ).fetchall():
        moments.setdefault(case_id, []).append((moment_id, reason))
    steps: dict[str, list[PlannedStep]] = {}
    for case_id, *step in await (await conn.execute(SELECT_CASES_STEPS, (ids,))).fetchall():
        steps.setdefault(case_id, []).append(PlannedStep(*step))
    deliveries: dict[str, list[DeliveryRow]] = {}
    for case_id, *delivery in await (
        await conn.execute(SELECT_CASES_DELIVERIES, (ids,))
    ).fetchall():
        deliveries.setdefault(case_id, []).append(DeliveryRow(*delivery))
    cases = {}
    for row in rows:
        case = case_row(row)
        joined = moments.get(case.case_id, [])
        cases[case.case_id] = replace(
            case,
            deliveries=tuple(deliveries.get(case.case_id, ())),
            steps=tuple(steps.get(case.case_id, ())),
            moment_ids=tuple(m for m, _ in joined),
            reasons=tuple(r for _, r in joined),
        )
    return cases


def contact_row(row: Sequence[Any]) -> Contact:
    """A contact as CONTACTS_OF reads it."""
    customer_id, email, language, channels, quiet_start, quiet_end, time_zone, sealed = row
    return Contact(
        customer_id,
        email,
        language,
        tuple(channels),
        quiet_start,
        quiet_end,
        time_zone,
        bytes(sealed),
    )


def case_row(row: Sequence[Any]) -> CaseRow:
    """A case as FULL_CASE_COLUMNS reads it (without its moments and steps)."""
    *kept, recovered_at, recovered_by, playbook, resolved_by, value_minor, currency = row[:-3]
    returned_at, returned_by, valued = row[-3:]
    return replace(
        CaseRow(*kept),
        returned_at=returned_at,
        returned_by=returned_by,
        valued=valued,
        recovered_at=recovered_at,
        recovered_by=recovered_by,
        playbook=playbook,
        resolved_by=resolved_by,
        value_at_risk_minor=value_minor,
        currency=currency,
    )


def step_columns(steps: Sequence[tuple[str, PlannedStep]]) -> dict[str, list[object]]:
    """SAVE_STEPS' column arrays, from (case id, step)."""
    params: dict[str, list[object]] = {"case_id": [case_id for case_id, _ in steps]}
    for name in ("n", "action", "owner", "channel", "due_at"):
        params[name] = [getattr(step, name) for _, step in steps]
    return params
