"""Checksums of a service's state: one per table, independent of row order and storage.

Each row is hashed from its text form; a table's checksum combines its row count and the sum of
its rows' 64-bit hashes, so two schemas holding the same rows agree whatever order the rows were
written in. Columns the rules leave out (when a row was taken in, by the wall clock) are not
hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

BOOKKEEPING = ("schema_migrations",)  # when migrations ran: not state

TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name
"""

COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position
"""

TABLE_DIGEST = """
SELECT count(*), coalesce(sum(('x' || left(md5(ROW({columns})::text), 16))::bit(64)::bigint), 0)
FROM {table} AS t
"""


@dataclass(frozen=True)
class StateChecksum:
    """A schema's checksum, with each table's."""

    tables: Mapping[str, str]  # table → "rows:digest"

    @property
    def total(self) -> str:
        """One digest over every table's."""
        joined = "\n".join(f"{name}={value}" for name, value in sorted(self.tables.items()))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    def rows(self) -> int:
        """How many rows the checked tables hold."""
        return sum(int(value.split(":", 1)[0]) for value in self.tables.values())

    def differences(self, other: StateChecksum) -> list[str]:
        """The tables whose checksums differ (or that only one side has)."""
        names = sorted(set(self.tables) | set(other.tables))
        return [n for n in names if self.tables.get(n) != other.tables.get(n)]


def state_checksum(
    conn: psycopg.Connection,
    schema: str,
    *,
    skip_tables: tuple[str, ...] = (),
    unchecked: Mapping[str, tuple[str, ...]] | None = None,
) -> StateChecksum:
    """The checksum of every table in schema but the skipped ones, leaving out the unchecked
    columns of each table."""
    unchecked = unchecked or {}
    names = [row[0] for row in conn.execute(TABLES, (schema,))]
    tables = {}
    for name in names:
        if name in BOOKKEEPING or name in skip_tables:
            continue
        tables[name] = _table_checksum(conn, schema, name, unchecked.get(name, ()))
    return StateChecksum(tables)


def _table_checksum(
    conn: psycopg.Connection, schema: str, table: str, leave_out: tuple[str, ...]
) -> str:
    columns = [r[0] for r in conn.execute(COLUMNS, (schema, table)) if r[0] not in leave_out]
    query = sql.SQL(TABLE_DIGEST).format(
        columns=sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(c) for c in columns),
        table=sql.Identifier(schema, table),
    )
    row = conn.execute(query).fetchone()
    count, digest = row if row else (0, 0)
    return f"{count}:{int(digest) & 0xFFFFFFFFFFFFFFFF:016x}"
