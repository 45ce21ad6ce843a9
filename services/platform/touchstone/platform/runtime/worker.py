"""One process per service: its consumer, a Postgres pool and a gRPC server, in one event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
import grpc
import mode
import psycopg
from psycopg_pool import AsyncConnectionPool

from touchstone.platform.messaging.consumers import BatchConsumerService, BatchHandler
from touchstone.platform.messaging.customer_links_store import FollowCustomerLinks
from touchstone.platform.messaging.faust_consumer import attach_faust_agent, faust_app
from touchstone.platform.messaging.outbox import OutboxRelay
from touchstone.platform.messaging.topics import AUDIT, CONTACTS_PROFILES
from touchstone.platform.persistence.pg import (
    CUSTOMER_LINKS_FAST,
    CUSTOMER_LINKS_MIGRATION,
    apply_migrations,
    open_pool,
    schema_exists,
)
from touchstone.platform.runtime.config_files import ConfigError
from touchstone.platform.runtime.env_reader import SettingError
from touchstone.platform.runtime.json_logs import logging_config
from touchstone.platform.runtime.metrics import GrpcMetrics, MeasuredHandler, serve_metrics
from touchstone.platform.runtime.readiness import (
    BrokerCheck,
    Readiness,
    database_check,
    partitions_check,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.tracing import start_tracing
from touchstone.platform.security.audit import KafkaAuditTrail
from touchstone.platform.security.auth import KeySet
from touchstone.platform.security.auth_interceptor import Authenticate
from touchstone.platform.security.hosts import PlaintextRefused
from touchstone.platform.security.limits import CALLS, INGEST, CallerLimits
from touchstone.platform.security.transport import ServerTls, server_tls
from touchstone.platform.serving.http_gateway import (
    HttpGateway,
    private_socket,
    remove_private_socket,
    routes,
)
from touchstone.platform.serving.rpc import (
    NOT_SERVING,
    SERVING,
    ServiceBinding,
    start_health_server,
    start_server,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayRules:
    """How `touchstone replay` rebuilds a service's tables from its input topics."""

    refused: str = ""  # why its state cannot be rebuilt from the log; empty: it can
    carried_over: tuple[str, ...] = ()  # tables copied from the old state, not rebuilt (outbox)
    unchecked: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # wall-clock columns
    # left out of the checksums, by table


@dataclass(frozen=True)
class ServiceSpec:
    """What makes a service: its inputs, store, handler, gRPC servicer and schema."""

    name: str
    input_topics: tuple[str, ...]
    dead_letter_topic: str  # where input it cannot handle goes, with the reason
    migrations: Path  # the service's own; every schema also gets the shared customer links
    store: Callable[[AsyncConnectionPool, Settings], Any]
    handler: Callable[[Any, Settings], BatchHandler]
    servicer: Callable[[Any, Settings], object]
    grpc_service: str  # full name, e.g. touchstone.journey.v1.JourneyService
    add_servicer: Callable[[Any, Any], None]
    relays_outbox: bool = False  # commands write events to <name>.outbox; relay them
    background: Callable[[Any, Settings], list[mode.Service]] | None = None  # e.g. a clock
    preflight: Callable[[Settings], object] | None = None  # settings only this service needs:
    # a SettingError stops it before it touches anything, in one line
    replay: ReplayRules = ReplayRules()
    reports_progress: bool = False  # tells journey's lanes how far its input has come (contacts)
    output_topics: tuple[str, ...] = ()  # what it writes besides dead letters and audit: its
    # Kafka user may write these and nothing else (deploy-check holds the KafkaUsers to it)
    follows_merges: bool = True  # folds contacts' merges from contacts.profiles.v1 (its store
    # is then CustomerLinks too); contacts, which makes the merges, does not, and loyalty reads
    # contacts.profiles.v1 itself: a merge or an erasure changes the values it keeps

    @property
    def written_topics(self) -> tuple[str, ...]:
        """Every topic it writes: its outputs, its dead letters and the audit trail."""
        return (*self.output_topics, self.dead_letter_topic, AUDIT)

    @property
    def consumed_topics(self) -> tuple[str, ...]:
        """Its input topics, and contacts' profile events when it follows merges."""
        return (*self.input_topics, CONTACTS_PROFILES) if self.follows_merges else self.input_topics

    def batch_handler(self, store: Any, settings: Settings) -> BatchHandler:
        """Its handler, folding contacts' merges too when it follows them, measured."""
        handler = self.handler(store, settings)
        if self.follows_merges:
            handler = FollowCustomerLinks(store, handler, self.dead_letter_topic)
        return MeasuredHandler(self.name, handler, self.dead_letter_topic)

    @property
    def migration_sources(self) -> tuple[Path, ...]:
        """Where the schema's migrations come from: its own and the shared customer links."""
        return (self.migrations, CUSTOMER_LINKS_MIGRATION, CUSTOMER_LINKS_FAST)

    def bindings(self, store: Any, settings: Settings) -> list[ServiceBinding]:
        """The gRPC services this service serves, over its store."""
        servicer = self.servicer(store, settings)
        return [ServiceBinding(self.grpc_service, servicer, self.add_servicer)]


