"""How every Kafka client connects: the brokers, and TLS and SASL from the settings.

One object, so no client can forget the security settings: aiokafka and kafka-python take the
same keyword arguments (`client_config`), and Faust takes its credentials (`faust_credentials`).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchstone.platform.messaging.record_size import DEFAULT_MAX_RECORD_BYTES
from touchstone.platform.security.hosts import PlaintextRefused, all_loopback, kafka_hosts

if TYPE_CHECKING:
    import faust


PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaConnection:
    """The brokers to bootstrap from and how to secure the connection to them."""

    bootstrap: str  # host:port[,host:port...]
    security_protocol: str = "PLAINTEXT"
    tls_ca: Path | None = None  # None: the system's CAs (with SSL and SASL_SSL)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    plaintext_ok: bool = False  # plaintext beyond loopback: the network encrypts it another way
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES  # producers' and topics' limit (record_size)

    def __post_init__(self) -> None:
        """Refuse an incomplete connection, or one in clear to a broker beyond loopback."""
        protocol = self.security_protocol
        if protocol not in PROTOCOLS:
            raise ValueError(
                f"TOUCHSTONE_KAFKA_SECURITY_PROTOCOL must be one of {PROTOCOLS}, not {protocol!r}"
            )
        if self.uses_sasl and self.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError(
                f"{protocol} needs TOUCHSTONE_KAFKA_SASL_MECHANISM, one of {SASL_MECHANISMS}"
                f" (not {self.sasl_mechanism!r})"
            )
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                f"{protocol} needs TOUCHSTONE_KAFKA_SASL_USERNAME and "
                "TOUCHSTONE_KAFKA_SASL_PASSWORD"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(
                "TOUCHSTONE_KAFKA_TLS_CERT and TOUCHSTONE_KAFKA_TLS_KEY go together: set both or "
                "neither"
            )
        if not (self.uses_tls or self.plaintext_ok or all_loopback(kafka_hosts(self.bootstrap))):
            raise PlaintextRefused(
                f"Kafka at {self.bootstrap} would be plaintext: set "
                "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL (and TOUCHSTONE_KAFKA_TLS_CA), "
                "or TOUCHSTONE_KAFKA_PLAINTEXT=1 where the network encrypts it another way"
            )

    @property
    def servers(self) -> list[str]:
        """The bootstrap addresses, one per broker."""
        return [address.strip() for address in self.bootstrap.split(",") if address.strip()]

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS client context (verifying the brokers' names), or None without TLS."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=str(self.tls_ca) if self.tls_ca else None)
        if self.tls_cert and self.tls_key:
            context.load_cert_chain(self.tls_cert, self.tls_key)
        return context

    def client_config(self, **options: Any) -> dict[str, Any]:
        """Keyword arguments for an aiokafka or kafka-python client, with the given options."""
        config: dict[str, Any] = {
            "bootstrap_servers": self.servers,
            "security_protocol": self.security_protocol,
        }
        if self.uses_tls:
            config["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            config |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        return config | options

    def producer_config(self, **options: Any) -> dict[str, Any]:
        """client_config for a producer: its requests held to the topics' record limit."""
        return self.client_config(max_request_size=self.max_record_bytes, **options)

    def consumer_config(self, **options: Any) -> dict[str, Any]:
        """client_config for a consumer that reads records: room for one at the record limit."""
        return self.client_config(max_partition_fetch_bytes=self.fetch_bytes, **options)

    @property
    def fetch_bytes(self) -> int:
        """What a consumer fetches from a partition at once: room for a record at the limit
        (not every broker hands over a record larger than the fetch size asked for)."""
        return 2 * self.max_record_bytes

    def faust_broker(self) -> str:
        """The broker URL Faust takes."""
        return ";".join(f"kafka://{address}" for address in self.servers)

    def faust_credentials(self) -> faust.types.auth.CredentialsT | None:
        """The credentials Faust takes: SASL (over TLS or not), TLS alone, or none."""
        from faust.auth import SASLCredentials, SSLCredentials

        if self.uses_sasl:
            return SASLCredentials(
                username=self.sasl_username,
                password=self.sasl_password,
                ssl_context=self.ssl_context(),
                mechanism=self.sasl_mechanism,
            )
        if self.uses_tls:
            return SSLCredentials(self.ssl_context())
        return None
