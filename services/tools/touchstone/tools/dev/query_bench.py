"""`touchstone bench-queries`: loyalty's ranking and value-at-risk queries over many customers.

Loads a scratch database with N customers' values across 20 sites and two lost moments each
(Postgres COPY), then times ListTopCustomers (a site's top 20, and one tier of it) and
GetValueAtRisk (a site over a week) through loyalty's servicer, and the store taking one
payment (the customer revalued and their site re-tiered), many times each; prints p50 and p99
in milliseconds as one JSON line. The servicer runs in this process on the real Postgres store:
the figures are the query and its answer, without the gRPC transport.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg

from touchstone.loyalty.api import LoyaltyApi
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.service import SPEC
from touchstone.loyalty.store import PostgresLoyaltyStore
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.valuation import Facts
from touchstone.platform.persistence.pg import apply_migrations, create_scratch_database, open_pool
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.bench_load import percentiles
from touchstone.tools.dev.stack import Infrastructure

SITES = 20
START = datetime(2026, 1, 1, tzinfo=UTC)


class Context:
    """The one ServicerContext call the servicer could make (it aborts only on bad requests)."""

    async def abort_with_status(self, status: object) -> None:
        raise RuntimeError(f"the bench asked something wrong: {status}")


def load(url: str, customers: int, rng: random.Random) -> None:
    """customers values and 2 x customers lost moments, spread over sites and 90 days."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY loyalty.customer_values (customer_id, currency, average_spend_minor, purchases,"
            " visits, visits_per_year, expected_years, lifetime_value_minor, as_of, churn_risk,"
            " site_id) FROM STDIN"
        ) as copy:
            for n in range(customers):
                value = rng.randrange(100_000, 500_000_000)
                at = START + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
                copy.write_row(
                    (f"c{n}", "VND", 250_000, 4, 4, 16, 5, value, at, 0.2, f"s{n % SITES}")
                )
        with cur.copy(
            "COPY loyalty.moments_at_risk (moment_id, customer_id, site_id, occurred_at, currency,"
            " lifetime_value_minor, risk_before, risk_after, value_at_risk_minor, recovered,"
            " remaining_minor) FROM STDIN"
        ) as copy:
            for n in range(customers * 2):
                at = START + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
                site = f"s{(n // 2) % SITES}"
                risk = rng.randrange(0, 10_000_000)
                recovered = n % 5 == 0
                left = risk // 18 if recovered else risk
                row = (f"m{n}", f"c{n // 2}", site, at, "VND", 10**8, 0.2, 0.44, risk, recovered)
                copy.write_row((*row, left))
        conn.execute("ANALYZE loyalty.customer_values")
        conn.execute("ANALYZE loyalty.moments_at_risk")


async def timed(
    api: LoyaltyApi, store: PostgresLoyaltyStore, rng: random.Random, runs: int, customers: int
) -> dict[str, float]:
    """p50 and p99 (ms) of each query, after a warm-up."""
    context = Context()
    handler = ValueCustomers(store)  # its valuer; the fold publishes nothing here
    await store.retier()  # as the handler keeps them, before any payment is timed

    def top() -> pb.ListTopCustomersRequest:
        return pb.ListTopCustomersRequest(site_id=f"s{rng.randrange(SITES)}", n=20)

    def middle() -> pb.ListTopCustomersRequest:
        return pb.ListTopCustomersRequest(site_id=f"s{rng.randrange(SITES)}", n=20, tier="middle")

    def at_risk() -> pb.GetValueAtRiskRequest:
        request = pb.GetValueAtRiskRequest(site_id=f"s{rng.randrange(SITES)}")
        since = START + timedelta(days=rng.randrange(0, 83))
        request.since.FromDatetime(since)
        request.until.FromDatetime(since + timedelta(days=7))
        return request

    queries: dict[str, Callable[[], Awaitable[object]]] = {
        "top": lambda: api.ListTopCustomers(top(), context),
        "tier": lambda: api.ListTopCustomers(middle(), context),
        "at_risk": lambda: api.GetValueAtRisk(at_risk(), context),
        "payment": lambda: store.fold(Facts([a_payment(rng, customers)]), handler.value),
    }
    result: dict[str, float] = {}
    for name, query in queries.items():
        for _ in range(20):
            await query()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            await query()
            samples.append((time.perf_counter() - started) * 1000)
        result[f"{name}_p50_ms"], result[f"{name}_p99_ms"] = percentiles(samples)
    return result


def a_payment(rng: random.Random, customers: int) -> Purchase:
    """A payment by one of the loaded customers at their site."""
    n = rng.randrange(customers)
    at = START + timedelta(days=90, minutes=rng.randrange(0, 24 * 60))
    minor = rng.randrange(100_000, 5_000_000)
    return Purchase(
        f"bench-{rng.getrandbits(64):x}", f"c{n}", f"v{n}", at, "VND", minor, f"s{n % SITES}"
    )


def run_query_bench(settings: Settings, customers: int, runs: int = 300) -> dict[str, float]:
    """Load, time, print the JSON line; everything started here is stopped and dropped."""
    infra = Infrastructure(replace(settings, state_dir=settings.state_dir / "bench-queries"))
    live = infra.start()
    url, drop = create_scratch_database(live.database, "loyalty_bench")
    try:
        apply_migrations(url, SPEC.name, *SPEC.migration_sources)
        rng = random.Random(7)
        print(f"loading {customers:,} customers and {2 * customers:,} lost moments ...")
        load(url, customers, rng)

        async def measure() -> dict[str, float]:
            pool = open_pool(url)
            await pool.open(wait=True)
            try:
                store = PostgresLoyaltyStore(pool)
                api = LoyaltyApi(store, ValueCustomers(store).value)
                return await timed(api, store, rng, runs, customers)
            finally:
                await pool.close()

        result = {**asyncio.run(measure()), "customers": customers, "runs": runs}
    finally:
        drop()
        infra.stop()
    print(json.dumps(result), flush=True)
    return result
