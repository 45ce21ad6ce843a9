"""The Faust way to consume (TOUCHSTONE_CONSUMER=faust): a Faust agent over
`stream.take_events(n, within)`, each batch through the same BatchHandler and dead letters as
the default aiokafka loop (consumers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import faust

from touchstone.platform.messaging.consumers import (
    BatchHandler,
    consumer_group,
    incoming,
    settle_batch,
)
from touchstone.platform.messaging.record_size import fitted
from touchstone.platform.messaging.topics import Outgoing
from touchstone.platform.runtime.settings import Settings


def attach_faust_agent(
    app: faust.App,
    topics: Sequence[str],
    handler: BatchHandler,
    settings: Settings,
    dead_letter_topic: str,
) -> None:
    """Consume the topics with a Faust agent in take_events batches through the handler."""
    channel = app.topic(*topics, key_serializer="raw", value_serializer="raw")

    async def consume(stream: Any) -> None:  # faust.Stream: take_events is not on StreamT
        async for events in stream.take_events(settings.batch_size, settings.batch_within_s):
            batch = [incoming(e.message, int((e.message.timestamp or 0) * 1000)) for e in events]
            await settle_batch(handler, batch, dead_letter_topic, send)

    async def send(records: Sequence[Outgoing]) -> None:
        sendable = [fitted(r, settings.max_record_bytes) for r in records]
        pending = [
            await app.producer.send(r.topic, r.key, r.value, r.partition, None, list(r.headers))
            for r in sendable
        ]
        if pending:
            await asyncio.gather(*pending)

    app.agent(channel, name=f"{app.conf.id}.consume")(consume)


def faust_app(name: str, settings: Settings) -> faust.App:
    """A Faust app tuned for batch consumption on a small machine and on the embedded broker."""
    datadir = settings.state_dir / "faust" / name  # its (empty) table folders: not in the cwd
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        consumer_group(name, "faust"),
        broker=settings.kafka.faust_broker(),
        broker_credentials=settings.kafka.faust_credentials(),
        store="memory://",
        datadir=str(datadir),
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
        producer_max_request_size=settings.max_record_bytes,
        consumer_max_fetch_size=settings.kafka.fetch_bytes,
        stream_buffer_maxsize=settings.batch_size * 4,
        worker_redirect_stdouts=False,
    )
