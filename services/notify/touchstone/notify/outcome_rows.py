"""Notify's case outcomes in Postgres: the cases news could move (a bound read: may_move), each
with the facts the rule reads and its customer group's later wins that could count, and the
outcomes outcome_settlement.py decides, written back (the rule itself is recovery.py's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from touchstone.notify.domain import CaseOutcome, Win
from touchstone.notify.outcome_settlement import HeldOutcome
from touchstone.notify.recovery import CaseFacts, KeptOutcome, may_move, moves_until
from touchstone.notify.rows import CaseRow
from touchstone.platform.runtime.time_bounds import BEGINNING

# When case c's apology was done (its first apologise step done), null until then
APOLOGISED = """
CROSS JOIN LATERAL (
    SELECT min(st.taken_at) AS apologised_at FROM notify.case_steps st
    WHERE st.case_id = c.case_id AND st.action = 'apologise' AND st.status = 'done'
) a
"""
# Each of the cases (open or recovered; cases_to_decide chose them), locked, with what its
# outcome is decided from beside the case itself (case_tables.load_cases): its latest lost moment,
# when the clock closed it, and its customer group's later wins that could count: the first from
# another visit, and the first feedback and clean visits at its site (a bounded read; the rule
# itself is recovery.decide_outcome's).
SELECT_OUTCOMES = """
WITH asked AS (
    SELECT unnest(%b::text[]) AS case_id
), groups AS MATERIALIZED (  -- each customer's group once, not twice for each of their cases
    SELECT t.customer_id, array(SELECT notify.customer_group(t.customer_id)) AS members
    FROM (SELECT DISTINCT c.customer_id FROM notify.cases c JOIN asked USING (case_id)) t
)
SELECT c.case_id, l.last_at, c.lost_at, s.signs
FROM notify.cases c
JOIN groups g USING (customer_id)
CROSS JOIN LATERAL (
    SELECT max(m.occurred_at) AS last_at FROM notify.case_moments m WHERE m.case_id = c.case_id
) l
CROSS JOIN LATERAL (
    SELECT coalesce(jsonb_agg(jsonb_build_array(w.moment_id, w.customer_id, w.occurred_at, w.how,
                                                w.site_id, w.visit_id)), '[]'::jsonb) AS signs
    FROM (
        -- each member's first, by its own index (not a walk through everyone's later wins)
        (SELECT f.* FROM unnest(g.members) AS gm(member)
         CROSS JOIN LATERAL (
             SELECT * FROM notify.wins w
             WHERE w.customer_id = gm.member AND w.occurred_at > l.last_at
               AND w.visit_id <> c.visit_id
             ORDER BY w.occurred_at, w.moment_id LIMIT 1
         ) f
         ORDER BY f.occurred_at, f.moment_id LIMIT 1)
        UNION
        (SELECT * FROM notify.wins w
         WHERE w.customer_id = ANY(g.members)
           AND w.occurred_at > l.last_at AND w.how <> 'win' AND w.site_id = c.site_id
         ORDER BY w.occurred_at, w.moment_id LIMIT 20)
    ) w
) s
WHERE c.resolved_by IS NULL AND c.case_id IN (SELECT case_id FROM asked)
ORDER BY c.case_id
FOR NO KEY UPDATE OF c
"""
# Each open or recovered case of the customers (and everyone merged with them) that their news
# could reach, as kept: the facts may_move reads, and which of the customers asked about it came
# through (their wins are the case's news). A customer's news reaches a case while the case may
# still move at the time of the earliest of them (cases.moves_until, recovery.moves_until's,
# kept by SAVE_OUTCOMES; since is null for a customer with no wins, -infinity after a merge);
# the cases the batch's lost moments joined are read whatever their bound. Cheap beside
# SELECT_OUTCOMES: no wins are read, and most of a customer's history is not.
SELECT_KEPT = f"""
WITH joined AS (
    SELECT DISTINCT case_id FROM notify.case_moments WHERE moment_id = ANY(%(joined)b::text[])
), members AS MATERIALIZED (  -- each id's group once: joined to cases, the planner may call
    -- customer_group for every (id, case) pair while it thinks cases small (a fresh table)
    SELECT t.id, t.since, g.member
    FROM unnest(%(ids)b::text[], %(since)b::timestamptz[]) AS t(id, since)
    CROSS JOIN LATERAL notify.customer_group(t.id) AS g(member)
), reached AS (
    SELECT m.id, c.case_id
    FROM members m
    CROSS JOIN LATERAL (  -- each member's cases by the index (OFFSET 0: not hash-joined to
        -- every unresolved case, which the planner chose for the members' row estimate)
        SELECT c.case_id FROM notify.cases c
        WHERE c.customer_id = m.member AND c.resolved_by IS NULL
          AND c.moves_until >= coalesce(m.since, 'infinity')
        OFFSET 0
    ) c
    UNION
    SELECT c.customer_id, c.case_id FROM joined JOIN notify.cases c USING (case_id)
    WHERE c.resolved_by IS NULL
)
SELECT r.id, c.case_id, c.customer_id, c.site_id, c.visit_id, c.status, l.last_at, c.lost_at,
       a.apologised_at, c.recovered_at, c.recovered_by, c.returned_at, c.returned_by,
       c.case_id IN (SELECT case_id FROM joined)
