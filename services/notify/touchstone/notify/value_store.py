"""Notify's values at risk in Postgres: what loyalty says each lost moment puts at stake, and the
cases it sends to the duty manager (value_escalation.py decides which; this loads and writes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg import AsyncConnection

from touchstone.notify.case_tables import MOMENT_VALUE, SAVE_STEPS, load_cases, step_columns
from touchstone.notify.domain import MomentValue
from touchstone.notify.value_escalation import Escalate, WeighedCase
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.persistence.pg import columns

SCHEMA = "notify"
SAVE_VALUES = """
INSERT INTO notify.moment_values AS v (moment_id, currency, value_at_risk_minor)
SELECT * FROM unnest(%(moment_id)b::text[], %(currency)b::text[], %(value_at_risk_minor)b::bigint[])
ON CONFLICT (moment_id) DO UPDATE
SET currency = excluded.currency, value_at_risk_minor = excluded.value_at_risk_minor
"""
# The cases of these moments, locked, and whether each was escalated for its value already.
CASES_TO_WEIGH = """
SELECT c.case_id, c.value_escalated FROM notify.cases c
WHERE c.case_id IN (SELECT case_id FROM notify.case_moments WHERE moment_id = ANY(%b))
ORDER BY c.case_id
FOR NO KEY UPDATE
"""
CASE_TOTALS = f"""
SELECT m.case_id, v.currency, sum(v.value_at_risk_minor)::bigint, max(m.occurred_at)
FROM notify.case_moments m {MOMENT_VALUE}
WHERE m.case_id = ANY(%b)
GROUP BY m.case_id, v.currency
"""
MARK_VALUE_ESCALATED = "UPDATE notify.cases SET value_escalated = true WHERE case_id = ANY(%b)"

LOCK_MOMENTS = """
SELECT pg_advisory_xact_lock(hashtext('notify.moment:' || m)) FROM unnest(%b::text[]) AS m
ORDER BY m
"""


async def weigh(
    conn: AsyncConnection,
    values: Sequence[MomentValue],
    moment_ids: Sequence[str],
    decide: Escalate,
) -> None:
    """Keep the values; hand the valued cases they or the moments reach (locked) to decide, and
    write what it decides: each escalation's step, the case marked escalated for its value, its
    records in the outbox."""
    ids = sorted({*moment_ids, *(v.moment_id for v in values)})
    if not ids:
        return
    # a moment's value and the moment itself may reach two workers at once: whichever weighs
    # second sees what the first wrote
    await conn.execute(LOCK_MOMENTS, (ids,))
    if values:
        latest = list({v.moment_id: v for v in values}.values())  # one row per moment
        names = ("moment_id", "currency", "value_at_risk_minor")
        await conn.execute(SAVE_VALUES, columns(latest, names))
    locked: dict[str, bool] = dict(await (await conn.execute(CASES_TO_WEIGH, (ids,))).fetchall())
    if not locked:
        return
    totals: dict[str, dict[str, int]] = {}
    tipped_at: dict[str, datetime] = {}
    for case_id, currency, minor, latest_at in await (
        await conn.execute(CASE_TOTALS, (sorted(locked),))
    ).fetchall():
        totals.setdefault(case_id, {})[currency] = minor
        tipped_at[case_id] = max(tipped_at.get(case_id, latest_at), latest_at)
    cases = await load_cases(conn, sorted(totals))
    weighed = [WeighedCase(cases[c], totals[c], tipped_at[c], locked[c]) for c in sorted(totals)]
    decided = decide(weighed)
    if not decided:
        return
    saved = await conn.execute(SAVE_STEPS, step_columns([(e.case_id, e.step) for e in decided]))
    if saved.rowcount != len(decided):  # under the case locks no step can take its number
        raise RuntimeError("a duty manager's step collided with a step already laid out")
    await conn.execute(MARK_VALUE_ESCALATED, ([e.case_id for e in decided],))
    await add_to_outbox(conn, SCHEMA, [r for e in decided for r in e.records])
