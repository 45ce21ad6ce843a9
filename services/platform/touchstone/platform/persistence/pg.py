"""Postgres plumbing: connection pools and each service's forward-only SQL migrations."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
    version text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


CUSTOMER_LINKS_MIGRATION = Path(__file__).parent.parent / "messaging" / "000_customer_links.sql"
CUSTOMER_LINKS_FAST = (
    Path(__file__).parent.parent / "messaging" / "000_customer_links_fast.sql"
)  # each id's own
# root and group without a walk when it has no live link


def migration_files(*sources: Path) -> list[Path]:
    """Migrations in the order they apply, by file name (001_…, 002_…); a source is a directory
    of them or one shared file (every schema gets CUSTOMER_LINKS_MIGRATION, for instance)."""
    files = [p for s in sources for p in (sorted(s.glob("*.sql")) if s.is_dir() else [s])]
    return sorted(files, key=lambda p: p.name)


def apply_migrations(database_url: str, schema: str, *sources: Path) -> list[str]:
    """Apply the migrations not yet applied to schema, in one locked transaction; return them."""
    applied: list[str] = []
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"migrate:{schema}",))
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(CREATE_LEDGER.format(schema=f'"{schema}"'))
        done = {row[0] for row in conn.execute(f'SELECT version FROM "{schema}".schema_migrations')}
        for path in migration_files(*sources):
            if path.stem in done:
                continue
            conn.execute(f'SET LOCAL search_path TO "{schema}"')
            conn.execute(path.read_text().encode())  # trusted SQL shipped with the service
            conn.execute(
                f'INSERT INTO "{schema}".schema_migrations (version) VALUES (%s)', (path.stem,)
            )
            applied.append(path.stem)
    if applied:
        log.info("schema %s: applied %s", schema, ", ".join(applied))
    return applied


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    """Whether the database has the schema."""
    found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return found is not None


def create_scratch_database(database_url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on database_url's server (the role needs CREATEDB): its URL, and
    how to drop it. For work that must not touch the live tables: tests, re-scoring."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    return make_conninfo(database_url, dbname=name), drop


def open_pool(
    database_url: str, *, max_size: int = 4, timeout_s: float = 30.0, name: str = "touchstone"
) -> AsyncConnectionPool:
    """An async pool, not yet opened: open it inside the event loop that will use it. A
    connection not had within timeout_s (connecting included) is PoolTimeout: fail fast. Its
    connections carry the name as application_name, so pg_stat_activity says whose they are."""
    return AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=timeout_s,
        kwargs={
            "connect_timeout": max(2, math.ceil(timeout_s)),  # libpq: whole seconds, >= 2
            "application_name": name,
        },
    )


def columns(rows: Sequence[object], names: Sequence[str]) -> dict[str, list[object]]:
    """Column arrays of dataclass rows, for one unnest-based statement per batch."""
    return {name: [getattr(row, name) for row in rows] for name in names}
