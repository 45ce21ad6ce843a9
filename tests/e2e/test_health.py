"""Health tells the truth: with Postgres stopped every service says NOT_SERVING and its queries
end UNAVAILABLE at once (not at the caller's deadline); with Postgres back they serve again.
Liveness stays SERVING throughout: the processes answer, so nothing restarts them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from tests.conftest import with_free_grpc_ports
from tests.e2e.test_whole_journey import eventually
from touchstone.contacts.v1.contacts_service_pb2 import GetIngestStatsRequest
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest
from touchstone.loyalty.v1.loyalty_service_pb2 import ListTopCustomersRequest
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest
from touchstone.platform.runtime.health import health_status
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.platform.serving.rpc import LIVENESS
from touchstone.tools.dev.embedded import EmbeddedPostgres, free_port
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e
CALLER_DEADLINE_S = 25.0  # far beyond TOUCHSTONE_DATABASE_TIMEOUT_S: a hang would show


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A Postgres of the test's own, to stop and start again."""
    server = EmbeddedPostgres(tmp_path / "pg", port=free_port())
    server.start()
    yield server
    server.stop()


def queries(clients: Clients) -> dict[str, Callable[[], object]]:
    """One query on each service that reads its database."""
    return {
        "contacts": lambda: clients.contacts.GetIngestStats(
            GetIngestStatsRequest(), timeout=CALLER_DEADLINE_S
        ),
        "journey": lambda: clients.journey.ListMoments(
            ListMomentsRequest(customer_id="c-health"), timeout=CALLER_DEADLINE_S
        ),
        "loyalty": lambda: clients.loyalty.ListTopCustomers(
            ListTopCustomersRequest(site_id="hcm-01"), timeout=CALLER_DEADLINE_S
        ),
        "notify": lambda: clients.notify.ListCases(
            ListCasesRequest(customer_id="c-health"), timeout=CALLER_DEADLINE_S
        ),
    }


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except grpc.RpcError as error:
        return error.code().name
    return "OK"


def every(stack: LocalStack, status: str) -> dict[str, str] | None:
    health = stack.services.health()
    return health if set(health.values()) == {status} else None


def test_with_postgres_stopped_every_service_is_not_ready_and_fails_fast_then_recovers(
    infra: Settings, postgres: EmbeddedPostgres
) -> None:
    stack = LocalStack(
        with_free_grpc_ports(replace(infra, database_url=postgres.url, embedded=False))
    )
    settings = stack.start()  # with the development keys its clients sign tokens with
    try:
        with Clients(settings) as clients:
            assert {name: outcome(q) for name, q in queries(clients).items()} == dict.fromkeys(
                SERVICES, "OK"
            )

            postgres.stop()
            eventually(lambda: every(stack, "NOT_SERVING"), "every service NOT_SERVING")
            alive = {n: health_status(settings.grpc_address(n), LIVENESS) for n in SERVICES}
            assert alive == dict.fromkeys(SERVICES, "SERVING")
            assert {name: outcome(q) for name, q in queries(clients).items()} == dict.fromkeys(
                SERVICES, "UNAVAILABLE"
            )

            postgres.start()
            eventually(lambda: every(stack, "SERVING"), "every service SERVING again")
            assert {name: outcome(q) for name, q in queries(clients).items()} == dict.fromkeys(
                SERVICES, "OK"
            )
    finally:
        stack.stop()
