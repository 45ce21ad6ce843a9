"""Settings from environment variables: the one table an operator reads (docs/configuration.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from touchstone.platform.messaging.kafka_connection import (
    PROTOCOLS,
    SASL_MECHANISMS,
    KafkaConnection,
)
from touchstone.platform.runtime.env_reader import EnvReader, SettingError
from touchstone.platform.security.auth import MAX_LIFETIME_S
from touchstone.platform.security.data_transport import DatabaseConnection

SERVICES = ("contacts", "journey", "loyalty", "notify")
CONSUMERS = ("aiokafka", "faust")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
TRACE_EXPORTERS = ("none", "otlp", "console")
DEFAULT_GRPC_PORTS = {"contacts": 50051, "journey": 50052, "loyalty": 50053, "notify": 50054}
DEFAULT_METRICS_PORTS = {"contacts": 9101, "journey": 9102, "loyalty": 9103, "notify": 9104}
DEFAULT_HTTP_PORTS = {"contacts": 8081, "journey": 8082, "loyalty": 8083, "notify": 8084}


def setting(
    env: str,
    default: Any,
    *,
    low: float | None = None,
    high: int | None = None,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    handed_on: bool = True,
) -> Any:
    """A field read from the variable `env` (the one place it is named): from_env reads it,
    checked against low, high or the choices; as_env hands it on to child processes (unless
    not handed_on); a secret is left out of repr."""
    meta = {"env": env, "low": low, "high": high, "choices": choices, "handed_on": handed_on}
    return field(default=default, repr=not secret, metadata=meta)


def per_service(pattern: str, defaults: Mapping[str, Any], *, high: int | None = None) -> Any:
    """A field with one variable a service (pattern with {} for its name in capitals)."""
    meta = {"env": pattern, "high": high, "per_service": True, "handed_on": True}
    return field(default_factory=lambda: dict(defaults), metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Everything a Touchstone process may be told; defaults run the embedded local stack."""

    kafka_bootstrap: str = setting("TOUCHSTONE_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    # SSL or SASL_SSL beyond this machine
    kafka_security_protocol: str = setting(
        "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", choices=PROTOCOLS
    )
    # the CA the brokers' certificates chain to (system CAs: None)
    kafka_tls_ca: Path | None = setting("TOUCHSTONE_KAFKA_TLS_CA", None)
    # this client's certificate for mutual TLS ...
    kafka_tls_cert: Path | None = setting("TOUCHSTONE_KAFKA_TLS_CERT", None)
    # ... and key
    kafka_tls_key: Path | None = setting("TOUCHSTONE_KAFKA_TLS_KEY", None)
    # PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, with SASL_*
    kafka_sasl_mechanism: str = setting(
        "TOUCHSTONE_KAFKA_SASL_MECHANISM", "", choices=("", *SASL_MECHANISMS)
    )
    kafka_sasl_username: str = setting("TOUCHSTONE_KAFKA_SASL_USERNAME", "")
    kafka_sasl_password: str = setting("TOUCHSTONE_KAFKA_SASL_PASSWORD", "", secret=True)
    # allow PLAINTEXT beyond loopback (the network encrypts)
    kafka_plaintext: bool = setting("TOUCHSTONE_KAFKA_PLAINTEXT", False)
    database_url: str = setting(
        "TOUCHSTONE_DATABASE_URL", "postgresql://touchstone@127.0.0.1:15432/touchstone"
    )
    # given: sslmode=verify-full against this CA
    database_tls_ca: Path | None = setting("TOUCHSTONE_DATABASE_TLS_CA", None)
    # this client's certificate for mutual TLS ...
    database_tls_cert: Path | None = setting("TOUCHSTONE_DATABASE_TLS_CERT", None)
    # ... and key
    database_tls_key: Path | None = setting("TOUCHSTONE_DATABASE_TLS_KEY", None)
    # allow an unencrypted database beyond loopback
    database_plaintext: bool = setting("TOUCHSTONE_DATABASE_PLAINTEXT", False)
    # the longest a query waits for a connection (connecting included) before it fails UNAVAILABLE;
    # readiness checks the database within it too
    database_timeout_s: float = setting("TOUCHSTONE_DATABASE_TIMEOUT_S", 3.0, low=0.1)
    state_dir: Path = setting("TOUCHSTONE_STATE_DIR", Path(".touchstone"))
    grpc_host: str = setting("TOUCHSTONE_GRPC_HOST", "127.0.0.1")
    grpc_ports: Mapping[str, int] = per_service(
        "TOUCHSTONE_{}_GRPC_PORT", DEFAULT_GRPC_PORTS, high=65_535
    )
    # /metrics on grpc_host; 0: none
    metrics_ports: Mapping[str, int] = per_service(
        "TOUCHSTONE_{}_METRICS_PORT", DEFAULT_METRICS_PORTS, high=65_535
    )
    # the API as HTTP/JSON on grpc_host; 0: none
    http_ports: Mapping[str, int] = per_service(
        "TOUCHSTONE_{}_HTTP_PORT", DEFAULT_HTTP_PORTS, high=65_535
    )
    # where clients call a service (host:port), when it is not grpc_host:its port (compose,
    # Kubernetes)
    service_addresses: Mapping[str, str] = per_service("TOUCHSTONE_{}_ADDRESS", {})
    topic_partitions: int = setting("TOUCHSTONE_TOPIC_PARTITIONS", 4, low=1)
    # replication factor of topics `touchstone topics` creates
    topic_replicas: int = setting("TOUCHSTONE_TOPIC_REPLICAS", 1, low=1)
    batch_size: int = setting("TOUCHSTONE_BATCH_SIZE", 500, low=1)
    # a busy consumer's fetch waits this long at the broker
    batch_within_s: float = setting("TOUCHSTONE_BATCH_WITHIN_S", 0.05)
    # a small batch waits for this many records ...
    batch_fill: int = setting("TOUCHSTONE_BATCH_FILL", 20, low=1)
    # ... at most this long after its first (consumers.BatchWindow)
    batch_linger_s: float = setting("TOUCHSTONE_BATCH_LINGER_S", 0.2)
    # a consumer with nothing to take for a second fetches this seldom
    idle_wait_s: float = setting("TOUCHSTONE_IDLE_WAIT_S", 0.25)
    rebalance_timeout_s: float = setting("TOUCHSTONE_REBALANCE_TIMEOUT_S", 4.0, low=0.1)
    embedded: bool = setting("TOUCHSTONE_EMBEDDED", True)
    log_level: str = setting("TOUCHSTONE_LOG_LEVEL", "warning", choices=LOG_LEVELS)
    # where spans go: none (no tracing), otlp (OTEL_EXPORTER_OTLP_*), console
    traces: str = setting("TOUCHSTONE_TRACES", "none", choices=TRACE_EXPORTERS)
    # journey map definitions; None: the ones Touchstone ships
    maps_dir: Path | None = setting("TOUCHSTONE_MAPS_DIR", None)
    # service standards; None: the ones Touchstone ships
    standards_file: Path | None = setting("TOUCHSTONE_STANDARDS_FILE", None)
    # sites' business calendars; None: the shipped example
    calendars_file: Path | None = setting("TOUCHSTONE_CALENDARS_FILE", None)
    # loyalty's churn model; None: the shipped one
    churn_model_file: Path | None = setting("TOUCHSTONE_CHURN_MODEL_FILE", None)
    # loyalty's tier cuts; None: the shipped ones
    tiers_file: Path | None = setting("TOUCHSTONE_TIERS_FILE", None)
    # notify's recovery playbooks; None: the shipped ones
    playbooks_file: Path | None = setting("TOUCHSTONE_PLAYBOOKS_FILE", None)
    # how often notify's clock looks for late steps and lost cases
    sweep_every_s: float = setting("TOUCHSTONE_SWEEP_EVERY_S", 1.0, low=0.01)
    # where notify sends email (the local stack's mail catcher)
    smtp_host: str = setting("TOUCHSTONE_SMTP_HOST", "127.0.0.1")
    smtp_port: int = setting("TOUCHSTONE_SMTP_PORT", 1025, low=1, high=65_535)
    # given: STARTTLS verified against it, even on loopback
    smtp_tls_ca: Path | None = setting("TOUCHSTONE_SMTP_TLS_CA", None)
    # given: notify logs in (after STARTTLS)
    smtp_username: str = setting("TOUCHSTONE_SMTP_USERNAME", "")
    smtp_password: str = setting("TOUCHSTONE_SMTP_PASSWORD", "", secret=True)
    # contacts drops a dead letter's original bytes after this (the dead-letter topic keeps records
    # as long); why it died stays
    dead_letter_bytes_days: int = setting("TOUCHSTONE_DEAD_LETTER_BYTES_DAYS", 30, low=1)
    # contacts' key ring for keyed identity hashes (id:base64url,…, current first); empty: the
    # public development key, embedded only
    identity_keys: str = setting("TOUCHSTONE_IDENTITY_KEYS", "", secret=True)
    # allow SMTP without STARTTLS beyond loopback
    smtp_plaintext: bool = setting("TOUCHSTONE_SMTP_PLAINTEXT", False)
    mail_from: str = setting("TOUCHSTONE_MAIL_FROM", "Touchstone <care@touchstone.local>")
    # where notify posts webhook deliveries; empty: none are sent
    webhook_url: str = setting("TOUCHSTONE_WEBHOOK_URL", "")
    # signs them (HMAC-SHA256); required with webhook_url
    webhook_secret: str = setting("TOUCHSTONE_WEBHOOK_SECRET", "", secret=True)
    # an attempt in flight this long is in doubt: tried again
    delivery_lease_s: float = setting("TOUCHSTONE_DELIVERY_LEASE_S", 30.0, low=1)
    # emails one customer gets a day, at most
    messages_per_day: int = setting("TOUCHSTONE_MESSAGES_PER_DAY", 3)
    # notify's message templates; None: the shipped ones
    messages_dir: Path | None = setting("TOUCHSTONE_MESSAGES_DIR", None)
    # or "faust": Faust agents with take_events (slower: docs/how-it-works.md)
    consumer: str = setting("TOUCHSTONE_CONSUMER", "aiokafka", choices=CONSUMERS)
    # every gRPC call but health and reflection needs a bearer token
    auth: bool = setting("TOUCHSTONE_AUTH", True)
    # the JWKS tokens are verified against (public keys)
    auth_keys_file: Path | None = setting("TOUCHSTONE_AUTH_KEYS", None)
    # the `iss` tokens must carry
    auth_issuer: str = setting("TOUCHSTONE_AUTH_ISSUER", "touchstone")
    # the `aud` tokens must carry
    auth_audience: str = setting("TOUCHSTONE_AUTH_AUDIENCE", "touchstone")
    # development only: clients mint their own tokens
    auth_signing_key: Path | None = setting("TOUCHSTONE_AUTH_SIGNING_KEY", None)
    # longer-lived tokens are refused
    auth_max_token_hours: float = setting(
        "TOUCHSTONE_AUTH_MAX_TOKEN_HOURS", MAX_LIFETIME_S / 3600, low=0.01
    )
    # the bearer token this process's clients send (the CLI's, say)
    token: str = setting("TOUCHSTONE_TOKEN", "", handed_on=False)
    # the servers' certificate (PEM) ...
    grpc_tls_cert: Path | None = setting("TOUCHSTONE_GRPC_TLS_CERT", None)
    # ... and key: with both, every server speaks TLS only
    grpc_tls_key: Path | None = setting("TOUCHSTONE_GRPC_TLS_KEY", None)
    # servers: given, clients need a certificate (mTLS)
    grpc_tls_client_ca: Path | None = setting("TOUCHSTONE_GRPC_TLS_CLIENT_CA", None)
    # clients: the CA servers' certificates chain to (TLS on)
    grpc_tls_ca: Path | None = setting("TOUCHSTONE_GRPC_TLS_CA", None)
    # clients: their certificate for mTLS ...
    grpc_tls_client_cert: Path | None = setting("TOUCHSTONE_GRPC_TLS_CLIENT_CERT", None)
    # ... and key
    grpc_tls_client_key: Path | None = setting("TOUCHSTONE_GRPC_TLS_CLIENT_KEY", None)
    # allow plaintext beyond loopback (a service mesh encrypts)
    grpc_plaintext: bool = setting("TOUCHSTONE_GRPC_PLAINTEXT", False)
    # on grpc_host, plaintext grpc.health.v1 alone for probes that cannot speak TLS (Kubernetes'
    # gRPC probes; one service per pod); 0: none
    grpc_health_port: int = setting("TOUCHSTONE_GRPC_HEALTH_PORT", 0, high=65_535)
    # ingest calls a second per caller (0: unlimited)
    rate_ingest_per_s: float = setting("TOUCHSTONE_RATE_INGEST", 500.0)
    # every other call, a second per caller (0: unlimited)
    rate_calls_per_s: float = setting("TOUCHSTONE_RATE_CALLS", 100.0)
    # streams (server or client) one caller may hold open (0: unlimited)
    max_streams: int = setting("TOUCHSTONE_MAX_STREAMS", 16)
    # the longest a unary call may run on the server (0: no limit)
    max_call_s: float = setting("TOUCHSTONE_MAX_CALL_S", 30.0)
    # larger requests end RESOURCE_EXHAUSTED
    max_request_bytes: int = setting("TOUCHSTONE_MAX_REQUEST_BYTES", 4 * 1024 * 1024, low=1024)
    # every producer's max_request_size and topic's max.message.bytes: one limit, so what a service
    # sends the broker takes
    max_record_bytes: int = setting("TOUCHSTONE_MAX_RECORD_BYTES", 1_048_576, low=2048)
    # contacts this many records behind on touchpoints.v1 answers ingest calls RESOURCE_EXHAUSTED
    # (retry in 5 s) instead of taking more (0: never)
    ingest_max_lag: int = setting("TOUCHSTONE_INGEST_MAX_LAG", 100_000)
    # larger touchpoints are refused (field "value"): a recorded touchpoint must fit a record with
    # room to spare
    max_touchpoint_bytes: int = setting("TOUCHSTONE_MAX_TOUCHPOINT_BYTES", 65_536)

    def __post_init__(self) -> None:
        if self.consumer not in CONSUMERS:
            raise ValueError(
                f"TOUCHSTONE_CONSUMER must be one of {CONSUMERS}, not {self.consumer!r}"
            )
        if not 1024 <= self.max_touchpoint_bytes <= self.max_record_bytes // 2:
            raise ValueError(
                f"TOUCHSTONE_MAX_TOUCHPOINT_BYTES ({self.max_touchpoint_bytes}) must be at least "
                f"1024 and at most half of TOUCHSTONE_MAX_RECORD_BYTES ({self.max_record_bytes}):"
                " a recorded touchpoint is the touchpoint and more"
            )
        if self.webhook_url and not self.webhook_secret:
            raise SettingError("TOUCHSTONE_WEBHOOK_SECRET is required with TOUCHSTONE_WEBHOOK_URL")
        # each connection checks itself as it is made: incomplete, or Kafka in clear, refused
        _ = self.kafka, self.database_connection

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

    def grpc_address(self, service: str) -> str:
        """host:port the named service's gRPC server listens on."""
        return f"{self.grpc_host}:{self.grpc_ports[service]}"

    def service_address(self, service: str) -> str:
        """host:port a client calls the named service at (the console, the CLI)."""
        return self.service_addresses.get(service) or self.grpc_address(service)

    def http_url(self, service: str) -> str:
        """Where the named service answers HTTP/JSON ('' when it does not)."""
        port = self.http_ports.get(service, 0)
        if not port:
            return ""
        scheme = "https" if self.grpc_tls_cert else "http"
        host = f"[{self.grpc_host}]" if ":" in self.grpc_host else self.grpc_host
        return f"{scheme}://{host}:{port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read each field's TOUCHSTONE_* variable (its `setting`); an unset variable keeps its
        default. TOUCHSTONE_EMBEDDED defaults to 1 unless Kafka or Postgres are named."""
        env = os.environ if env is None else env
        read = EnvReader(env)
        values = {f.name: _read(read, f) for f in fields(cls) if f.metadata}
        if "TOUCHSTONE_EMBEDDED" not in env:
            named = {"TOUCHSTONE_KAFKA_BOOTSTRAP", "TOUCHSTONE_DATABASE_URL"} & env.keys()
            values["embedded"] = not named
        return cls(**values)

    def as_env(self) -> dict[str, str]:
        """The variables that hand these settings to a child process."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if not f.metadata.get("handed_on") or value is None:
                continue
            if f.metadata.get("per_service"):
                named = f.metadata["env"]
                env.update({named.format(s.upper()): str(v) for s, v in value.items()})
            elif isinstance(value, bool):
                env[f.metadata["env"]] = "1" if value else "0"
            else:
                env[f.metadata["env"]] = str(value)
        return env


def _read(read: EnvReader, f: Field[Any]) -> Any:
    """A field's value from its variable, checked as the field's type and bounds say."""
    name, default, meta = f.metadata["env"], _default(f), f.metadata
    low, high = meta.get("low"), meta.get("high")
    if meta.get("per_service"):
        if f.type == "Mapping[str, int]":
            return {
                s: read.integer(name.format(s.upper()), port, high=high)
                for s, port in default.items()
            }
        variables = {s: read.env.get(name.format(s.upper()), "").strip() for s in SERVICES}
        return {s: value for s, value in variables.items() if value}
    if f.type == "bool":
        return read.flag(name, default)
    if f.type == "int":
        return read.integer(name, default, low=int(low or 0), high=high)
    if f.type == "float":
        return read.number(name, default, low=float(low or 0.0))
    if f.type == "Path":
        return Path(read.env.get(name, str(default)))
    if f.type == "Path | None":
        return read.path(name)
    if meta.get("choices"):
        return read.choice(name, default, meta["choices"])
    return read.env.get(name, default)


def _default(f: Field[Any]) -> Any:
    return f.default_factory() if callable(f.default_factory) else f.default


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The process's settings, or SystemExit naming the variable that is wrong (no traceback)."""
    try:
        return Settings.from_env(env)
    except ValueError as wrong:
        raise SystemExit(f"touchstone: setting refused: {wrong}") from None
