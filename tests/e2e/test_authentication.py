"""Authentication on the real servers: every call but health and reflection needs a bearer token
signed by the deployment's key set, for its audience and issuer, and not expired. Without one a
call ends UNAUTHENTICATED with the reason, before the servicer sees it, streams included."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from tests.conftest import running_stack
from touchstone.client import Clients
from touchstone.common.dev_keys import DevKeys, mint
from touchstone.common.settings import SERVICES, Settings
from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.journey.v1 import journey_service_pb2 as journey
from touchstone.loyalty.v1 import loyalty_service_pb2 as loyalty
from touchstone.notify.v1 import notify_service_pb2 as notify
from touchstone.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra) as local:
        yield local


def calls(clients: Clients) -> dict[str, object]:
    """One cheap call on each service, and a stream."""
    return {
        "contacts.GetIngestStats": lambda: clients.contacts.GetIngestStats(
            contacts.GetIngestStatsRequest(), timeout=10
        ),
        "journey.ListStandards": lambda: clients.journey.ListStandards(
            journey.ListStandardsRequest(), timeout=10
        ),
        "loyalty.ListTopCustomers": lambda: clients.loyalty.ListTopCustomers(
            loyalty.ListTopCustomersRequest(site_id="hcm-01"), timeout=10
        ),
        "notify.ListCases": lambda: clients.notify.ListCases(notify.ListCasesRequest(), timeout=10),
        "journey.WatchMoments (stream)": lambda: next(
            iter(clients.journey.WatchMoments(journey.WatchMomentsRequest(), timeout=10))
        ),
    }


def refused_with(settings: Settings, token: str) -> dict[str, str]:
    """Each call's UNAUTHENTICATED reason with this token ('' where it was let through)."""
    reasons = {}
    with Clients(settings, token=token) as clients:
        for name, call in calls(clients).items():
            try:
                call()  # type: ignore[operator]
                reasons[name] = ""
            except grpc.RpcError as error:
                unauthenticated = error.code() == grpc.StatusCode.UNAUTHENTICATED
                reasons[name] = error.details() if unauthenticated else ""
    return reasons


def signed(settings: Settings, signing_key: Path | None = None, **changes: object) -> str:
    claims: dict = {
        "subject": "test-manager",
        "roles": ["manager"],
        "issuer": settings.auth_issuer,
        "audience": settings.auth_audience,
    }
    claims.update(changes)
    key = signing_key or settings.auth_signing_key
    assert key is not None
    return mint(key, **claims)


def test_a_valid_token_is_let_through_on_every_service(stack: LocalStack) -> None:
    assert set(refused_with(stack.settings, signed(stack.settings)).values()) == {""}


def test_a_call_without_a_token_is_unauthenticated(stack: LocalStack) -> None:
    reasons = refused_with(stack.settings, token="")
    assert set(reasons.values()) == {
        "no bearer token: send the header authorization: Bearer <token>"
    }, reasons


def test_an_expired_token_is_unauthenticated(stack: LocalStack) -> None:
    expired = signed(stack.settings, ttl_s=600, now=time.time() - 3600)
    assert set(refused_with(stack.settings, expired).values()) == {"the token has expired"}


def test_a_token_for_another_audience_is_unauthenticated(stack: LocalStack) -> None:
    other = signed(stack.settings, audience="another-system")
    assert set(refused_with(stack.settings, other).values()) == {
        "the token is not for audience 'touchstone'"
    }


def test_a_forged_signature_is_unauthenticated(stack: LocalStack, tmp_path: Path) -> None:
    forger = DevKeys(tmp_path).create()  # the same key id, another key
    forged = signed(stack.settings, signing_key=forger.signing_key)
    assert set(refused_with(stack.settings, forged).values()) == {
        "the token's signature does not verify"
    }


def test_health_and_reflection_stay_open(stack: LocalStack) -> None:
    for name in SERVICES:
        with grpc.insecure_channel(stack.settings.grpc_address(name)) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            services = ProtoReflectionDescriptorDatabase(channel).get_services()
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        assert f"touchstone.{name}.v1.{name.capitalize()}Service" in services
