"""The sender drains the delivery outbox: one loop per channel takes the next due deliveries,
makes the attempt among them and records how it went
(services/notify/touchstone/notify/delivery_store.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import mode

from touchstone.notify.channels import Channel, DeliveryFailed
from touchstone.notify.ports import Attempt, DeliveryQueue
from touchstone.platform.runtime.clock import wall_clock
from touchstone.platform.runtime.metrics import DELIVERIES
from touchstone.platform.runtime.outages import log_failure

log = logging.getLogger(__name__)

IDLE_POLL_S = 1.0  # a delivery falls due within a second of its time; an idle sender looks no more


class Sender(mode.Service):
    """Sends every due delivery, one attempt at a time per channel."""

    def __init__(
        self,
        deliveries: DeliveryQueue,
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime] = wall_clock,
        **kwargs: Any,
    ) -> None:
        self.deliveries = deliveries
        self.channels = channels
        self.clock = clock
        super().__init__(**kwargs)

    async def on_started(self) -> None:
        for name in self.channels:
            self.add_future(self._drain(name))

    async def on_stop(self) -> None:
        for channel in self.channels.values():
            await channel.close()

    async def _drain(self, name: str) -> None:
        while not self.should_stop:
            try:
                taken = await self.send_next(name)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, f"the {name} sender failed", error)
                taken = 0
            if not taken:
                await self.sleep(IDLE_POLL_S)

    async def send_next(self, name: str) -> int:
        """Take and settle the channel's next due deliveries (up to the first attempt, made
        here); how many were taken, 0 if none was due."""
        taken = await self.deliveries.take(name, self.clock())
        for delivery in taken:
            if isinstance(delivery, Attempt):
                await self.attempt(self.channels[name], delivery)
            else:
                DELIVERIES.labels(name, delivery.outcome).inc()
        return len(taken)

    async def attempt(self, channel: Channel, attempt: Attempt) -> None:
        """Make the attempt and record its outcome."""
        try:
            await channel.send(attempt)
        except Exception as error:  # a channel's own bug fails the attempt, not the sender
            permanent = isinstance(error, DeliveryFailed) and error.permanent
            reason = str(error) if isinstance(error, DeliveryFailed) else type(error).__name__
            outcome = await self.deliveries.failed(attempt, self.clock(), reason, permanent)
            DELIVERIES.labels(attempt.channel, outcome).inc()
            log.warning(
                "delivery %s: %s (%s)",
                attempt.delivery_id,
                reason,
                outcome,
                extra={"delivery_id": attempt.delivery_id, "case_id": attempt.case_id},
            )
            return
        await self.deliveries.sent(attempt, self.clock())
        DELIVERIES.labels(attempt.channel, "sent").inc()
