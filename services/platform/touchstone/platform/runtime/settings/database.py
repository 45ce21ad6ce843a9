"""Postgres: how every database client of a process connects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.runtime.settings.declared import setting
from touchstone.platform.security.data_transport import DatabaseConnection


@dataclass(frozen=True)
class DatabaseSettings:
    """Postgres's settings (TOUCHSTONE_DATABASE_*)."""

    database_url: str = setting(
        "TOUCHSTONE_DATABASE_URL",
        "postgresql://touchstone@127.0.0.1:15432/touchstone",
        doc="Postgres (each service owns a schema)",
    )
    database_tls_ca: Path | None = setting(
        "TOUCHSTONE_DATABASE_TLS_CA",
        None,
        doc="Postgres over TLS with `sslmode=verify-full` against this CA",
    )
    database_tls_cert: Path | None = setting(
        "TOUCHSTONE_DATABASE_TLS_CERT", None, doc="this client's certificate, for mutual TLS"
    )
    database_tls_key: Path | None = setting(
        "TOUCHSTONE_DATABASE_TLS_KEY", None, doc="this client's key, for mutual TLS"
    )
    database_plaintext: bool = setting(
        "TOUCHSTONE_DATABASE_PLAINTEXT",
        False,
        doc="allow an unencrypted Postgres beyond loopback and Unix sockets (the network "
        "encrypts it)",
    )
    database_timeout_s: float = setting(
        "TOUCHSTONE_DATABASE_TIMEOUT_S",
        3.0,
        low=0.1,
        doc="the longest a query waits for a database connection (connecting included) before "
        "it ends `UNAVAILABLE`; readiness checks the database within it",
    )

    def __post_init__(self) -> None:
        _ = self.database_connection  # incomplete: refused

    @property
    def database_connection(self) -> DatabaseConnection:
        """How every database client of this process connects: the URL and TLS."""
        return DatabaseConnection(
            url=self.database_url,
            tls_ca=self.database_tls_ca,
            tls_cert=self.database_tls_cert,
            tls_key=self.database_tls_key,
            plaintext_ok=self.database_plaintext,
        )

    @property
    def database(self) -> str:
        """The libpq connection string every database client of this process uses: the URL,
        with TLS (verify-full) when a CA is set."""
        return self.database_connection.conninfo()
