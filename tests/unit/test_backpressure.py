"""Backpressure you can see: ingest pushes back (RESOURCE_EXHAUSTED, retry advice) while
contacts is too far behind, and the summary names the services that are."""

from __future__ import annotations

import asyncio

import pytest
from google.rpc import error_details_pb2, status_pb2

from tests.builders import touchpoint
from tests.fakes.contacts import MemoryContactsStore
from touchstone.contacts.api import ContactsApi
from touchstone.platform.runtime.backlog import Backlog
from touchstone.platform.serving.rpc import Overloaded, rich_status
from touchstone.tools.dev.summary import Summary


def api(behind: int, max_lag: int = 100) -> ContactsApi:
    return ContactsApi(MemoryContactsStore(), backlog=lambda: behind, max_lag=max_lag)


def test_ingest_pushes_back_with_retry_advice_while_contacts_is_too_far_behind() -> None:
    with pytest.raises(Overloaded) as refused:
        asyncio.run(api(behind=150).ingest([touchpoint()]))
    assert str(refused.value) == (
        "contacts is 150 touchpoints behind (more than 100, TOUCHSTONE_INGEST_MAX_LAG): "
        "retry in 5 s"
    )
    status = rich_status(refused.value)
    assert status.code.name == "RESOURCE_EXHAUSTED"
    (details,) = [v for k, v in status.trailing_metadata if k == "grpc-status-details-bin"]
    retry = error_details_pb2.RetryInfo()
    assert status_pb2.Status.FromString(details).details[0].Unpack(retry)
    assert retry.retry_delay.seconds == 5


def test_ingest_takes_touchpoints_while_contacts_keeps_up_or_no_limit_is_set() -> None:
    (taken,) = asyncio.run(api(behind=50).ingest([touchpoint()]))
    assert not taken.violations
    (unlimited,) = asyncio.run(api(behind=10**9, max_lag=0).ingest([touchpoint(event_id="e2")]))
    assert not unlimited.violations


def test_a_backlog_sums_a_services_partitions_as_last_seen() -> None:
    backlog = Backlog()
    backlog.observe("contacts", "touchpoints.v1", 0, 400)
    backlog.observe("contacts", "touchpoints.v1", 1, 300)
    backlog.observe("contacts", "touchpoints.v1", 0, 10)  # a later fetch: caught up
    backlog.observe("journey", "contacts.recorded.v1", 0, 999)
    assert (backlog.of("contacts"), backlog.of("journey"), backlog.of("notify")) == (310, 999, 0)


def test_the_summary_shows_each_services_lag_and_names_those_behind() -> None:
    health = dict.fromkeys(("contacts", "journey", "loyalty", "notify"), "SERVING")
    lags = {"contacts": 0, "journey": 12, "loyalty": 314_000, "notify": None}
    line = Summary(recorded=5).line(health, lags)
    assert "contacts:up lag 0 journey:up lag 12 loyalty:up lag 314,000 notify:up" in line
    assert line.endswith("| BEHIND: loyalty")
    assert "BEHIND" not in Summary().line(health, {"journey": 999})
