"""How data travels to Kafka and PostgreSQL: encrypted beyond this machine, or refused.

Plaintext is allowed to loopback (the embedded local stack) and to a Unix socket, or where the
operator says the network encrypts it another way (TOUCHSTONE_KAFKA_PLAINTEXT=1,
TOUCHSTONE_DATABASE_PLAINTEXT=1). Anything else is refused: Kafka when the settings are read
(KafkaConnection checks itself), Postgres when a process first asks for its connection string
(DatabaseConnection.conninfo), before it connects.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.security.hosts import PlaintextRefused, is_loopback

VERIFIED = ("verify-ca", "verify-full")  # sslmodes that authenticate the server


class PlaintextDataRefused(PlaintextRefused):
    """PostgreSQL traffic would leave this machine unencrypted or unauthenticated, unannounced."""


@dataclass(frozen=True)
class DatabaseConnection:
    """How every database client of a process connects: the URL and TLS from the settings."""

    url: str
    tls_ca: Path | None = None  # given, the server is verified (sslmode=verify-full)
    tls_cert: Path | None = None  # the client's certificate ...
    tls_key: Path | None = None  # ... and key, for a server that asks for one
    plaintext_ok: bool = False  # the network encrypts it (TOUCHSTONE_DATABASE_PLAINTEXT=1)

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(
                "TOUCHSTONE_DATABASE_TLS_CERT and TOUCHSTONE_DATABASE_TLS_KEY go together: set "
                "both or neither"
            )

    def conninfo(self, environ: Mapping[str, str] | None = None) -> str:
        """The URL, with sslmode=verify-full and the certificates when a CA is set; refused if
        it would be plaintext (or TLS that does not check the server) beyond this machine. Every
        database client connects with it, so a process that never touches the database never
        parses the URL, nor imports psycopg. environ: libpq's PG* variables (os.environ)."""
        from psycopg.conninfo import make_conninfo

        conninfo = self.url
        if self.tls_ca is not None:
            tls = {"sslmode": "verify-full", "sslrootcert": str(self.tls_ca)}
            if self.tls_cert and self.tls_key:
                tls["sslcert"] = str(self.tls_cert)
                tls["sslkey"] = str(self.tls_key)
            conninfo = make_conninfo(conninfo, **tls)
        environ = os.environ if environ is None else environ
        if not (self.plaintext_ok or _verified_or_local(conninfo, environ)):
            raise PlaintextDataRefused(
                "PostgreSQL beyond this machine would be plaintext: set TOUCHSTONE_DATABASE_TLS_CA "
                "(or sslmode=verify-full in TOUCHSTONE_DATABASE_URL), or "
                "TOUCHSTONE_DATABASE_PLAINTEXT=1 where the network encrypts it another way"
            )
        return conninfo


def _verified_or_local(conninfo: str, environ: Mapping[str, str]) -> bool:
    """Whether libpq will verify the server's certificate, or connect to this machine only
    (loopback, Unix sockets), reading the connection string as libpq does: its PG* variables
    fill what it leaves out; hostaddr, not host, is where it connects; a service file may name
    any host."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as error:
        raise ValueError(f"TOUCHSTONE_DATABASE_URL is not a libpq URL: {error}") from None

    def setting(name: str, variable: str) -> str:
        return str(params.get(name) or environ.get(variable) or "")

    sslmode = setting("sslmode", "PGSSLMODE")
    if sslmode in VERIFIED:
        return True  # libpq verifies the server, or fails to connect when it cannot
    if sslmode == "require" and _readable_root(setting("sslrootcert", "PGSSLROOTCERT")):
        return True  # require with a root certificate libpq can read is verify-ca
    if setting("service", "PGSERVICE"):
        return False  # the host is in a service file: it may be anywhere
    hosts = [h for h in setting("host", "PGHOST").split(",") if h]
    addresses = [a for a in setting("hostaddr", "PGHOSTADDR").split(",") if a]
    return all(h.startswith("/") or is_loopback(h) for h in hosts) and all(
        is_loopback(a) for a in addresses
    )


def _readable_root(sslrootcert: str) -> bool:
    """Whether libpq will check the server against this root certificate. Under sslmode=require
    a root certificate it cannot read is skipped without a word: the server goes unverified.
    `system` (libpq 16+) is the system's CAs, with verify-full."""
    if sslrootcert == "system":
        return True
    if not sslrootcert:
        return False
    try:
        with open(sslrootcert, "rb") as file:
            return bool(file.read(1))
    except OSError:
        return False
