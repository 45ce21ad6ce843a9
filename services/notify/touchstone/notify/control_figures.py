"""docs/domain.md §10's control figures, per site over a run of its calendar days: how often
customers complain, how often a lost moment gets no recovery in time (omission), how often
recovery fails (dissatisfaction), and how often staff keep the promised time (on time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from touchstone.platform.persistence.pg import columns


@dataclass(frozen=True)
class SiteWindow:
    """A site and the span of time its days cover."""

    site_id: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class SiteFigures:
    """The counts behind a site's control figures, and the rates they make."""

    site_id: str
    visits: int = 0
    complaints: int = 0
    cases: int = 0
    cases_due: int = 0
    omitted: int = 0
    recovered: int = 0
    lost: int = 0
    steps_due: int = 0
    steps_on_time: int = 0

    @property
    def complaint_rate(self) -> float | None:
        return rate(self.complaints, self.visits)

    @property
    def omission_rate(self) -> float | None:
        return rate(self.omitted, self.cases_due)

    @property
    def dissatisfaction_rate(self) -> float | None:
        return rate(self.lost, self.recovered + self.lost)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.steps_on_time, self.steps_due)


def rate(part: int, whole: int) -> float | None:
    """part / whole; None when there is no whole: nothing to rate yet (a day with no visits
    has no complaint rate, not a 0% one)."""
    return part / whole if whole else None


SITES = """
SELECT site_id FROM notify.cases UNION SELECT site_id FROM notify.site_visits
UNION SELECT site_id FROM notify.complaints ORDER BY 1
"""
# Each window's figures. A case's recovery started when a step was taken, a message sent, or it
# was resolved or won back; a step counts if it fell due while its case was still open.
FIGURES = """
WITH w AS (
    SELECT * FROM unnest(%(site_id)b::text[], %(since)b::timestamptz[], %(until)b::timestamptz[])
        AS w(site_id, since, until)
), c AS (
    SELECT c.*, least(c.recovered_at, c.lost_at) AS closed_at
    FROM notify.cases c JOIN w
      ON c.site_id = w.site_id AND c.opened_at >= w.since AND c.opened_at < w.until
), started AS (
    SELECT c.case_id, c.due_at, least(
        (SELECT min(s.first_taken_at) FROM notify.case_steps s WHERE s.case_id = c.case_id),
        (SELECT min(d.sent_at) FROM notify.deliveries d WHERE d.case_id = c.case_id),
        c.resolved_at, c.recovered_at
    ) AS at
    FROM c
), steps AS (
    SELECT c.site_id, s.due_at, s.status = 'done' AND s.taken_at <= s.due_at AS on_time
    FROM notify.case_steps s JOIN c USING (case_id)
    WHERE s.owner IN ('staff', 'duty_manager') AND s.due_at <= %(now)s
      AND (c.closed_at IS NULL OR s.due_at <= c.closed_at)
)
SELECT w.site_id,
    (SELECT count(*) FROM notify.site_visits v
     WHERE v.site_id = w.site_id AND v.first_at >= w.since AND v.first_at < w.until),
    (SELECT count(*) FROM notify.complaints k
     WHERE k.site_id = w.site_id AND k.occurred_at >= w.since AND k.occurred_at < w.until),
    (SELECT count(*) FROM c WHERE c.site_id = w.site_id),
    (SELECT count(*) FROM c WHERE c.site_id = w.site_id AND c.due_at <= %(now)s),
    (SELECT count(*) FROM c JOIN started USING (case_id)
     WHERE c.site_id = w.site_id AND c.due_at <= %(now)s
       AND (started.at IS NULL OR started.at > c.due_at)),
    (SELECT count(*) FROM c WHERE c.site_id = w.site_id AND c.status = 'recovered'),
    (SELECT count(*) FROM c WHERE c.site_id = w.site_id AND c.status = 'lost'),
    (SELECT count(*) FROM steps WHERE steps.site_id = w.site_id),
    (SELECT count(*) FROM steps WHERE steps.site_id = w.site_id AND steps.on_time)
FROM w ORDER BY w.site_id
"""


class PostgresControlFigures:
    """Control figures from notify's tables."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def sites(self) -> list[str]:
        """Every site notify has seen a visit, complaint or case at."""
        async with self.pool.connection() as conn:
            return [site for (site,) in await (await conn.execute(SITES)).fetchall()]

    async def figures(self, windows: Sequence[SiteWindow], now: datetime) -> list[SiteFigures]:
        """Each site's figures over its window, judging what is due by `now`."""
        if not windows:
            return []
        params = {**columns(windows, ("site_id", "since", "until")), "now": now}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(FIGURES, params)).fetchall()
        return [SiteFigures(*row) for row in rows]
