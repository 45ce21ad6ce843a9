"""Notify's clock in Postgres: the steps people are late with (told, and escalated when late
enough: overdue.py decides) and the cases no win recovered in time, closed as lost; counts for
the control figures."""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection

from touchstone.notify.case_tables import load_cases
from touchstone.notify.codec import case_escalated, case_lost, step_due
from touchstone.notify.outcome_rows import STEPS_FOLLOW_STATUS
from touchstone.notify.overdue import StepOnClock, escalates, falls_due
from touchstone.notify.playbooks import RecoveryPolicy
from touchstone.notify.ports import Swept
from touchstone.notify.tasks import task_records
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.messaging.topics import Outgoing

SCHEMA = "notify"
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


async def case_counts(conn: AsyncConnection, now: datetime) -> tuple[dict[str, int], int]:
    """Cases by status, and the steps people are late with now."""
    rows = await (await conn.execute(CASE_COUNTS)).fetchall()
    late = await (await conn.execute(OVERDUE_COUNT, (now,))).fetchone()
    return {status: int(n) for status, n in rows}, int(late[0]) if late else 0


async def sweep_steps(conn: AsyncConnection, now: datetime, policy: RecoveryPolicy) -> Swept:
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


async def sweep_lost(conn: AsyncConnection, now: datetime, policy: RecoveryPolicy) -> Swept:
    params = {"lost_before": now - policy.lost_after, "limit": SWEEP_BATCH}
    ids = [case_id for (case_id,) in await (await conn.execute(LOSABLE_CASES, params)).fetchall()]
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


async def prune_wins(conn: AsyncConnection, now: datetime, policy: RecoveryPolicy) -> int:
    """Forget wins too old to recover any case (PRUNE_WINS); how many."""
    pruned = await conn.execute(PRUNE_WINS, {"now": now, "keep": 2 * policy.lost_after})
    return pruned.rowcount
