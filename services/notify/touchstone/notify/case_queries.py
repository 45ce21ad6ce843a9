"""Notify's case queries in Postgres: a page of cases by filter (owner, overdue, value at risk),
and a case's timeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from psycopg import AsyncConnection, sql

from touchstone.notify.case_tables import FULL_CASE_COLUMNS, MOMENT_VALUE, WITH_VALUE, case_row
from touchstone.notify.rows import CaseFilter, CaseRow, TimelineRow
from touchstone.platform.messaging.customer_links_store import equality_filters
from touchstone.platform.runtime.time_bounds import BEGINNING

SCHEMA = "notify"
SELECT_CASE_PAGE = sql.SQL(f"""
SELECT {FULL_CASE_COLUMNS}, (SELECT count(*) FROM notify.cases WHERE true {{filters}})
FROM {WITH_VALUE}
WHERE (opened_at, case_id) > (%(after_time)s::timestamptz, %(after_id)s::text) {{filters}}
ORDER BY opened_at, case_id
LIMIT %(limit)s
""")

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


def filters(where: CaseFilter) -> sql.Composable:
    """The WHERE clauses a CaseFilter asks for."""
    equal = equality_filters(where, ("customer_id", "site_id", "status"), SCHEMA)
    owned = OWNED_BY if where.owner else sql.SQL("")
    overdue = OVERDUE if where.overdue_at is not None else sql.SQL("")
    worth = WORTH if where.min_value_at_risk_minor > 0 else sql.SQL("")
    return sql.Composed([equal, owned, overdue, worth])


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


async def list_cases(
    conn: AsyncConnection, where: CaseFilter, after: tuple[datetime, str] | None, limit: int
) -> tuple[list[CaseRow], int]:
    """Cases matching the filter by opening time after a keyset position, and their total."""
    after_time, after_id = after or (BEGINNING, "")
    query = SELECT_CASE_PAGE.format(filters=filters(where))
    params = {**vars(where), "after_time": after_time, "after_id": after_id, "limit": limit}
    rows = await (await conn.execute(query, params)).fetchall()
    if not rows:
        total_query = sql.SQL("SELECT count(*) FROM notify.cases WHERE true {}").format(
            filters(where)
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


async def case_timeline(conn: AsyncConnection, case_id: str) -> list[TimelineRow]:
    """What happened to the case, in time order."""
    rows = await (await conn.execute(TIMELINE, {"case_id": case_id})).fetchall()
    return [TimelineRow(*row) for row in rows]
