"""How data travels to Kafka and PostgreSQL: encrypted beyond this machine, or refused.

Plaintext is allowed to loopback (the embedded local stack) and to a Unix socket, or where the
operator says the network encrypts it another way (TOUCHSTONE_KAFKA_PLAINTEXT=1,
TOUCHSTONE_DATABASE_PLAINTEXT=1). Anything else is refused: Kafka when the settings are read,
Postgres when a process first asks for its connection string, before it connects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from touchstone.common.hosts import all_loopback, kafka_hosts

if TYPE_CHECKING:
    from touchstone.common.settings import Settings


class PlaintextDataRefused(ValueError):
    """Kafka or PostgreSQL traffic would leave this machine unencrypted, unannounced."""


def check_data_transport(settings: Settings) -> None:
    """Refuse settings that are incomplete, or would send data in clear beyond loopback."""
    from touchstone.common.settings import KAFKA_PROTOCOLS, KAFKA_SASL_MECHANISMS

    protocol = settings.kafka_security_protocol
    if protocol not in KAFKA_PROTOCOLS:
        raise ValueError(
            f"TOUCHSTONE_KAFKA_SECURITY_PROTOCOL must be one of {KAFKA_PROTOCOLS}, not {protocol!r}"
        )
    if protocol.startswith("SASL_"):
        if settings.kafka_sasl_mechanism not in KAFKA_SASL_MECHANISMS:
            raise ValueError(
                f"{protocol} needs TOUCHSTONE_KAFKA_SASL_MECHANISM, one of {KAFKA_SASL_MECHANISMS}"
                f" (not {settings.kafka_sasl_mechanism!r})"
            )
        if not (settings.kafka_sasl_username and settings.kafka_sasl_password):
            raise ValueError(
                f"{protocol} needs TOUCHSTONE_KAFKA_SASL_USERNAME and "
                "TOUCHSTONE_KAFKA_SASL_PASSWORD"
            )
    _pair("TOUCHSTONE_KAFKA_TLS", settings.kafka_tls_cert, settings.kafka_tls_key)
    _pair("TOUCHSTONE_DATABASE_TLS", settings.database_tls_cert, settings.database_tls_key)
    encrypted = protocol in ("SSL", "SASL_SSL")
    local = all_loopback(kafka_hosts(settings.kafka_bootstrap))
    if not (encrypted or settings.kafka_plaintext or local):
        raise PlaintextDataRefused(
            f"Kafka at {settings.kafka_bootstrap} would be plaintext: set "
            "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL (and TOUCHSTONE_KAFKA_TLS_CA), or "
            "TOUCHSTONE_KAFKA_PLAINTEXT=1 where the network encrypts it another way"
        )


def database_conninfo(settings: Settings) -> str:
    """The database URL, with sslmode=verify-full and the certificates when a CA is set; refused
    if it would be plaintext beyond this machine. Every database client connects with it (so a
    process that never touches the database never parses the URL, nor imports psycopg)."""
    from psycopg.conninfo import make_conninfo

    conninfo = settings.database_url
    if settings.database_tls_ca is not None:
        tls = {"sslmode": "verify-full", "sslrootcert": str(settings.database_tls_ca)}
        if settings.database_tls_cert and settings.database_tls_key:
            tls["sslcert"] = str(settings.database_tls_cert)
            tls["sslkey"] = str(settings.database_tls_key)
        conninfo = make_conninfo(conninfo, **tls)
    if not (settings.database_plaintext or _encrypted_or_local(conninfo)):
        raise PlaintextDataRefused(
            "PostgreSQL beyond this machine would be plaintext: set TOUCHSTONE_DATABASE_TLS_CA "
            "(or sslmode=verify-full in TOUCHSTONE_DATABASE_URL), or "
            "TOUCHSTONE_DATABASE_PLAINTEXT=1 where the network encrypts it another way"
        )
    return conninfo


def _encrypted_or_local(conninfo: str) -> bool:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as error:
        raise ValueError(f"TOUCHSTONE_DATABASE_URL is not a libpq URL: {error}") from None
    from touchstone.common.settings import POSTGRES_ENCRYPTED

    if params.get("sslmode") in POSTGRES_ENCRYPTED:
        return True
    hosts = [h for h in str(params.get("host") or params.get("hostaddr") or "").split(",") if h]
    local = [h for h in hosts if h.startswith("/")]  # Unix sockets
    return all_loopback(h for h in hosts if h not in local) if hosts else True


def _pair(prefix: str, cert: object, key: object) -> None:
    if (cert is None) != (key is None):
        raise ValueError(f"{prefix}_CERT and {prefix}_KEY go together: set both or neither")
