"""Loyalty's Postgres adapter: purchases stored once, values recomputed from them in one go."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from psycopg_pool import AsyncConnectionPool

from loyalty.domain import CustomerValue, Purchase
from touchstone.common.customer_links import CustomerLinks, PostgresCustomerLinks
from touchstone.common.pg import columns

SCHEMA = "loyalty"

Valuer = Callable[[Sequence[Purchase]], CustomerValue | None]

PURCHASE_COLUMNS = ("event_id", "customer_id", "visit_id", "occurred_at", "currency", "minor_units")
VALUE_COLUMNS = (
    "customer_id",
    "currency",
    "average_spend_minor",
    "purchases",
    "visits",
    "visits_per_year",
    "expected_years",
    "lifetime_value_minor",
    "as_of",
)


def value_as(customer_id: str, value: CustomerValue | None) -> CustomerValue | None:
    """A merged customer's value, under the id they are known by now."""
    return replace(value, customer_id=customer_id) if value else None


class LoyaltyStore(CustomerLinks, Protocol):
    """What the loyalty handler and API need from storage."""

    async def fold_purchases(
        self, purchases: Sequence[Purchase], valuer: Valuer
    ) -> list[CustomerValue]:
        """Store new purchases and revalue their customers from full history, in one transaction."""

    async def get_value(self, customer_id: str, valuer: Valuer) -> CustomerValue | None:
        """The customer's current value, with everyone merged into them valued as one; or None."""


SAVE_PURCHASES = """
INSERT INTO loyalty.purchases
SELECT * FROM unnest(
    %(event_id)b::text[], %(customer_id)b::text[], %(visit_id)b::text[],
    %(occurred_at)b::timestamptz[], %(currency)b::text[], %(minor_units)b::bigint[]
)
ON CONFLICT (event_id) DO NOTHING
"""

SELECT_HISTORY = """
SELECT event_id, customer_id, visit_id, occurred_at, currency, minor_units
FROM loyalty.purchases WHERE customer_id = ANY(%s) ORDER BY customer_id, occurred_at, event_id
"""

SAVE_VALUES = """
INSERT INTO loyalty.customer_values AS v
SELECT * FROM unnest(
    %(customer_id)b::text[], %(currency)b::text[], %(average_spend_minor)b::bigint[],
    %(purchases)b::int[], %(visits)b::int[], %(visits_per_year)b::numeric[],
    %(expected_years)b::numeric[], %(lifetime_value_minor)b::bigint[], %(as_of)b::timestamptz[]
)
ON CONFLICT (customer_id) DO UPDATE SET
    currency = excluded.currency, average_spend_minor = excluded.average_spend_minor,
    purchases = excluded.purchases, visits = excluded.visits,
    visits_per_year = excluded.visits_per_year, expected_years = excluded.expected_years,
    lifetime_value_minor = excluded.lifetime_value_minor, as_of = excluded.as_of
"""

SELECT_VALUE = """
SELECT customer_id, currency, average_spend_minor, purchases, visits, visits_per_year,
       expected_years, lifetime_value_minor, as_of
FROM loyalty.customer_values WHERE customer_id = %s
"""


class PostgresLoyaltyStore(PostgresCustomerLinks):
    """LoyaltyStore on Postgres (schema loyalty)."""

    links_schema = SCHEMA

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def fold_purchases(
        self, purchases: Sequence[Purchase], valuer: Valuer
    ) -> list[CustomerValue]:
        if not purchases:
            return []
        customers = sorted({p.customer_id for p in purchases})
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(SAVE_PURCHASES, columns(purchases, PURCHASE_COLUMNS))
            rows = await (await conn.execute(SELECT_HISTORY, (customers,))).fetchall()
            history: dict[str, list[Purchase]] = {}
            for row in rows:
                history.setdefault(row[1], []).append(Purchase(*row))
            values = [v for c in customers if (v := valuer(history.get(c, []))) is not None]
            if values:
                await conn.execute(SAVE_VALUES, columns(values, VALUE_COLUMNS))
        return values

    async def get_value(self, customer_id: str, valuer: Valuer) -> CustomerValue | None:
        root, *merged = await self.customer_group(customer_id)
        async with self.pool.connection() as conn:
            if not merged:
                row = await (await conn.execute(SELECT_VALUE, (root,))).fetchone()
                return CustomerValue(row[0], row[1].strip(), *row[2:]) if row else None
            rows = await (await conn.execute(SELECT_HISTORY, ([root, *merged],))).fetchall()
        return value_as(root, valuer([Purchase(*row) for row in rows]))
