"""Notify's case openings in Postgres: each lost moment opens its visit's case or joins it; a case
opened by a later lost moment moves to an earlier one heard after it (notify/openings.py decides
when), its steps and unsent messages laid out again from that moment."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection

from touchstone.notify.case_tables import CASE_COLUMNS, SAVE_STEPS, step_columns
from touchstone.notify.deliveries import PlannedDelivery, planned_deliveries
from touchstone.notify.domain import CaseOpening, LostMoment
from touchstone.notify.openings import (
    OpenedCase,
    as_laid_out,
    earliest_openings,
    moves_opening,
    replanned,
    withdrawn,
)
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
LOAD_OPENED = """
SELECT c.case_id, c.opened_at, c.opening_moment_id,
       c.resolved_by IS NOT NULL
       OR EXISTS (SELECT 1 FROM notify.case_steps s
                  WHERE s.case_id = c.case_id AND s.status <> 'pending')
       OR EXISTS (SELECT 1 FROM notify.deliveries d
                  WHERE d.case_id = c.case_id AND d.status IN ('sending', 'sent'))
FROM notify.cases c WHERE c.case_id = ANY(%b)
ORDER BY c.case_id
FOR NO KEY UPDATE OF c
"""
LOAD_STEPS = """
SELECT case_id, n, action, owner, channel, due_at FROM notify.case_steps
WHERE case_id = ANY(%b) ORDER BY case_id, n
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


async def moved_openings(
    conn: AsyncConnection, openings: Sequence[CaseOpening]
) -> dict[str, tuple[tuple[PlannedStep, ...], tuple[PlannedStep, ...]]]:
    """Move the existing cases these openings open instead (their earlier moments); each moved
    case's steps, to be saved with its messages as a new case's are, and the steps the move
    took off it."""
    if not openings:
        return {}
    ids = sorted({o.case_id for o in openings})
    loaded = await (await conn.execute(LOAD_OPENED, (ids,))).fetchall()
    cases = {row[0]: OpenedCase(*row) for row in loaded}
    moving = [o for o in openings if o.case_id in cases and moves_opening(cases[o.case_id], o)]
    if not moving:
        return {}
    moved = [o.case_id for o in moving]
    was: dict[str, list[PlannedStep]] = {}
    for case_id, *step in await (await conn.execute(LOAD_STEPS, (moved,))).fetchall():
        was.setdefault(case_id, []).append(PlannedStep(*step))
    await conn.execute(MOVE_OPENINGS, columns(moving, MOVED_COLUMNS))
    await conn.execute(DROP_STEPS, (moved,))
    await conn.execute(DROP_DELIVERIES, (moved,))
    plans = {o.case_id: replanned(o, was.get(o.case_id, ())) for o in moving}
    return {c: (plan, withdrawn(was.get(c, ()), plan)) for c, plan in plans.items()}


async def open_or_join(
    conn: AsyncConnection, openings: Sequence[CaseOpening], moments: Sequence[LostMoment]
) -> dict[str, CaseRow]:
    """Open new cases, join new moments (NotifyStore.open_or_join); each moment's case."""
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
    opened = await (await conn.execute(OPEN_CASES, columns(first, OPENING_COLUMNS))).fetchall()
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
        for d in planned_deliveries(o.case_id, o.customer_id, o.site_id, o.opened_at, o.steps)
    ]
    if deliveries:
        await conn.execute(SAVE_DELIVERIES, columns(deliveries, DELIVERY_COLUMNS))
    await conn.execute(JOIN_MOMENTS, joins)
    await conn.execute(LATEST_MOMENTS, joins)
    rows = await (await conn.execute(SELECT_CASES_OF_MOMENTS, (joins["moment_id"],))).fetchall()
    gone = {case_id: taken_off for case_id, (_, taken_off) in moved.items()}
    return {row[0]: as_laid_out(CaseRow(*row[1:]), plans, gone) for row in rows}
