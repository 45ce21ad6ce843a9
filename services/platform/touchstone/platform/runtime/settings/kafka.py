"""Kafka: how every client of a process reaches the brokers, and the topics it creates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.messaging.kafka_connection import (
    PROTOCOLS,
    SASL_MECHANISMS,
    KafkaConnection,
)
from touchstone.platform.runtime.settings.declared import setting


@dataclass(frozen=True)
class KafkaSettings:
    """Kafka's settings (TOUCHSTONE_KAFKA_*, the record limit and the topics created)."""

    kafka_bootstrap: str = setting(
        "TOUCHSTONE_KAFKA_BOOTSTRAP",
        "127.0.0.1:19092",
        doc="Kafka bootstrap servers, comma-separated",
    )
    kafka_security_protocol: str = setting(
        "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL",
        "PLAINTEXT",
        choices=PROTOCOLS,
        doc="`SSL` or `SASL_SSL` for brokers beyond this machine (`SASL_PLAINTEXT` too, with "
        "`TOUCHSTONE_KAFKA_PLAINTEXT=1`)",
    )
    kafka_tls_ca: Path | None = setting(
        "TOUCHSTONE_KAFKA_TLS_CA",
        None,
        shown="the system's CAs",
        doc="the CA the brokers' certificates chain to",
    )
    kafka_tls_cert: Path | None = setting(
        "TOUCHSTONE_KAFKA_TLS_CERT", None, doc="this client's certificate, for mutual TLS"
    )
    kafka_tls_key: Path | None = setting(
        "TOUCHSTONE_KAFKA_TLS_KEY", None, doc="this client's key, for mutual TLS"
    )
    kafka_sasl_mechanism: str = setting(
        "TOUCHSTONE_KAFKA_SASL_MECHANISM",
        "",
        choices=("", *SASL_MECHANISMS),
        doc="with `SASL_*`: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`",
    )
    kafka_sasl_username: str = setting(
        "TOUCHSTONE_KAFKA_SASL_USERNAME", "", doc="with `SASL_*`: the user name"
    )
    kafka_sasl_password: str = setting(
        "TOUCHSTONE_KAFKA_SASL_PASSWORD",
        "",
        secret=True,
        doc="with `SASL_*`: the password (from a Secret)",
    )
    kafka_plaintext: bool = setting(
        "TOUCHSTONE_KAFKA_PLAINTEXT",
        False,
        doc="allow plaintext Kafka beyond loopback (the network encrypts it); without TLS or "
        "this, the settings are refused",
    )
    max_record_bytes: int = setting(
        "TOUCHSTONE_MAX_RECORD_BYTES",
        1_048_576,
        low=2048,
        doc="every producer's `max_request_size` and the `max.message.bytes` each topic is "
        "created with (deploy's KafkaTopics match it); a dead letter of a larger record keeps "
        "the head of its body (`dlq_truncated`, `dlq_size`, `dlq_sha256`; contacts keeps the "
        "whole in Postgres)",
    )
    topic_partitions: int = setting(
        "TOUCHSTONE_TOPIC_PARTITIONS", 4, low=1, doc="partitions for topics Touchstone creates"
    )
    topic_replicas: int = setting(
        "TOUCHSTONE_TOPIC_REPLICAS",
        1,
        low=1,
        doc="replication factor for topics `touchstone topics` creates (3 on a production cluster)",
    )

    def __post_init__(self) -> None:
        _ = self.kafka  # incomplete, or in clear beyond loopback: refused

    @property
    def kafka(self) -> KafkaConnection:
        """How every Kafka client of this process connects: the brokers, TLS and SASL."""
        return KafkaConnection(
            bootstrap=self.kafka_bootstrap,
            security_protocol=self.kafka_security_protocol,
            tls_ca=self.kafka_tls_ca,
            tls_cert=self.kafka_tls_cert,
            tls_key=self.kafka_tls_key,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            plaintext_ok=self.kafka_plaintext,
            max_record_bytes=self.max_record_bytes,
        )
