"""notify.cases and what hangs off it, as every part of notify's store reads a case (its
moments, steps, deliveries and value at risk), and a case's steps as they are laid out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from psycopg import AsyncConnection

from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseRow, DeliveryRow

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
