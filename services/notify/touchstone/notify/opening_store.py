"""Notify's case openings in Postgres: a case opened by a later lost moment moves to an earlier
one heard after it (notify/openings.py decides when), its steps and unsent messages laid out
again from that moment."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection

from touchstone.notify.domain import CaseOpening
from touchstone.notify.openings import OpenedCase, moves_opening, replanned, withdrawn
from touchstone.notify.playbooks import PlannedStep
from touchstone.platform.persistence.pg import columns

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
