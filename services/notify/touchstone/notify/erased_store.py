"""Whether contacts has erased a customer, as its profile events told notify."""

from psycopg import AsyncConnection

IS_ERASED = "SELECT EXISTS (SELECT 1 FROM notify.erased_customers WHERE customer_id = %s)"


async def is_erased(conn: AsyncConnection, customer_id: str) -> bool:
    """Whether the customer is erased (inside the caller's transaction)."""
    row = await (await conn.execute(IS_ERASED, (customer_id,))).fetchone()
    return bool(row and row[0])
