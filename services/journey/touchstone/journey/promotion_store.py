"""Promotions in Postgres: each standards promotion journey has taken, in order, and the latest
one read outside the service (by `touchstone rescore`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from touchstone.journey.ports import Promotion
from touchstone.platform.persistence.pg import columns

PROMOTION_COLUMNS = (
    "event_id",
    "version",
    "standards_yaml",
    "promoted_at",
    "payload",
    "effective_from",
)


TAKE_PROMOTIONS = f"""
INSERT INTO journey.standards_versions ({", ".join(PROMOTION_COLUMNS)})
SELECT {", ".join(PROMOTION_COLUMNS)}
FROM unnest(%(event_id)b::text[], %(version)b::text[], %(standards_yaml)b::text[],
            %(promoted_at)b::timestamptz[], %(payload)b::bytea[],
            %(effective_from)b::timestamptz[]) WITH ORDINALITY
     AS t({", ".join(PROMOTION_COLUMNS)}, n)
ORDER BY n
ON CONFLICT (event_id) DO NOTHING
"""


PROMOTIONS = f"""
SELECT {", ".join(PROMOTION_COLUMNS)} FROM journey.standards_versions
ORDER BY effective_from, seq
"""


LATEST_PROMOTION = f"""
SELECT {", ".join(PROMOTION_COLUMNS)} FROM journey.standards_versions
ORDER BY effective_from DESC, seq DESC LIMIT 1
"""


class PostgresPromotions:
    """PromotionStore on Postgres (journey.standards_versions)."""

    pool: AsyncConnectionPool

    async def take_promotions(self, promotions: Sequence[Promotion]) -> None:
        if promotions:
            async with self.pool.connection() as conn:
                await conn.execute(TAKE_PROMOTIONS, columns(promotions, PROMOTION_COLUMNS))

    async def latest_promotion(self) -> Promotion | None:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(LATEST_PROMOTION)).fetchone()
        return promotion_row(row)

    async def promotions(self) -> list[Promotion]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(PROMOTIONS)).fetchall()
        return [p for row in rows if (p := promotion_row(row))]


def promotion_row(row: Sequence[Any] | None) -> Promotion | None:
    """A promotion as PROMOTIONS and LATEST_PROMOTION read it."""
    if row is None:
        return None
    event_id, version, text, at, payload, effective_from = row
    return Promotion(event_id, version, text, at, bytes(payload), effective_from)


def latest_promotion_in(database_url: str) -> Promotion | None:
    """The version promoted last, read outside the service (by `touchstone rescore`)."""
    with psycopg.connect(database_url) as conn:
        return promotion_row(conn.execute(LATEST_PROMOTION).fetchone())
