"""The control figures (control_figures.py) from notify's tables, per site and window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from touchstone.notify.control_figures import SiteFigures, SiteWindow
from touchstone.platform.persistence.pg import columns

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
