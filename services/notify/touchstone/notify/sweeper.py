"""Notify's clock at work: every few seconds, the sweep tells late steps, escalates, and closes
lost cases (notify/overdue.py says what is decided, the store how)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import mode

from touchstone.notify.playbooks import RecoveryPolicy
from touchstone.notify.ports import Swept
from touchstone.platform.runtime.clock import wall_clock
from touchstone.platform.runtime.metrics import CASES, OVERDUE_STEPS
from touchstone.platform.runtime.outages import log_failure

log = logging.getLogger(__name__)

COUNT_EVERY_S = 30.0  # how often the case gauges are refreshed


class Sweepable(Protocol):
    """A store the clock can sweep."""

    async def sweep(self, now: datetime, policy: RecoveryPolicy) -> Swept:
        """Decide what the clock decides at `now`; what was told."""

    async def case_counts(self, now: datetime) -> tuple[dict[str, int], int]:
        """Cases by status, and people's steps of open cases past their due time."""


class Sweeper(mode.Service):
    """Sweeps the store every `every` seconds by the clock; a failed sweep is logged and the
    next one tries again (nothing is lost: each batch is one transaction)."""

    def __init__(
        self,
        store: Sweepable,
        policy: RecoveryPolicy,
        every_s: float,
        clock: Callable[[], datetime] = wall_clock,
        **kwargs: Any,
    ) -> None:
        self.store = store
        self.policy = policy
        self.every_s = every_s
        self.clock = clock
        super().__init__(**kwargs)

    @mode.Service.task
    async def _sweep(self) -> None:
        counted_at: float | None = None
        while not self.should_stop:
            try:
                now = self.clock()
                swept = await self.store.sweep(now, self.policy)
                if swept.due or swept.escalated or swept.lost:
                    log.info("notify clock: %s", swept)
                # counting every case reads the whole table: not every second, as sweeping does
                if counted_at is None or time.monotonic() - counted_at >= COUNT_EVERY_S:
                    await self._count(now)
                    counted_at = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, "notify's sweep failed", error)
            await self.sleep(self.every_s)

    async def _count(self, now: datetime) -> None:
        """Set the case gauges."""
        by_status, overdue = await self.store.case_counts(now)
        for status in ("open", "recovered", "lost"):
            CASES.labels(status).set(by_status.get(status, 0))
        OVERDUE_STEPS.set(overdue)
