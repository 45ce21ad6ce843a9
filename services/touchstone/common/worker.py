"""One process per service: a Faust worker consuming in batches, a Postgres pool and a gRPC server.

The agent does only decode → handler → publish; the handler owns the batch's single Postgres
transaction. A batch is acknowledged only after its outgoing records are delivered, so a crash
anywhere means redelivery, which the idempotent handlers make harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import faust
import mode
from psycopg_pool import AsyncConnectionPool

from touchstone.common.pg import apply_migrations, open_pool
from touchstone.common.rpc import ServiceBinding, start_server
from touchstone.common.settings import Settings
from touchstone.common.topics import Incoming, Outgoing, header_map

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 10.0


class BatchHandler(Protocol):
    """Turns one batch of incoming records into the records to publish, idempotently."""

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]: ...


@dataclass(frozen=True)
class ServiceSpec:
    """What makes a service: its inputs, its handler, its gRPC servicers and its schema."""

    name: str
    input_topics: tuple[str, ...]
    migrations: Path
    make_handler: Callable[[AsyncConnectionPool, Settings], BatchHandler]
    make_bindings: Callable[[AsyncConnectionPool, Settings], list[ServiceBinding]]


class PostgresPoolService(mode.Service):
    """Opens the pool before the agents start and closes it after they stop."""

    def __init__(self, pool: AsyncConnectionPool, **kwargs: Any) -> None:
        self.pool = pool
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def on_stop(self) -> None:
        await self.pool.close()


class GrpcService(mode.Service):
    """Runs the service's grpc.aio server inside the worker's event loop."""

    def __init__(self, address: str, bindings: list[ServiceBinding], **kwargs: Any) -> None:
        self.address = address
        self.bindings = bindings
        self._server: Any = None
        self._health: Any = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        self._server, self._health = await start_server(self.address, self.bindings)

    async def on_stop(self) -> None:
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(grace=2)


def build_app(name: str, settings: Settings) -> faust.App:
    """A Faust app tuned for batch consumption on a small machine and on the embedded broker."""
    return faust.App(
        f"touchstone-{name}",
        broker=";".join(f"kafka://{h}" for h in settings.kafka_bootstrap.split(",")),
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        topic_partitions=settings.topic_partitions,
        consumer_auto_offset_reset="earliest",
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_session_timeout=max(settings.rebalance_timeout_s, 6.0),
        broker_heartbeat_interval=1.0,
        broker_commit_every=settings.batch_size * 2,
        broker_commit_interval=1.0,
        producer_linger=0.002,
        stream_buffer_maxsize=settings.batch_size * 4,
        worker_redirect_stdouts=False,
    )


def to_incoming(event: Any) -> Incoming:
    """The transport-neutral view of a Faust event."""
    message = event.message
    return Incoming(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=header_map(message.headers),
        timestamp_ms=int((message.timestamp or 0) * 1000),
    )


async def handle_until_done(handler: BatchHandler, batch: Sequence[Incoming]) -> list[Outgoing]:
    """Handle the batch, retrying with backoff on failure: a batch is never skipped."""
    delay = 0.2
    while True:
        try:
            return await handler.handle(batch)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("batch of %d failed; retrying in %.1fs", len(batch), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_S)


async def publish(producer: Any, records: Sequence[Outgoing]) -> None:
    """Send the records and wait until the broker has them all."""
    pending = [
        await producer.send(r.topic, r.key, r.value, None, None, list(r.headers)) for r in records
    ]
    if pending:
        await asyncio.gather(*pending)


def attach_batch_agent(
    app: faust.App, topics: Sequence[str], handler: BatchHandler, settings: Settings
) -> None:
    """Consume the topics in batches through the handler, publishing what it returns."""
    channel = app.topic(*topics, key_serializer="raw", value_serializer="raw")

    async def consume(stream: Any) -> None:  # faust.Stream: take_events is not on StreamT
        async for events in stream.take_events(settings.batch_size, settings.batch_within_s):
            batch = [to_incoming(e) for e in events]
            await publish(app.producer, await handle_until_done(handler, batch))

    app.agent(channel, name=f"{app.conf.id}.consume")(consume)


def run_service(spec: ServiceSpec, settings: Settings) -> None:
    """Migrate the schema, then run the worker until it is told to stop."""
    apply_migrations(settings.database_url, spec.name, spec.migrations)
    app = build_app(spec.name, settings)
    pool = open_pool(settings.database_url)
    attach_batch_agent(app, spec.input_topics, spec.make_handler(pool, settings), settings)
    services = [
        PostgresPoolService(pool),
        GrpcService(settings.grpc_address(spec.name), spec.make_bindings(pool, settings)),
    ]
    worker = faust.Worker(app, *services, loglevel=settings.log_level.upper(), quiet=True)
    worker.execute_from_commandline()
