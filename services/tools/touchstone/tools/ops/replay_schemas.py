"""The schemas of a replay: the live one, the old state set aside, the rebuilt one kept apart.

`<service>` is live. During a rebuild the old state is `<service>_before_replay` (a worker
refuses to start while it exists), and a rebuild that differs is kept as `<service>_replayed`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

from touchstone.platform.persistence.pg import apply_migrations, schema_exists
from touchstone.platform.runtime.worker import ReplayRules, ServiceSpec, set_aside_schema
from touchstone.tools.ops.state_checksum import StateChecksum, state_checksum

log = logging.getLogger(__name__)

SERIAL_COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = %s AND table_name = %s AND column_default LIKE 'nextval(%%'
"""

ADVANCE = """
SELECT setval(pg_get_serial_sequence({table}, {name}), coalesce(max({column}), 0) + 1, false)
FROM {qualified}
"""


class SchemaRefused(Exception):
    """The schemas are not in a state a replay can start from, and why."""


@dataclass(frozen=True)
class Comparison:
    """The old and the rebuilt state's checksums, and the rows carried over by table."""

    before: StateChecksum
    after: StateChecksum
    carried_over: Mapping[str, int]


@dataclass(frozen=True)
class ReplaySchemas:
    """The named service's schemas on the database."""

    database_url: str
    spec: ServiceSpec

    @property
    def live(self) -> str:
        """The schema the service works in."""
        return self.spec.name

    @property
    def old(self) -> str:
        """Where the old state waits during a rebuild."""
        return set_aside_schema(self.spec.name)

    @property
    def kept(self) -> str:
        """Where a rebuild that differs is kept to inspect."""
        return f"{self.spec.name}_replayed"

    def prepare(self) -> bool:
        """Make the live schema ready to take the catch-up; True if an interrupted replay's old
        state had to be put back first."""
        recovered = False
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            if schema_exists(conn, self.old):
                self._put_back(conn)  # the interrupted rebuild is partial; the old state is whole
                recovered = True
            if not schema_exists(conn, self.live):
                raise SchemaRefused(f"there is no {self.live} schema: start {self.live} first")
            if schema_exists(conn, self.kept):
                raise SchemaRefused(
                    f"schema {self.kept} is left from an earlier replay: inspect it, then "
                    f"DROP SCHEMA {self.kept} CASCADE, and replay again"
                )
        # a release may have added migrations since the workers stopped
        apply_migrations(self.database_url, self.live, *self.spec.migration_sources)
        return recovered

    def set_old_aside(self) -> None:
        """Rename the live schema aside and migrate fresh tables in its place."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            _rename(conn, self.live, self.old)
        apply_migrations(self.database_url, self.live, *self.spec.migration_sources)

    def compare(self) -> Comparison:
        """Carry the rules' tables over from the old state, then checksum both."""
        rules = self.spec.replay
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            carried = _carry_over(conn, rules.carried_over, self.old, self.live)
            before, after = (_checksum(conn, rules, s) for s in (self.old, self.live))
        return Comparison(before, after, carried)

    def finish(self, swap: bool) -> None:
        """Swap the rebuilt state in (dropping the old), or put the old back and keep the
        rebuilt one apart."""
        with psycopg.connect(self.database_url, autocommit=True) as conn, conn.transaction():
            if swap:
                _drop(conn, self.old)
            else:
                _rename(conn, self.live, self.kept)
                _rename(conn, self.old, self.live)

    def put_back(self) -> None:
        """After a failure: the partly rebuilt schema goes, the old one returns."""
        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                if schema_exists(conn, self.old):
                    self._put_back(conn)
        except psycopg.Error:
            log.exception(
                "could not put %s back: it is whole in %s; the next replay puts it back",
                self.live,
                self.old,
            )

    def _put_back(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            if schema_exists(conn, self.live):
                _drop(conn, self.live)
            _rename(conn, self.old, self.live)


def _checksum(conn: psycopg.Connection, rules: ReplayRules, schema: str) -> StateChecksum:
    return state_checksum(conn, schema, skip_tables=rules.carried_over, unchecked=rules.unchecked)


def _carry_over(
    conn: psycopg.Connection, tables: tuple[str, ...], old: str, new: str
) -> dict[str, int]:
    """Copy the tables' rows from the old state in place of the rebuilt ones; rows copied."""
    copied = {}
    with conn.transaction():
        for table in tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(new, table)))
            cursor = conn.execute(
                sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                    sql.Identifier(new, table), sql.Identifier(old, table)
                )
            )
            copied[table] = cursor.rowcount
            _advance_sequences(conn, new, table)
    return copied


def _advance_sequences(conn: psycopg.Connection, schema: str, table: str) -> None:
    """Set each serial column's sequence past the rows copied in."""
    for (column,) in conn.execute(SERIAL_COLUMNS, (schema, table)).fetchall():
        qualified = sql.Identifier(schema, table)
        conn.execute(
            sql.SQL(ADVANCE).format(
                table=sql.Literal(qualified.as_string(conn)),
                name=sql.Literal(column),
                column=sql.Identifier(column),
                qualified=qualified,
            )
        )


def _rename(conn: psycopg.Connection, schema: str, to: str) -> None:
    conn.execute(
        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(schema), sql.Identifier(to))
    )


def _drop(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
