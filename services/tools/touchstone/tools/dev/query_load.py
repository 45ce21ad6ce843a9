"""Queries under load: front-ends reading while touchpoints pour in.

A process of its own (so the publisher's load does not delay its clock) calls GetCustomer,
ListMoments, GetCustomerValue and ListCases in turn at a fixed total rate, open loop: each call
is due at its place in the schedule and its latency counts from then, so a server that falls
behind shows in the figures instead of slowing the caller down. The customers looked up are
drawn from the touchpoints already handled, one per touchpoint (staff look up the customer in
front of them: a frequent customer is looked up often). The calls come from CALLERS front-end
users, each its own token subject, as a shop's staff would: the services limit each caller's
calls a second (TOUCHSTONE_RATE_CALLS, 100 by default).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from touchstone.contacts.v1.contacts_service_pb2 import GetCustomerRequest
from touchstone.contacts.v1.contacts_service_pb2_grpc import ContactsServiceStub
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest
from touchstone.journey.v1.journey_service_pb2_grpc import JourneyServiceStub
from touchstone.loyalty.v1.loyalty_service_pb2 import GetCustomerValueRequest
from touchstone.loyalty.v1.loyalty_service_pb2_grpc import LoyaltyServiceStub
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest
from touchstone.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.platform.security.transport import async_client_channel
from touchstone.tools.dev.bench_load import percentiles
from touchstone.tools.ops.client import token_for

METHODS = ("GetCustomer", "ListMoments", "GetCustomerValue", "ListCases")
CALLERS = 16  # front-end users; at 1,000 calls/s each makes 62.5/s, under the 100/s limit
CALL_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class QueryPlan:
    """Whom to look up, how fast and for how long."""

    customers: Sequence[str]  # drawn from, with repeats (one per handled touchpoint)
    calls_per_s: float
    seconds: float
    seed: int = 11


@dataclass(frozen=True)
class MethodFigures:
    """One method's calls under load."""

    calls: int
    failed: int  # answered with an error status other than NOT_FOUND (DEADLINE_EXCEEDED: not
    # in CALL_TIMEOUT_S); their time is in the percentiles too
    p50_ms: float
    p99_ms: float

    def as_json(self) -> dict[str, float]:
        return {
            "calls": self.calls,
            "failed": self.failed,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
        }


def schedule(plan: QueryPlan) -> list[tuple[float, str, str]]:
    """Every call of the plan: (seconds after the start it is due, method, customer), the
    methods in turn so each gets an equal share of the rate."""
    rng = random.Random(plan.seed)
    count = int(plan.calls_per_s * plan.seconds)
    return [
        (n / plan.calls_per_s, METHODS[n % len(METHODS)], rng.choice(plan.customers))
        for n in range(count)
    ]


def method_figures(
    latencies_ms: dict[str, list[float]], failures: dict[str, int]
) -> dict[str, MethodFigures]:
    """Each method's p50 and p99 over all its calls (failed ones too), and how many failed."""
    figures = {}
    for method in METHODS:
        timed = latencies_ms.get(method, [])
        p50, p99 = percentiles(timed)
        figures[method] = MethodFigures(len(timed), failures.get(method, 0), p50, p99)
    return figures


class QueryLoad:
    """The query process: started (connected and ready), then told to go; its figures after."""

    def __init__(self, settings: Settings, plan: QueryPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self.ready, self.go, self.out = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(
            target=run_queries, args=(settings, plan, self.ready, self.go, self.out), daemon=True
        )
        self.plan = plan

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"the query process was not ready within {START_TIMEOUT_S:.0f} s")
        self.go.set()

    def figures(self) -> dict[str, MethodFigures]:
        """Wait for the plan to be done; each method's figures."""
        latencies_ms, failures = self.out.get(timeout=self.plan.seconds + 120)
        self.process.join(10)
        return method_figures(latencies_ms, failures)


def run_queries(settings: Settings, plan: QueryPlan, ready: Any, go: Any, out: Any) -> None:
    """The query process's body: connect, say ready, wait for go, run the plan, send the
    latencies and failures by method."""
    out.put(asyncio.run(_run(settings, plan, ready, go)))


async def _run(
    settings: Settings, plan: QueryPlan, ready: Any, go: Any
) -> tuple[dict[str, list[float]], dict[str, int]]:
    channels = {
        name: async_client_channel(settings, settings.service_address(name)) for name in SERVICES
    }
    calls = _calls(channels)
    tokens = [token_for(settings, "admin", f"bench-frontend-{n}") for n in range(CALLERS)]
    latencies_ms: dict[str, list[float]] = {method: [] for method in METHODS}
    failures: dict[str, int] = {}
    try:
        for channel in channels.values():
            await channel.channel_ready()
        ready.set()
        await asyncio.to_thread(go.wait)
        started = time.perf_counter()
        pending = set()
        for n, (due, method, customer) in enumerate(schedule(plan)):
            if (wait := started + due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            metadata = (("authorization", f"Bearer {tokens[n % CALLERS]}"),) if tokens[0] else ()
            call = calls[method](customer, metadata)
            task = asyncio.create_task(_timed(call, started + due, method, latencies_ms, failures))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
    finally:
        for channel in channels.values():
            await channel.close()
    return latencies_ms, failures


def _calls(
    channels: dict[str, grpc.aio.Channel],
) -> dict[str, Callable[[str, Any], Awaitable[Any]]]:
    """Each method, as a call taking a customer id and the call's metadata."""
    contacts = ContactsServiceStub(channels["contacts"])
    journey = JourneyServiceStub(channels["journey"])
    loyalty = LoyaltyServiceStub(channels["loyalty"])
    notify = NotifyServiceStub(channels["notify"])
    timeout = CALL_TIMEOUT_S
    return {
        "GetCustomer": lambda c, m: contacts.GetCustomer(
            GetCustomerRequest(customer_id=c), metadata=m, timeout=timeout
        ),
        "ListMoments": lambda c, m: journey.ListMoments(
            ListMomentsRequest(customer_id=c), metadata=m, timeout=timeout
        ),
        "GetCustomerValue": lambda c, m: loyalty.GetCustomerValue(
            GetCustomerValueRequest(customer_id=c), metadata=m, timeout=timeout
        ),
        "ListCases": lambda c, m: notify.ListCases(
            ListCasesRequest(customer_id=c), metadata=m, timeout=timeout
        ),
    }


async def _timed(
    call: Awaitable[Any],
    due: float,
    method: str,
    latencies_ms: dict[str, list[float]],
    failures: dict[str, int],
) -> None:
    """Await the call; its latency from when it was due, whatever the answer (a call that ran
    out of time counts the time it took), and whether it failed (NOT_FOUND is an answer: a
    customer contacts merged away, say)."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            failures[method] = failures.get(method, 0) + 1
    latencies_ms[method].append((time.perf_counter() - due) * 1000)
