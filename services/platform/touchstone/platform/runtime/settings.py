"""Settings from environment variables: the one table an operator reads (see README)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class Settings:
    """Everything a Touchstone process may be told; defaults run the embedded local stack."""

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_security_protocol: str = "PLAINTEXT"  # SSL or SASL_SSL beyond this machine
    kafka_tls_ca: Path | None = None  # the CA the brokers' certificates chain to (system CAs: None)
    kafka_tls_cert: Path | None = None  # this client's certificate for mutual TLS ...
    kafka_tls_key: Path | None = None  # ... and key
    kafka_sasl_mechanism: str = ""  # PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, with SASL_*
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = field(default="", repr=False)
    kafka_plaintext: bool = False  # allow PLAINTEXT beyond loopback (the network encrypts)
    database_url: str = "postgresql://touchstone@127.0.0.1:15432/touchstone"
    database_tls_ca: Path | None = None  # given: sslmode=verify-full against this CA
    database_tls_cert: Path | None = None  # this client's certificate for mutual TLS ...
    database_tls_key: Path | None = None  # ... and key
    database_plaintext: bool = False  # allow an unencrypted database beyond loopback
    database_timeout_s: float = 3.0  # the longest a query waits for a connection (connecting
    # included) before it fails UNAVAILABLE; readiness checks the database within it too
    state_dir: Path = Path(".touchstone")
    grpc_host: str = "127.0.0.1"
    grpc_ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_GRPC_PORTS))
    metrics_ports: Mapping[str, int] = field(  # /metrics on grpc_host; 0: none
        default_factory=lambda: dict(DEFAULT_METRICS_PORTS)
    )
    http_ports: Mapping[str, int] = field(  # the API as HTTP/JSON on grpc_host; 0: none
        default_factory=lambda: dict(DEFAULT_HTTP_PORTS)
    )
    service_addresses: Mapping[str, str] = field(  # where clients call a service (host:port),
        default_factory=dict  # when it is not grpc_host:its port (compose, Kubernetes)
    )
    topic_partitions: int = 4
    topic_replicas: int = 1  # replication factor of topics `touchstone topics` creates
    batch_size: int = 500
    batch_within_s: float = 0.05  # a busy consumer's fetch waits this long at the broker
    batch_fill: int = 20  # a small batch waits for this many records ...
    batch_linger_s: float = 0.2  # ... at most this long after its first (consumers.BatchWindow)
    idle_wait_s: float = 0.25  # a consumer with nothing to take for a second fetches this seldom
    rebalance_timeout_s: float = 4.0
    embedded: bool = True
    log_level: str = "warning"
    traces: str = "none"  # where spans go: none (no tracing), otlp (OTEL_EXPORTER_OTLP_*), console
    maps_dir: Path | None = None  # journey map definitions; None: the ones Touchstone ships
    standards_file: Path | None = None  # service standards; None: the ones Touchstone ships
    calendars_file: Path | None = None  # sites' business calendars; None: the shipped example
    churn_model_file: Path | None = None  # loyalty's churn model; None: the shipped one
    tiers_file: Path | None = None  # loyalty's tier cuts; None: the shipped ones
    playbooks_file: Path | None = None  # notify's recovery playbooks; None: the shipped ones
    sweep_every_s: float = 1.0  # how often notify's clock looks for late steps and lost cases
    smtp_host: str = "127.0.0.1"  # where notify sends email (the local stack's mail catcher)
    smtp_port: int = 1025
    smtp_tls_ca: Path | None = None  # given: STARTTLS verified against it, even on loopback
    smtp_username: str = ""  # given: notify logs in (after STARTTLS)
    smtp_password: str = field(default="", repr=False)
    dead_letter_bytes_days: int = 30  # contacts drops a dead letter's original bytes after this
    # (the dead-letter topic keeps records as long); why it died stays
    identity_keys: str = field(default="", repr=False)  # contacts' key ring for keyed identity
    # hashes (id:base64url,…, current first); empty: the public development key, embedded only
    smtp_plaintext: bool = False  # allow SMTP without STARTTLS beyond loopback
    mail_from: str = "Touchstone <care@touchstone.local>"
    webhook_url: str = ""  # where notify posts webhook deliveries; empty: none are sent
    webhook_secret: str = ""  # signs them (HMAC-SHA256); required with webhook_url
    delivery_lease_s: float = 30.0  # an attempt in flight this long is in doubt: tried again
    messages_per_day: int = 3  # emails one customer gets a day, at most
    messages_dir: Path | None = None  # notify's message templates; None: the shipped ones
    consumer: str = "aiokafka"  # or "faust": Faust agents with take_events (slower, see README)
    auth: bool = True  # every gRPC call but health and reflection needs a bearer token
    auth_keys_file: Path | None = None  # the JWKS tokens are verified against (public keys)
    auth_issuer: str = "touchstone"  # the `iss` tokens must carry
    auth_audience: str = "touchstone"  # the `aud` tokens must carry
    auth_signing_key: Path | None = None  # development only: clients mint their own tokens
    auth_max_token_hours: float = MAX_LIFETIME_S / 3600  # longer-lived tokens are refused
    token: str = ""  # the bearer token this process's clients send (the CLI's, say)
    grpc_tls_cert: Path | None = None  # the servers' certificate (PEM) ...
    grpc_tls_key: Path | None = None  # ... and key: with both, every server speaks TLS only
    grpc_tls_client_ca: Path | None = None  # servers: given, clients need a certificate (mTLS)
    grpc_tls_ca: Path | None = None  # clients: the CA servers' certificates chain to (TLS on)
    grpc_tls_client_cert: Path | None = None  # clients: their certificate for mTLS ...
    grpc_tls_client_key: Path | None = None  # ... and key
    grpc_plaintext: bool = False  # allow plaintext beyond loopback (a service mesh encrypts)
    grpc_health_port: int = 0  # on grpc_host, plaintext grpc.health.v1 alone for probes that
    # cannot speak TLS (Kubernetes' gRPC probes; one service per pod); 0: none
    rate_ingest_per_s: float = 500.0  # ingest calls a second per caller (0: unlimited)
    rate_calls_per_s: float = 100.0  # every other call, a second per caller (0: unlimited)
    max_streams: int = 16  # streams (server or client) one caller may hold open (0: unlimited)
    max_call_s: float = 30.0  # the longest a unary call may run on the server (0: no limit)
    max_request_bytes: int = 4 * 1024 * 1024  # larger requests end RESOURCE_EXHAUSTED
    max_record_bytes: int = 1_048_576  # every producer's max_request_size and topic's
    # max.message.bytes: one limit, so what a service sends the broker takes
    ingest_max_lag: int = 100_000  # contacts this many records behind on touchpoints.v1 answers
    # ingest calls RESOURCE_EXHAUSTED (retry in 5 s) instead of taking more (0: never)
    max_touchpoint_bytes: int = 65_536  # larger touchpoints are refused (field "value"): a
    # recorded touchpoint must fit a record with room to spare

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
        """Read TOUCHSTONE_* variables; an unset variable keeps its default."""
        env = os.environ if env is None else env
        read = EnvReader(env)
        base = cls()
        ports = {
            name: read.integer(f"TOUCHSTONE_{name.upper()}_GRPC_PORT", port, high=65_535)
            for name, port in DEFAULT_GRPC_PORTS.items()
        }
        metrics = {
            name: read.integer(f"TOUCHSTONE_{name.upper()}_METRICS_PORT", port, high=65_535)
            for name, port in DEFAULT_METRICS_PORTS.items()
        }
        http = {
            name: read.integer(f"TOUCHSTONE_{name.upper()}_HTTP_PORT", port, high=65_535)
            for name, port in DEFAULT_HTTP_PORTS.items()
        }
        addresses = {
            name: address
            for name in SERVICES
            if (address := env.get(f"TOUCHSTONE_{name.upper()}_ADDRESS", "").strip())
        }
        external = "TOUCHSTONE_KAFKA_BOOTSTRAP" in env or "TOUCHSTONE_DATABASE_URL" in env
        return cls(
            kafka_bootstrap=env.get("TOUCHSTONE_KAFKA_BOOTSTRAP", base.kafka_bootstrap),
            kafka_security_protocol=read.choice(
                "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL", base.kafka_security_protocol, PROTOCOLS
            ),
            kafka_tls_ca=read.path("TOUCHSTONE_KAFKA_TLS_CA"),
            kafka_tls_cert=read.path("TOUCHSTONE_KAFKA_TLS_CERT"),
            kafka_tls_key=read.path("TOUCHSTONE_KAFKA_TLS_KEY"),
            kafka_sasl_mechanism=read.choice(
                "TOUCHSTONE_KAFKA_SASL_MECHANISM", "", ("", *SASL_MECHANISMS)
            ),
            kafka_sasl_username=env.get("TOUCHSTONE_KAFKA_SASL_USERNAME", ""),
            kafka_sasl_password=env.get("TOUCHSTONE_KAFKA_SASL_PASSWORD", ""),
            kafka_plaintext=read.flag("TOUCHSTONE_KAFKA_PLAINTEXT", False),
            database_url=env.get("TOUCHSTONE_DATABASE_URL", base.database_url),
            database_tls_ca=read.path("TOUCHSTONE_DATABASE_TLS_CA"),
            database_tls_cert=read.path("TOUCHSTONE_DATABASE_TLS_CERT"),
            database_tls_key=read.path("TOUCHSTONE_DATABASE_TLS_KEY"),
            database_plaintext=read.flag("TOUCHSTONE_DATABASE_PLAINTEXT", False),
            database_timeout_s=read.number(
                "TOUCHSTONE_DATABASE_TIMEOUT_S", base.database_timeout_s, low=0.1
            ),
            state_dir=Path(env.get("TOUCHSTONE_STATE_DIR", str(base.state_dir))),
            grpc_host=env.get("TOUCHSTONE_GRPC_HOST", base.grpc_host),
            grpc_ports=ports,
            metrics_ports=metrics,
            http_ports=http,
            service_addresses=addresses,
            topic_partitions=read.integer(
                "TOUCHSTONE_TOPIC_PARTITIONS", base.topic_partitions, low=1
            ),
            topic_replicas=read.integer("TOUCHSTONE_TOPIC_REPLICAS", base.topic_replicas, low=1),
            batch_size=read.integer("TOUCHSTONE_BATCH_SIZE", base.batch_size, low=1),
            batch_within_s=read.number("TOUCHSTONE_BATCH_WITHIN_S", base.batch_within_s),
            batch_fill=read.integer("TOUCHSTONE_BATCH_FILL", base.batch_fill, low=1),
            batch_linger_s=read.number("TOUCHSTONE_BATCH_LINGER_S", base.batch_linger_s),
            idle_wait_s=read.number("TOUCHSTONE_IDLE_WAIT_S", base.idle_wait_s),
            rebalance_timeout_s=read.number(
                "TOUCHSTONE_REBALANCE_TIMEOUT_S", base.rebalance_timeout_s, low=0.1
            ),
            embedded=read.flag("TOUCHSTONE_EMBEDDED", not external),
            log_level=read.choice("TOUCHSTONE_LOG_LEVEL", base.log_level, LOG_LEVELS),
            traces=read.choice("TOUCHSTONE_TRACES", base.traces, TRACE_EXPORTERS),
            consumer=read.choice("TOUCHSTONE_CONSUMER", base.consumer, CONSUMERS),
            sweep_every_s=read.number("TOUCHSTONE_SWEEP_EVERY_S", base.sweep_every_s, low=0.01),
            smtp_host=env.get("TOUCHSTONE_SMTP_HOST", base.smtp_host),
            smtp_port=read.integer("TOUCHSTONE_SMTP_PORT", base.smtp_port, low=1, high=65_535),
            smtp_tls_ca=read.path("TOUCHSTONE_SMTP_TLS_CA"),
            smtp_username=env.get("TOUCHSTONE_SMTP_USERNAME", ""),
            smtp_password=env.get("TOUCHSTONE_SMTP_PASSWORD", ""),
            identity_keys=env.get("TOUCHSTONE_IDENTITY_KEYS", ""),
            dead_letter_bytes_days=read.integer(
                "TOUCHSTONE_DEAD_LETTER_BYTES_DAYS", base.dead_letter_bytes_days, low=1
            ),
            smtp_plaintext=read.flag("TOUCHSTONE_SMTP_PLAINTEXT", False),
            mail_from=env.get("TOUCHSTONE_MAIL_FROM", base.mail_from),
            webhook_url=env.get("TOUCHSTONE_WEBHOOK_URL", base.webhook_url),
            webhook_secret=env.get("TOUCHSTONE_WEBHOOK_SECRET", base.webhook_secret),
            delivery_lease_s=read.number(
                "TOUCHSTONE_DELIVERY_LEASE_S", base.delivery_lease_s, low=1
            ),
            messages_per_day=read.integer("TOUCHSTONE_MESSAGES_PER_DAY", base.messages_per_day),
            messages_dir=read.path("TOUCHSTONE_MESSAGES_DIR"),
            maps_dir=read.path("TOUCHSTONE_MAPS_DIR"),
            standards_file=read.path("TOUCHSTONE_STANDARDS_FILE"),
            calendars_file=read.path("TOUCHSTONE_CALENDARS_FILE"),
            churn_model_file=read.path("TOUCHSTONE_CHURN_MODEL_FILE"),
            tiers_file=read.path("TOUCHSTONE_TIERS_FILE"),
            playbooks_file=read.path("TOUCHSTONE_PLAYBOOKS_FILE"),
            auth=read.flag("TOUCHSTONE_AUTH", True),
            auth_keys_file=read.path("TOUCHSTONE_AUTH_KEYS"),
            auth_issuer=env.get("TOUCHSTONE_AUTH_ISSUER", base.auth_issuer),
            auth_audience=env.get("TOUCHSTONE_AUTH_AUDIENCE", base.auth_audience),
            auth_signing_key=read.path("TOUCHSTONE_AUTH_SIGNING_KEY"),
            auth_max_token_hours=read.number(
                "TOUCHSTONE_AUTH_MAX_TOKEN_HOURS", base.auth_max_token_hours, low=0.01
            ),
            token=env.get("TOUCHSTONE_TOKEN", ""),
            grpc_tls_cert=read.path("TOUCHSTONE_GRPC_TLS_CERT"),
            grpc_tls_key=read.path("TOUCHSTONE_GRPC_TLS_KEY"),
            grpc_tls_client_ca=read.path("TOUCHSTONE_GRPC_TLS_CLIENT_CA"),
            grpc_tls_ca=read.path("TOUCHSTONE_GRPC_TLS_CA"),
            grpc_tls_client_cert=read.path("TOUCHSTONE_GRPC_TLS_CLIENT_CERT"),
            grpc_tls_client_key=read.path("TOUCHSTONE_GRPC_TLS_CLIENT_KEY"),
            grpc_plaintext=read.flag("TOUCHSTONE_GRPC_PLAINTEXT", False),
            grpc_health_port=read.integer("TOUCHSTONE_GRPC_HEALTH_PORT", 0, high=65_535),
            rate_ingest_per_s=read.number("TOUCHSTONE_RATE_INGEST", base.rate_ingest_per_s),
            rate_calls_per_s=read.number("TOUCHSTONE_RATE_CALLS", base.rate_calls_per_s),
            max_streams=read.integer("TOUCHSTONE_MAX_STREAMS", base.max_streams),
            max_call_s=read.number("TOUCHSTONE_MAX_CALL_S", base.max_call_s),
            max_request_bytes=read.integer(
                "TOUCHSTONE_MAX_REQUEST_BYTES", base.max_request_bytes, low=1024
            ),
            max_record_bytes=read.integer(
                "TOUCHSTONE_MAX_RECORD_BYTES", base.max_record_bytes, low=2048
            ),
            max_touchpoint_bytes=read.integer(
                "TOUCHSTONE_MAX_TOUCHPOINT_BYTES", base.max_touchpoint_bytes
            ),
            ingest_max_lag=read.integer("TOUCHSTONE_INGEST_MAX_LAG", base.ingest_max_lag),
        )

    def as_env(self) -> dict[str, str]:
        """The variables that hand these settings to a child process."""
        env = {
            "TOUCHSTONE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": self.kafka_security_protocol,
            "TOUCHSTONE_KAFKA_SASL_MECHANISM": self.kafka_sasl_mechanism,
            "TOUCHSTONE_KAFKA_SASL_USERNAME": self.kafka_sasl_username,
            "TOUCHSTONE_KAFKA_SASL_PASSWORD": self.kafka_sasl_password,
            "TOUCHSTONE_KAFKA_PLAINTEXT": "1" if self.kafka_plaintext else "0",
            "TOUCHSTONE_DATABASE_URL": self.database_url,
            "TOUCHSTONE_DATABASE_PLAINTEXT": "1" if self.database_plaintext else "0",
            "TOUCHSTONE_DATABASE_TIMEOUT_S": str(self.database_timeout_s),
            "TOUCHSTONE_STATE_DIR": str(self.state_dir),
            "TOUCHSTONE_GRPC_HOST": self.grpc_host,
            "TOUCHSTONE_TOPIC_PARTITIONS": str(self.topic_partitions),
            "TOUCHSTONE_TOPIC_REPLICAS": str(self.topic_replicas),
            "TOUCHSTONE_BATCH_SIZE": str(self.batch_size),
            "TOUCHSTONE_BATCH_WITHIN_S": str(self.batch_within_s),
            "TOUCHSTONE_BATCH_FILL": str(self.batch_fill),
            "TOUCHSTONE_BATCH_LINGER_S": str(self.batch_linger_s),
            "TOUCHSTONE_IDLE_WAIT_S": str(self.idle_wait_s),
            "TOUCHSTONE_REBALANCE_TIMEOUT_S": str(self.rebalance_timeout_s),
            "TOUCHSTONE_EMBEDDED": "1" if self.embedded else "0",
            "TOUCHSTONE_LOG_LEVEL": self.log_level,
            "TOUCHSTONE_TRACES": self.traces,
            "TOUCHSTONE_CONSUMER": self.consumer,
            "TOUCHSTONE_SWEEP_EVERY_S": str(self.sweep_every_s),
            "TOUCHSTONE_SMTP_HOST": self.smtp_host,
            "TOUCHSTONE_SMTP_PORT": str(self.smtp_port),
            "TOUCHSTONE_SMTP_USERNAME": self.smtp_username,
            "TOUCHSTONE_SMTP_PASSWORD": self.smtp_password,
            "TOUCHSTONE_IDENTITY_KEYS": self.identity_keys,
            "TOUCHSTONE_DEAD_LETTER_BYTES_DAYS": str(self.dead_letter_bytes_days),
            "TOUCHSTONE_SMTP_PLAINTEXT": "1" if self.smtp_plaintext else "0",
            "TOUCHSTONE_MAIL_FROM": self.mail_from,
            "TOUCHSTONE_WEBHOOK_URL": self.webhook_url,
            "TOUCHSTONE_WEBHOOK_SECRET": self.webhook_secret,
            "TOUCHSTONE_DELIVERY_LEASE_S": str(self.delivery_lease_s),
            "TOUCHSTONE_MESSAGES_PER_DAY": str(self.messages_per_day),
            "TOUCHSTONE_AUTH": "1" if self.auth else "0",
            "TOUCHSTONE_AUTH_ISSUER": self.auth_issuer,
            "TOUCHSTONE_AUTH_AUDIENCE": self.auth_audience,
            "TOUCHSTONE_AUTH_MAX_TOKEN_HOURS": str(self.auth_max_token_hours),
        }
        if self.auth_keys_file is not None:
            env["TOUCHSTONE_AUTH_KEYS"] = str(self.auth_keys_file)
        if self.auth_signing_key is not None:
            env["TOUCHSTONE_AUTH_SIGNING_KEY"] = str(self.auth_signing_key)
        env["TOUCHSTONE_GRPC_PLAINTEXT"] = "1" if self.grpc_plaintext else "0"
        env["TOUCHSTONE_GRPC_HEALTH_PORT"] = str(self.grpc_health_port)
        env["TOUCHSTONE_RATE_INGEST"] = str(self.rate_ingest_per_s)
        env["TOUCHSTONE_RATE_CALLS"] = str(self.rate_calls_per_s)
        env["TOUCHSTONE_MAX_STREAMS"] = str(self.max_streams)
        env["TOUCHSTONE_MAX_CALL_S"] = str(self.max_call_s)
        env["TOUCHSTONE_MAX_REQUEST_BYTES"] = str(self.max_request_bytes)
        env["TOUCHSTONE_MAX_RECORD_BYTES"] = str(self.max_record_bytes)
        env["TOUCHSTONE_MAX_TOUCHPOINT_BYTES"] = str(self.max_touchpoint_bytes)
        env["TOUCHSTONE_INGEST_MAX_LAG"] = str(self.ingest_max_lag)
        tls = {
            "TOUCHSTONE_GRPC_TLS_CERT": self.grpc_tls_cert,
            "TOUCHSTONE_GRPC_TLS_KEY": self.grpc_tls_key,
            "TOUCHSTONE_GRPC_TLS_CLIENT_CA": self.grpc_tls_client_ca,
            "TOUCHSTONE_GRPC_TLS_CA": self.grpc_tls_ca,
            "TOUCHSTONE_GRPC_TLS_CLIENT_CERT": self.grpc_tls_client_cert,
            "TOUCHSTONE_GRPC_TLS_CLIENT_KEY": self.grpc_tls_client_key,
            "TOUCHSTONE_KAFKA_TLS_CA": self.kafka_tls_ca,
            "TOUCHSTONE_KAFKA_TLS_CERT": self.kafka_tls_cert,
            "TOUCHSTONE_KAFKA_TLS_KEY": self.kafka_tls_key,
            "TOUCHSTONE_DATABASE_TLS_CA": self.database_tls_ca,
            "TOUCHSTONE_DATABASE_TLS_CERT": self.database_tls_cert,
            "TOUCHSTONE_DATABASE_TLS_KEY": self.database_tls_key,
            "TOUCHSTONE_SMTP_TLS_CA": self.smtp_tls_ca,
        }
        env.update({name: str(path) for name, path in tls.items() if path is not None})
        if self.maps_dir is not None:
            env["TOUCHSTONE_MAPS_DIR"] = str(self.maps_dir)
        if self.standards_file is not None:
            env["TOUCHSTONE_STANDARDS_FILE"] = str(self.standards_file)
        if self.calendars_file is not None:
            env["TOUCHSTONE_CALENDARS_FILE"] = str(self.calendars_file)
        if self.churn_model_file is not None:
            env["TOUCHSTONE_CHURN_MODEL_FILE"] = str(self.churn_model_file)
        if self.tiers_file is not None:
            env["TOUCHSTONE_TIERS_FILE"] = str(self.tiers_file)
        if self.playbooks_file is not None:
            env["TOUCHSTONE_PLAYBOOKS_FILE"] = str(self.playbooks_file)
        if self.messages_dir is not None:
            env["TOUCHSTONE_MESSAGES_DIR"] = str(self.messages_dir)
        env.update(
            {f"TOUCHSTONE_{n.upper()}_GRPC_PORT": str(p) for n, p in self.grpc_ports.items()}
        )
        env.update(
            {f"TOUCHSTONE_{n.upper()}_METRICS_PORT": str(p) for n, p in self.metrics_ports.items()}
        )
        env.update(
            {f"TOUCHSTONE_{n.upper()}_HTTP_PORT": str(p) for n, p in self.http_ports.items()}
        )
        env.update(
            {f"TOUCHSTONE_{n.upper()}_ADDRESS": a for n, a in self.service_addresses.items()}
        )
        return env


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The process's settings, or SystemExit naming the variable that is wrong (no traceback)."""
    try:
        return Settings.from_env(env)
    except ValueError as wrong:
        raise SystemExit(f"touchstone: setting refused: {wrong}") from None
