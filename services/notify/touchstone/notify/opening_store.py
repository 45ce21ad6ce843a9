"""Notify's case openings in Postgres: each lost moment opens its visit's case or joins it; a case
opened by a later lost moment moves to an earlier one heard after it (notify/openings.py decides
when), its steps and unsent messages laid out again from that moment."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection

from touchstone.notify.case_tables import CASE_COLUMNS, SAVE_STEPS, step_columns
from touchstone.notify.deliveries import PlannedDelivery
from touchstone.notify.domain import CaseOpening, LostMoment
from touchstone.notify.openings import HeldCase, LayOut, as_laid_out
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseRow
from touchstone.platform.persistence.pg import columns

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

SELECT_CASES_OF_MOMENTS = f"""
SELECT m.moment_id, {", ".join("c." + c.strip() for c in CASE_COLUMNS.split(","))}
FROM notify.case_moments m JOIN notify.cases c USING (case_id)
WHERE m.moment_id = ANY(%b)
"""
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
# One batch at a time lays out a case: the cases its openings name, locked by id (whether or not
# they exist yet), so that two workers never both open or move one.
LOCK_CASES = """
SELECT pg_advisory_xact_lock(hashtext('notify.case:' || id))
FROM unnest(%b::text[]) AS id ORDER BY id
"""
LOAD_HELD = """
SELECT c.case_id, c.opened_at, c.opening_moment_id, c.resolved_by IS NOT NULL,
       array(SELECT d.status FROM notify.deliveries d WHERE d.case_id = c.case_id)
FROM notify.cases c WHERE c.case_id = ANY(%b)
ORDER BY c.case_id
FOR NO KEY UPDATE OF c
"""
LOAD_STEPS = """
SELECT case_id, n, action, owner, channel, due_at, status, taken_by, escalated_at IS NOT NULL,
       taken_at
FROM notify.case_steps WHERE case_id = ANY(%b) ORDER BY case_id, n
"""
MOVED_COLUMNS = (
    "case_id",
    "opening_moment_id",
    "stage",
    "reason",
    "opened_at",
    "due_at",
    "playbook",
)
MOVE_OPENINGS = """
UPDATE notify.cases c SET opening_moment_id = o.opening_moment_id, stage = o.stage,
                          reason = o.reason, opened_at = o.opened_at, due_at = o.due_at,
                          playbook = o.playbook
FROM unnest(
    %(case_id)b::text[], %(opening_moment_id)b::text[], %(stage)b::text[], %(reason)b::text[],
    %(opened_at)b::timestamptz[], %(due_at)b::timestamptz[], %(playbook)b::text[]
) AS o(case_id, opening_moment_id, stage, reason, opened_at, due_at, playbook)
WHERE c.case_id = o.case_id
"""
DROP_STEPS = "DELETE FROM notify.case_steps WHERE case_id = ANY(%b)"
DROP_DELIVERIES = "DELETE FROM notify.deliveries WHERE case_id = ANY(%b)"


async def held_cases(conn: AsyncConnection, case_ids: Sequence[str]) -> dict[str, HeldCase]:
    """The cases of these ids that exist, locked, with their steps and messages' statuses."""
    ids = sorted(set(case_ids))
    rows = await (await conn.execute(LOAD_HELD, (ids,))).fetchall()
    if not rows:
        return {}
    steps: dict[str, list[PlannedStep]] = {}
    for case_id, *step in await (await conn.execute(LOAD_STEPS, (ids,))).fetchall():
        steps.setdefault(case_id, []).append(PlannedStep(*step))
    return {
        case_id: HeldCase(
            case_id, at, moment_id, resolved, tuple(steps.get(case_id, ())), tuple(sent)
        )
        for case_id, at, moment_id, resolved, sent in rows
    }


async def open_or_join(
    conn: AsyncConnection,
    openings: Sequence[CaseOpening],
    moments: Sequence[LostMoment],
    lay_out: LayOut,
) -> dict[str, CaseRow]:
    """Hand the openings and the cases they name (locked) to lay_out, write the plan it makes
    (cases opened or moved, their steps and messages), join the moments to their cases; each
    moment's case, as laid out now (NotifyStore.open_or_join)."""
    if not moments:
        return {}
    ids = sorted({o.case_id for o in openings})
    await conn.execute(LOCK_CASES, (ids,))
    plan = lay_out(openings, await held_cases(conn, ids))
    if plan.opened:
        await conn.execute(OPEN_CASES, columns(plan.opened, OPENING_COLUMNS))
    if plan.moved:
        moved = [o.case_id for o in plan.moved]
        await conn.execute(MOVE_OPENINGS, columns(plan.moved, MOVED_COLUMNS))
        await conn.execute(DROP_STEPS, (moved,))
        await conn.execute(DROP_DELIVERIES, (moved,))
    steps = [(case_id, step) for case_id, laid in plan.plans.items() for step in laid]
    if steps:
        await conn.execute(SAVE_STEPS, step_columns(steps))
    if plan.deliveries:
        await conn.execute(SAVE_DELIVERIES, columns(plan.deliveries, DELIVERY_COLUMNS))
    joins = {
        "moment_id": [m.moment_id for m in moments],
        "case_id": [o.case_id for o in openings],
        "stage": [m.stage for m in moments],
        "reason": [m.reason for m in moments],
        "occurred_at": [m.occurred_at for m in moments],
    }
    await conn.execute(JOIN_MOMENTS, joins)
    await conn.execute(LATEST_MOMENTS, joins)
    rows = await (await conn.execute(SELECT_CASES_OF_MOMENTS, (joins["moment_id"],))).fetchall()
    return {row[0]: as_laid_out(CaseRow(*row[1:]), plan.plans, plan.taken_off) for row in rows}
