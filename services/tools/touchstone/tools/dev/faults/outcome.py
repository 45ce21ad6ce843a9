"""What a run left behind, row by row, and how two runs differ.

A snapshot holds every row of every service's tables as (key, digest): the key is the row's
primary key (the row itself where a table has none), the digest covers what the rules decide.
Left out, each with its reason: what the wall clock or the broker's offsets decide (when a row
was taken in, where a dead letter sat), which differs between any two runs of the same input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from touchstone.platform.runtime.settings import SERVICES

# table → columns the comparison leaves out, and why: each is a fact of the run, not of the input
NOT_COMPARED: Mapping[str, tuple[tuple[str, ...], str]] = {
    "journey.visits": (
        ("seen_at",),
        "the lane's clock when the visit's latest moment arrived: where progress stood then, "
        "which arrival timing decides (it only lends a late visit its gap); what it decides, "
        "completed_at and the visit's verdict, is compared",
    ),
    "notify.case_steps": (
        ("due_told", "escalated_at"),
        "whether and when notify's sweep told people a step was late: by the wall clock, while "
        "the case was open when it looked (notify/overdue.py); the case's outcome is compared",
    ),
}
SKIPPED: Mapping[str, str] = {  # tables left out whole, and why
    "schema_migrations": "when the migrations ran",
    "journey.lane_clocks": "where each lane's clock stands: once caught up, the wall clock",
    "journey.source_clocks": "what each source last claimed: once caught up, the wall clock",
}
# tables only counted: what producers got wrong, which the workloads add on purpose (each row's
# expected count is its workload's); their keys are broker offsets, which differ by run
COUNTED = ("contacts.dead_letters", "contacts.conflicts")

PRIMARY_KEYS = """
SELECT kcu.table_name, kcu.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
WHERE tc.table_schema = %s AND tc.constraint_type = 'PRIMARY KEY'
ORDER BY kcu.table_name, kcu.ordinal_position
"""
COLUMNS = """
SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = %s ORDER BY table_name, ordinal_position
"""
TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name
"""
ROWS = "SELECT ROW({key})::text, md5(ROW({kept})::text) FROM {table} AS t"


@dataclass(frozen=True)
class Snapshot:
    """Every compared row of every service's tables, as key → digest, by table."""

    tables: Mapping[str, Counter[tuple[str, str]]]
    counted: Mapping[str, int] = field(default_factory=dict)  # COUNTED tables' rows

    def rows(self) -> int:
        return sum(sum(rows.values()) for rows in self.tables.values())

    def count(self, table: str) -> int:
        return sum(self.tables.get(table, Counter()).values())


@dataclass(frozen=True)
class Difference:
    """How an observed snapshot differs from the reference, row by row."""

    lost: int = 0  # keys the reference has and the run does not
    duplicated: int = 0  # keys the run has that the reference does not, or has more often
    changed: int = 0  # keys both have, with other content
    tables: tuple[str, ...] = ()  # the tables that differ
    examples: tuple[str, ...] = field(default=(), compare=False)

    @property
    def identical(self) -> bool:
        return not (self.lost or self.duplicated or self.changed)


def snapshot(conn: psycopg.Connection) -> Snapshot:
    """Read every service's tables (autocommit connection)."""
    tables: dict[str, Counter[tuple[str, str]]] = {}
    counted: dict[str, int] = {}
    for schema in SERVICES:
        keys: dict[str, list[str]] = {}
        for table, column in conn.execute(PRIMARY_KEYS, (schema,)):
            keys.setdefault(table, []).append(column)
        columns: dict[str, list[str]] = {}
        for table, column in conn.execute(COLUMNS, (schema,)):
            columns.setdefault(table, []).append(column)
        for (table,) in conn.execute(TABLES, (schema,)).fetchall():
            name = f"{schema}.{table}"
            if table in SKIPPED or name in SKIPPED:
                continue
            if name in COUNTED:
                counted[name] = _count(conn, schema, table)
                continue
            left_out = NOT_COMPARED.get(name, ((), ""))[0]
            kept = [c for c in columns[table] if c not in left_out]
            tables[name] = Counter(_rows(conn, schema, table, keys.get(table) or kept, kept))
    return Snapshot(tables, counted)


def _count(conn: psycopg.Connection, schema: str, table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _rows(
    conn: psycopg.Connection, schema: str, table: str, key: list[str], kept: list[str]
) -> Iterable[tuple[str, str]]:
    def listed(names: list[str]) -> sql.Composable:
        return sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(n) for n in names)

    query = sql.SQL(ROWS).format(
        key=listed(key), kept=listed(kept), table=sql.Identifier(schema, table)
    )
    for row_key, digest in conn.execute(query):
        yield str(row_key), str(digest)


def compare(reference: Snapshot, observed: Snapshot, examples: int = 5) -> Difference:
    """Row by row: what the observed run lost, holds twice or holds otherwise."""
    lost = duplicated = changed = 0
    differing: list[str] = []
    shown: list[str] = []
    for name in sorted(set(reference.tables) | set(observed.tables)):
        ref, obs = reference.tables.get(name, Counter()), observed.tables.get(name, Counter())
        if ref == obs:
            continue
        differing.append(name)
        ref_keys, obs_keys = _by_key(ref), _by_key(obs)
        for key in ref_keys.keys() | obs_keys.keys():
            want, got = ref_keys.get(key, Counter()), obs_keys.get(key, Counter())
            if want == got:
                continue
            if not got or (got.total() < want.total() and got <= want):
                lost += want.total() - got.total()
                what = "lost"
            elif not want or (got.total() > want.total() and want <= got):
                duplicated += got.total() - want.total()
                what = "extra"
            else:
                changed += 1
                what = "changed"
            if len(shown) < examples:
                shown.append(f"{name} {what} {key}")
    return Difference(lost, duplicated, changed, tuple(differing), tuple(shown))


def _by_key(rows: Counter[tuple[str, str]]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for (key, digest), times in rows.items():
        out.setdefault(key, Counter())[digest] += times
    return out
