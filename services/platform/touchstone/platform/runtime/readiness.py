"""Readiness: a service says SERVING only while it can do its work.

Every READINESS_EVERY_S the watch checks that the database answers (a connection and `SELECT 1`
within TOUCHSTONE_DATABASE_TIMEOUT_S), that the broker answers (its metadata, within the same)
and that the consumer holds partitions of its input. The gRPC health of the whole server and of
its service follows: NOT_SERVING, with the reasons logged once, while any check fails; SERVING
again when all pass. `liveness` stays SERVING while the process answers, so an orchestrator stops
routing calls to a service that cannot work rather than restarting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import mode
from psycopg_pool import AsyncConnectionPool

from touchstone.platform.messaging.kafka_connection import KafkaConnection

log = logging.getLogger(__name__)

READINESS_EVERY_S = 1.0
Check = Callable[[], Awaitable[str]]  # '' when all is well, else what is wrong


class HealthSetter(Protocol):
    """What the watch tells: the server's readiness."""

    async def set_ready(self, ready: bool) -> None: ...


def database_check(pool: AsyncConnectionPool, timeout_s: float) -> Check:
    """Whether the database gives a connection and answers within timeout_s."""

    async def check() -> str:
        try:
            async with asyncio.timeout(timeout_s):
                async with pool.connection(timeout=timeout_s) as conn:
                    await conn.execute("SELECT 1")
        except Exception as error:
            return f"the database does not answer ({type(error).__name__})"
        return ""

    return check


class BrokerCheck:
    """Whether the broker answers a metadata request within timeout_s (a client of its own,
    kept between checks)."""

    def __init__(self, kafka: KafkaConnection, timeout_s: float) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s
        self._client: Any = None

    async def __call__(self) -> str:
        from aiokafka.client import AIOKafkaClient

        try:
            async with asyncio.timeout(self.timeout_s):
                if self._client is None:
                    client = AIOKafkaClient(**self.kafka.client_config(client_id="readiness"))
                    try:
                        await client.bootstrap()
                    except BaseException:
                        await client.close()
                        raise
                    self._client = client
                await self._client.fetch_all_metadata()
        except Exception as error:
            return f"the broker does not answer ({type(error).__name__})"
        return ""

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()


def partitions_check(holds_partitions: Callable[[], bool]) -> Check:
    """Whether the consumer has been assigned partitions of its input."""

    async def check() -> str:
        try:
            held = holds_partitions()
        except Exception:  # a consumer not started yet (Faust's raises) holds nothing
            held = False
        return "" if held else "no partitions of its input assigned yet"

    return check


class Readiness(mode.Service):
    """Keeps the server's health true to the checks (module docstring)."""

    def __init__(
        self,
        name: str,
        server: HealthSetter,
        checks: Sequence[Check],
        broker: BrokerCheck | None = None,
        every_s: float = READINESS_EVERY_S,
        **kwargs: Any,
    ) -> None:
        self.service_name = name
        self.server = server
        self.checks: list[Check] = [*checks, *([broker] if broker else [])]
        self.broker = broker
        self.every_s = every_s
        self.ready: bool | None = None
        super().__init__(**kwargs)

    async def on_stop(self) -> None:
        if self.broker is not None:
            await self.broker.close()

    @mode.Service.task
    async def _watch(self) -> None:
        while not self.should_stop:
            await self.check_once()
            await self.sleep(self.every_s)

    async def check_once(self) -> list[str]:
        """Run the checks and tell the server; what is wrong ([] when ready)."""
        said = await asyncio.gather(*(check() for check in self.checks), return_exceptions=True)
        wrong = [f"a check failed: {w!r}" if isinstance(w, BaseException) else w for w in said]
        wrong = [w for w in wrong if w]
        ready = not wrong
        if ready != self.ready:
            if ready:
                tell = log.warning if self.ready is False else log.info  # again, or at start
                tell("%s: ready (SERVING)", self.service_name)
            else:
                log.warning("%s: not ready (NOT_SERVING): %s", self.service_name, "; ".join(wrong))
            self.ready = ready
            await self.server.set_ready(ready)
        return wrong
