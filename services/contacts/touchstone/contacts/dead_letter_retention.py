"""Dead letters keep their original bytes for so long only (TOUCHSTONE_DEAD_LETTER_BYTES_DAYS,
as long as the dead-letter topic keeps them). A record that could not be read may hold anyone's
personal data, and erasure finds a dead letter only when its bytes decode or its key names the
customer; age is what takes the rest. Why each one died (reason, field, source, when) stays."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import mode

from touchstone.platform.runtime.clock import wall_clock
from touchstone.platform.runtime.outages import log_failure

log = logging.getLogger(__name__)
EVERY_S = 3600.0  # bytes outlive their term by at most this


class ForgetsDeadLetterBytes(Protocol):
    async def forget_bytes_before(self, cutoff: datetime) -> int: ...


class ForgetOldDeadLetterBytes(mode.Service):
    """At start and every hour, drops the bytes of dead letters older than `keep`."""

    def __init__(
        self,
        store: ForgetsDeadLetterBytes,
        keep: timedelta,
        every_s: float = EVERY_S,
        clock: Callable[[], datetime] = wall_clock,
        **kwargs: Any,
    ) -> None:
        self.store = store
        self.keep = keep
        self.every_s = every_s
        self.clock = clock
        super().__init__(**kwargs)

    @mode.Service.task
    async def _forget(self) -> None:
        while not self.should_stop:
            try:
                if forgotten := await self.store.forget_bytes_before(self.clock() - self.keep):
                    log.info(
                        "contacts: bytes of %d dead letters past their term dropped", forgotten
                    )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, "contacts could not drop old dead letters' bytes", error)
            await self.sleep(self.every_s)