class PostgresPoolService(mode.Service):
    """Opens the pool before the consumer starts and closes it after it stops."""

    def __init__(self, pool: AsyncConnectionPool, **kwargs: Any) -> None:
        self.pool = pool
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def on_stop(self) -> None:
        await self.pool.close()


class GrpcService(mode.Service):
    """Runs the service's grpc.aio server inside the worker's event loop."""

    def __init__(
        self,
        address: str,
        bindings: list[ServiceBinding],
        service: str,
        interceptors: list[grpc.aio.ServerInterceptor],
        tls: ServerTls | None,
        max_request_bytes: int,
        health_address: str | None = None,
        http_port: int = 0,
        **kwargs: Any,
    ) -> None:
        self.tls = tls
        self.http_port = http_port  # the same API as HTTP/JSON on the gRPC host (0: none)
        self._gateway: HttpGateway | None = None
        self.health_address = health_address  # plaintext health alone (rpc.start_health_server)
        self._health_server: Any = None
        self.max_request_bytes = max_request_bytes
        self.address = address
        self.bindings = bindings
        self.service = service
        self.interceptors = interceptors
        self._server: Any = None
        self._health: Any = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        local = private_socket() if self.http_port else None
        self._server, self._health = await start_server(
            self.address,
            self.bindings,
            [GrpcMetrics(self.service), *self.interceptors],
            self.tls.credentials() if self.tls else None,
            self.max_request_bytes,
            ready=False,  # until the readiness watch has checked
            local_address=local,
        )
        if self.health_address is not None:
            self._health_server = await start_health_server(self.health_address, self._health)
        if local is not None:
            names = [b.full_name for b in self.bindings]
            self._gateway = HttpGateway(routes(names), local, self.max_request_bytes)
            host = self.address.rsplit(":", 1)[0].strip("[]")
            await self._gateway.start(host, self.http_port, self.tls)

    async def set_ready(self, ready: bool) -> None:
        """SERVING or NOT_SERVING for the whole server and each service it binds."""
        if self._health is None:
            return
        status = SERVING if ready else NOT_SERVING
        for name in ["", *(b.full_name for b in self.bindings)]:
            await self._health.set(name, status)

    async def on_stop(self) -> None:
        if self._gateway is not None:
            await self._gateway.stop()
            remove_private_socket(self._gateway.target)
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(grace=2)
        if self._health_server is not None:
            await self._health_server.stop(grace=None)
        for interceptor in self.interceptors:
            if isinstance(interceptor, Authenticate):
                await interceptor.close()


def set_aside_schema(service: str) -> str:
    """Where `touchstone replay` keeps a service's old state while it rebuilds the live one."""
    return f"{service}_before_replay"


def refuse_during_replay(database_url: str, service: str) -> None:
    """Stop a worker from starting on a state a replay is rebuilding (or left half-built)."""
    aside = set_aside_schema(service)
    with psycopg.connect(database_url) as conn:
        if schema_exists(conn, aside):
            raise SystemExit(
                f"{service}: a replay is rebuilding its state, or was interrupted ({aside} holds "
                f"the old state): let it finish, or run `touchstone replay {service}`, which "
                f"puts the old state back first"
            )


