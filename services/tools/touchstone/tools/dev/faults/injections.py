"""The harm the fault suite does to a running stack, while the services work through the backlog.

Each injection waits until the services are under way, does its harm, and returns when the
harm is over (the process restarted, Postgres or the broker back); the runner then times how
long the system takes to settle. Each notes the records in flight when it struck, so a fault
that landed after the work was done shows as such instead of passing unseen.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.faults.proxy import TcpProxy
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.lag import LagReader

log = logging.getLogger(__name__)
# The services whose records reach each one (journey reads contacts'; loyalty and notify read
# contacts', journey's and each other's)
UPSTREAM = {
    "contacts": (),
    "journey": ("contacts",),
    "loyalty": ("contacts", "journey", "notify"),
    "notify": ("contacts", "journey", "loyalty"),
}
UNDER_WAY_S = 60.0  # the first harm strikes once contacts has handled some of the backlog, or
# after this long at the latest


@dataclass
class Harm:
    """What an injection works on, and what it saw."""

    stack: LocalStack
    proxy: TcpProxy
    lags: LagReader
    stop: threading.Event = field(default_factory=threading.Event)
    in_flight: list[int] = field(default_factory=list)  # records not yet handled, at each strike

    def strike(self, service: str = "") -> None:
        """Note the records still in flight for the harmed service: its own and those of the
        services upstream of it, which will reach it (a service that keeps up with its input
        often has none of its own for a moment); every service's when the harm is to what they
        share. A reading the broker did not answer is read again, for up to a few seconds."""
        deadline = time.monotonic() + 3.0
        lags = self.lags.read()
        while None in lags.values() and time.monotonic() < deadline:
            lags = self.lags.read()
        feeding = {service, *UPSTREAM.get(service, ())} if service else set(lags)
        self.in_flight.append(sum(lags.get(name) or 0 for name in feeding))

    def wait(self, seconds: float) -> None:
        self.stop.wait(seconds)

    def serving(self) -> None:
        """Wait until every service serves (the injector starts with them: a harm to what they
        share waits for them to be up, as a kill need not)."""
        self.stack.services.wait_until_serving(timeout=120)

    def under_way(self, service: str = "contacts") -> None:
        """Wait until the service (contacts: the stream's head) has committed part of its
        backlog (the stream is flowing), or all of it: a small backlog may be gone by the first
        reading, and waiting for a lag that never falls again would strike only once everything
        downstream was done too."""
        deadline = time.monotonic() + UNDER_WAY_S
        first: int | None = None
        while not self.stop.is_set() and time.monotonic() < deadline:
            lag = self.lags.lag_of(service)
            if lag is not None:
                if lag == 0 or (first is not None and lag < first):
                    return
                first = lag if first is None else max(first, lag)
            self.stop.wait(0.2)

    def drained(self, service: str) -> None:
        """Wait until the service has committed its whole backlog (at most UNDER_WAY_S)."""
        deadline = time.monotonic() + UNDER_WAY_S
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self.lags.lag_of(service) == 0:
                return
            self.stop.wait(0.2)


Injection = Callable[[Harm], None]


def killed(service: str, times: int = 3, between_s: float = 1.0) -> Injection:
    """kill -9 the service `times` times, each time started again at once and killed again
    `between_s` after it serves (contacts works through the 20,000-touchpoint backlog in about
    15 s: every kill must land while it still has records in flight)."""

    def inject(harm: Harm) -> None:
        services = harm.stack.services
        if service not in services.procs:  # the row held it back (Row.behind): it starts
            harm.drained("contacts")  # with all that contacts made of the backlog to do, and
            services.start((service,))  # is killed once it has committed some of it
            harm.under_way(service)
        else:
            harm.under_way()  # watched from the services' start: a backlog is soon handled
        for n in range(times):
            if n:
                harm.wait(between_s)
            if harm.stop.is_set():
                return  # the row is over (settled, or failed): no process outlives its stack
            # what was in flight is read once the process is dead (it commits nothing more),
            # not before the kill: a reading takes long enough for a small backlog to be done
            harm.stack.services.restart(service, signal.SIGKILL, lambda: harm.strike(service))
            harm.stack.services.wait_until_serving(timeout=120)

    return inject


def database_away(seconds: float) -> Injection:
    """Postgres stopped for `seconds`, then started again on the same data."""

    def inject(harm: Harm) -> None:
        postgres = harm.stack.infra.postgres
        if postgres is None:
            raise RuntimeError("the fault suite needs the embedded Postgres")
        harm.serving()
        harm.under_way()
        harm.strike()
        postgres.stop()
        harm.wait(seconds)
        postgres.start()

    return inject


def broker_cut(seconds: float) -> Injection:
    """Every connection to the broker dropped and refused for `seconds`."""

    def inject(harm: Harm) -> None:
        harm.serving()
        harm.under_way()
        harm.strike()
        harm.proxy.cut()
        harm.wait(seconds)
        harm.proxy.restore()

    return inject


def worker_joins_and_dies(service: str, alive_s: float = 3.0) -> Injection:
    """A second worker of the service joins its group, takes partitions, and is killed -9
    `alive_s` after it serves (journey works through the backlog in about 20 s: the kill must
    land while it still has records in flight)."""

    def inject(harm: Harm) -> None:
        harm.serving()
        harm.under_way()
        harm.strike(service)
        services = harm.stack.services
        services.start_worker(service, "second", grpc_port=free_port())
        services.wait_until_serving(timeout=120)
        harm.wait(alive_s)
        harm.strike(service)
        services.stop((f"{service}/second",), sig=signal.SIGKILL)

    return inject


def fault_free(harm: Harm) -> None:
    """No harm: the reference run."""