FROM reached r JOIN notify.cases c USING (case_id)
CROSS JOIN LATERAL (
    SELECT max(m.occurred_at) AS last_at FROM notify.case_moments m WHERE m.case_id = c.case_id
) l
{APOLOGISED}"""
# A step taken may be the case's apology, which changes until when news could move its outcome
# (recovery.moves_until): the bound is forgotten until the case is decided again. A CTE for the
# statement that takes the step (its `taken` rows carry case_id).
FORGET_MOVES_UNTIL = """forgotten AS (
    UPDATE notify.cases c SET moves_until = 'infinity' FROM {taken} t
    WHERE c.case_id = t.case_id AND c.moves_until <> 'infinity'
)"""
# A step is on notify's clock while its case is open (STEPS_ON_CLOCK tells and escalates only
# those): case_steps.on_clock follows the case's status, so the sweep's index holds the steps
# that may need telling, not every pending step of every case recovered or lost since the start.
# A CTE for each statement that changes cases' status (its `changed` rows carry case_id, status).
STEPS_FOLLOW_STATUS = """steps_follow AS (
    UPDATE notify.case_steps s SET on_clock = (c.status = 'open') FROM {changed} c
    WHERE s.case_id = c.case_id AND s.on_clock <> (c.status = 'open')
)"""
# One worker at a time decides a customer's cases (whichever of their ids it was told about).
LOCK_CUSTOMERS = """
SELECT pg_advisory_xact_lock(hashtext('notify.customer:' || root))
FROM (SELECT DISTINCT notify.customer_root(t) AS root FROM unnest(%b::text[]) AS t) r
ORDER BY root
"""
SAVE_OUTCOMES = f"""
WITH saved AS (
UPDATE notify.cases c SET status = o.status, recovered_at = o.recovered_at,
                          recovered_by = o.recovered_by, returned_at = o.returned_at,
                          returned_by = o.returned_by, moves_until = o.moves_until
FROM (
    SELECT case_id, status, recovered_at, recovered_by, returned_at, returned_by,
           coalesce(moves_until, 'infinity') AS moves_until
    FROM unnest(%(case_id)b::text[], %(status)b::text[], %(recovered_at)b::timestamptz[],
                %(recovered_by)b::text[], %(returned_at)b::timestamptz[],
                %(returned_by)b::text[], %(moves_until)b::timestamptz[])
         AS o(case_id, status, recovered_at, recovered_by, returned_at, returned_by, moves_until)
) o
WHERE c.case_id = o.case_id AND c.resolved_by IS NULL
  AND (c.status, c.recovered_by, c.returned_by, c.moves_until)
      IS DISTINCT FROM (o.status, o.recovered_by, o.returned_by, o.moves_until)
RETURNING c.case_id, c.status
), {STEPS_FOLLOW_STATUS.format(changed="saved")}
SELECT 1
"""


def held_outcome(row: Sequence[Any], case: CaseRow) -> HeldOutcome:
    """A case as SELECT_OUTCOMES reads what decides it, beside the case as loaded."""
    _, last_at, lost_at, signs = row
    return HeldOutcome(
        case,
        last_at,
        lost_at,
        tuple(
            Win(moment_id, who, datetime.fromisoformat(at), how, site, visit)
            for moment_id, who, at, how, site, visit in signs
        ),
    )


def outcome_columns(decided: Sequence[tuple[CaseOutcome, KeptOutcome]]) -> dict[str, list[object]]:
    """SAVE_OUTCOMES' column arrays: each outcome as kept, and until when news could move it."""
    kept = [k for _, k in decided]
    return {
        "case_id": [k.case.case_id for k in kept],
        "status": [o.status for o, _ in decided],
        "recovered_at": [k.recovered_by[0] if k.recovered_by else None for k in kept],
        "recovered_by": [k.recovered_by[1] if k.recovered_by else None for k in kept],
        "returned_at": [k.returned_by[0] if k.returned_by else None for k in kept],
        "returned_by": [k.returned_by[1] if k.returned_by else None for k in kept],
        "moves_until": [moves_until(k) for k in kept],
    }


def news_since(
    ids: Sequence[str], wins: Sequence[Win], everything: bool = False
) -> list[datetime | None]:
    """SELECT_KEPT's since, for each customer asked about: the time of their earliest win in
    the news (None if they have none; the beginning of time after a merge, which reaches every
    case)."""
    earliest: dict[str, datetime] = {}
    for win in wins:
        known = earliest.get(win.customer_id)
        earliest[win.customer_id] = min(known, win.occurred_at) if known else win.occurred_at
    return [BEGINNING if everything else earliest.get(i) for i in ids]


def cases_to_decide(
    rows: Sequence[Sequence[Any]], wins: Sequence[Win], everything: bool = False
) -> list[str]:
    """The cases (as SELECT_KEPT reads them) whose outcome news could move: a lost moment joined
    it, or may_move says a win of its customer group could (or everything, after a merge)."""
    news: dict[str, list[Win]] = {}
    for win in wins:
        news.setdefault(win.customer_id, []).append(win)
    heard: dict[str, list[Win]] = {}
    kept: dict[str, KeptOutcome] = {}
    joined: set[str] = set()
    for asked, case_id, customer, site_id, visit_id, was, last_at, lost_at, *rest in rows:
        apologised_at, recovered_at, recovered_by, returned_at, returned_by, has_joined = rest
        heard.setdefault(case_id, []).extend(news.get(asked, ()))
        joined |= {case_id} if has_joined else set()
        facts = CaseFacts(
            case_id, customer, site_id, visit_id, was, (), last_at, lost_at, apologised_at
        )
        kept[case_id] = KeptOutcome(
            facts,
            (recovered_at, recovered_by) if recovered_by else None,
            (returned_at, returned_by) if returned_by else None,
        )
    return sorted(
        case_id
        for case_id, outcome in kept.items()
        if everything or case_id in joined or may_move(outcome, heard[case_id])
    )