def authentication(settings: Settings, service: str) -> list[grpc.aio.ServerInterceptor]:
    """The interceptor that verifies callers' tokens; SystemExit if auth is on without keys."""
    if not settings.auth:
        log.warning("%s: authentication is OFF (TOUCHSTONE_AUTH=0): anyone may call", service)
        return []
    if settings.auth_keys_file is None:
        raise SystemExit(
            f"{service}: TOUCHSTONE_AUTH_KEYS must name the JWKS file tokens are verified "
            f"against (or set TOUCHSTONE_AUTH=0 to run without authentication)"
        )
    keys = KeySet.from_file(
        settings.auth_keys_file,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        max_lifetime_s=settings.auth_max_token_hours * 3600,
    )
    limits = CallerLimits(
        {INGEST: settings.rate_ingest_per_s, CALLS: settings.rate_calls_per_s},
        settings.max_streams,
    )
    trail = KafkaAuditTrail(settings.kafka)
    return [Authenticate(keys, trail, service, limits, settings.max_call_s)]


def transport_security(settings: Settings, service: str) -> ServerTls | None:
    """The server's TLS; SystemExit if it would be plaintext where that is not allowed."""
    try:
        return server_tls(settings, settings.grpc_host)
    except PlaintextRefused as refused:
        raise SystemExit(f"{service}: {refused}") from refused


def run_service(spec: ServiceSpec, settings: Settings) -> None:
    """Migrate the schema, then run the worker until it is told to stop (SIGINT or SIGTERM)."""
    if spec.preflight is not None:
        try:
            spec.preflight(settings)
        except SettingError as refused:
            raise SystemExit(f"{spec.name} will not start: {refused}") from None
    start_tracing(spec.name, settings.traces)
    refuse_during_replay(settings.database, spec.name)
    apply_migrations(settings.database, spec.name, *spec.migration_sources)
    pool = open_pool(
        settings.database, timeout_s=settings.database_timeout_s, name=f"touchstone-{spec.name}"
    )
    try:  # the store, the handler and the API read the service's configuration files
        store = spec.store(pool, settings)
        handler = spec.batch_handler(store, settings)
        bindings = spec.bindings(store, settings)
    except ConfigError as refused:
        raise SystemExit(f"{spec.name} will not start:\n{refused}") from None
    serve_metrics(settings.grpc_host, settings.metrics_ports.get(spec.name, 0), spec.name)
    grpc_service = GrpcService(
        settings.grpc_address(spec.name),
        bindings,
        spec.name,
        authentication(settings, spec.name),
        transport_security(settings, spec.name),
        settings.max_request_bytes,
        f"{settings.grpc_host}:{settings.grpc_health_port}" if settings.grpc_health_port else None,
        settings.http_ports.get(spec.name, 0),
    )
    loglevel = settings.log_level.upper()
    extra: list[mode.Service] = []
    if spec.relays_outbox:
        # progress is told by the aiokafka consumer; with Faust's, journey keeps its old clock
        reports = spec.reports_progress and settings.consumer == "aiokafka"
        relay = OutboxRelay(pool, spec.name, settings, spec.dead_letter_topic, reports)
        extra.append(relay)
    if spec.background is not None:
        extra.extend(spec.background(store, settings))

    def readiness(holds_partitions: Callable[[], bool]) -> Readiness:
        timeout = settings.database_timeout_s
        checks = [database_check(pool, timeout), partitions_check(holds_partitions)]
        broker = BrokerCheck(settings.kafka, timeout)
        return Readiness(spec.name, grpc_service, checks, broker)

    if settings.consumer == "faust":
        app = faust_app(spec.name, settings)
        attach_faust_agent(app, spec.consumed_topics, handler, settings, spec.dead_letter_topic)
        worker: mode.Worker = faust.Worker(
            app,
            PostgresPoolService(pool),
            grpc_service,
            *extra,
            readiness(lambda: bool(app.consumer.assignment())),
            loglevel=loglevel,
            logging_config=logging_config(spec.name, loglevel),
            quiet=True,
        )
    else:
        consumer = BatchConsumerService(
            spec.name,
            spec.consumed_topics,
            handler,
            settings,
            spec.dead_letter_topic,
            reports_progress=spec.reports_progress,
        )
        worker = mode.Worker(
            PostgresPoolService(pool),
            grpc_service,
            consumer,
            *extra,
            readiness(consumer.holds_partitions),
            loglevel=loglevel,
            logging_config=logging_config(spec.name, loglevel),
            quiet=True,
        )
    worker.execute_from_commandline()
