"""Provisional → merged → unmerged → merged again, across all four services, and a replay agrees.

Two provisional customers (known by a loyalty card and by an email) each make a visit with a
lost greeting and a payment. Registration names both identities: contacts merges them, and
journey, loyalty and notify answer for the survivor with both histories. The merge is undone,
then made again by hand. Replaying the log into a fresh database reproduces every step.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from kafka import KafkaProducer

from tests.builders import valued
from tests.conftest import create_database, running_stack
from tests.e2e.test_whole_journey import (
    _cases,
    _value,
    eventually,
    publish,
    supermarket_visit,
)
from tests.replay import replayed
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1.profile_pb2 import CustomerEvent, Profile
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, ExternalIdentity, IdentityKind
from touchstone.journey.ports import MomentFilter
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest
from touchstone.notify.rows import CaseFilter
from touchstone.platform.messaging.log_reader import read_log
from touchstone.platform.messaging.topics import (
    CONTACTS_PROFILES,
    CONTACTS_RECORDED,
    JOURNEY_MOMENTS,
    Incoming,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e
VISIT = 6  # touchpoints in a supermarket visit: one lost greeting, one payment of 250,000 VND


@pytest.fixture(scope="module")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra) as local:
        yield local


def count_moments(clients: Clients, customer_id: str) -> int:
    request = ListMomentsRequest(customer_id=customer_id, page_size=100)
    return len(clients.journey.ListMoments(request, timeout=5).moments)


def count_cases(clients: Clients, customer_id: str) -> int:
    reply = _cases(clients, customer_id)
    return reply.total if reply else 0


def purchases(clients: Clients, customer_id: str) -> tuple[str, int]:
    value = _value(clients, customer_id)
    return (value.customer_id, value.purchases) if value else ("", 0)


def settled(clients: Clients, customer_id: str, moments: int, owner: str, bought: int) -> None:
    """Wait until journey, loyalty and notify all answer for customer_id as expected."""
    eventually(lambda: count_moments(clients, customer_id) == moments, f"{moments} moments")
    eventually(lambda: purchases(clients, customer_id) == (owner, bought), f"{bought} purchases")
    eventually(lambda: count_cases(clients, customer_id) == bought, f"{bought} cases")


def find(clients: Clients, who: ExternalIdentity) -> pb.Customer:
    return clients.contacts.FindCustomer(pb.FindCustomerRequest(identity=who), timeout=5)


def test_merged_customers_are_one_everywhere_until_unmerged_and_a_replay_agrees(
    stack: LocalStack, clients: Clients, infra: Settings
) -> None:
    card = ExternalIdentity(
        kind=IdentityKind.IDENTITY_KIND_LOYALTY_CARD, value=f"LC-{uuid.uuid4()}"
    )
    email = ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_EMAIL, value=f"{uuid.uuid4()}@x.vn")
    producer = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, linger_ms=2)
    start = datetime.now(UTC) - timedelta(days=2)
    for n, who in enumerate((card, email)):
        visit = supermarket_visit(CustomerRef(identity=who), start + timedelta(days=n))
        publish(producer, visit, who.value.encode())
    producer.close()
    eventually(lambda: find_count(clients, card) == VISIT, "the card's visit recorded")
    eventually(lambda: find_count(clients, email) == VISIT, "the email's visit recorded")
    by_card, by_email = find(clients, card).customer_id, find(clients, email).customer_id
    for provisional in (by_card, by_email):
        settled(clients, provisional, VISIT, provisional, 1)

    # Given two provisional customers, registration naming both identities merges them.
    registered = clients.contacts.RegisterCustomer(
        pb.RegisterCustomerRequest(identities=[card, email], profile=Profile(display_name="Lan")),
        timeout=5,
    )
    survivor, absorbed = sorted((by_card, by_email))
    assert registered.customer_id == survivor
    assert list(registered.merged_customer_ids) == [absorbed]
    assert registered.touchpoint_count == 2 * VISIT and len(registered.identities) == 2
    assert find(clients, card).customer_id == find(clients, email).customer_id == survivor
    for either in (survivor, absorbed):
        settled(clients, either, 2 * VISIT, survivor, 2)
    value = _value(clients, absorbed)
    assert value is not None and value.visits == 2 and value.average_spend_minor == 250_000

    # Undo it: each is themselves again, in every service.
    unmerged = clients.contacts.UnmergeCustomers(
        pb.UnmergeCustomersRequest(customer_id=absorbed, reason="two people, one card"), timeout=5
    )
    assert (unmerged.survivor.customer_id, unmerged.restored.customer_id) == (survivor, absorbed)
    assert unmerged.survivor.touchpoint_count == unmerged.restored.touchpoint_count == VISIT
    assert not unmerged.survivor.merged_customer_ids
    for alone in (survivor, absorbed):
        settled(clients, alone, VISIT, alone, 1)

    # And merge them again by hand.
    merged = clients.contacts.MergeCustomers(
        pb.MergeCustomersRequest(survivor_id=survivor, absorbed_id=absorbed, reason="same person"),
        timeout=5,
    )
    assert list(merged.merged_customer_ids) == [absorbed]
    settled(clients, absorbed, 2 * VISIT, survivor, 2)

    # contacts.profiles.v1 carries merged, unmerged, merged for the absorbed customer, in order.
    profile_log = read_log(
        stack.settings.kafka, [CONTACTS_PROFILES], lambda r: r.key == absorbed.encode()
    )
    changes = [CustomerEvent.FromString(r.value or b"") for r in profile_log]
    assert [c.WhichOneof("change") for c in changes] == ["merged", "unmerged", "merged"]
    assert changes[0].merged.merge_id == changes[1].unmerged.merge_id
    # the reasons are free text: kept with the merge in contacts, never told on the topic
    assert changes[0].merged.reason == changes[1].unmerged.reason == ""

    # Replay the log into a fresh database: up to the unmerge, then all of it.
    ours = {survivor.encode(), absorbed.encode()}
    topics = [CONTACTS_RECORDED, JOURNEY_MOMENTS, CONTACTS_PROFILES]
    log = read_log(stack.settings.kafka, topics, lambda r: r.key in ours)
    unmerge_at = profile_log[1]
    up_to_unmerge = [
        r
        for r in log
        if r.topic != CONTACTS_PROFILES
        or r.key != absorbed.encode()
        or r.offset <= unmerge_at.offset
    ]
    assert asyncio.run(replay_answers(infra, up_to_unmerge, absorbed)) == (VISIT, (absorbed, 1), 1)
    assert asyncio.run(replay_answers(infra, log, absorbed)) == (2 * VISIT, (survivor, 2), 2)


def find_count(clients: Clients, who: ExternalIdentity) -> int:
    try:
        return find(clients, who).touchpoint_count
    except grpc.RpcError as error:  # NOT_FOUND until the first touchpoint is recorded
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return 0
        raise


async def replay_answers(
    infra: Settings, log: list[Incoming], customer_id: str
) -> tuple[int, tuple[str, int], int]:
    """What journey, loyalty and notify, rebuilt from the log alone, say of the customer."""
    settings, drop = create_database(infra)
    try:
        journey_log = [r for r in log if r.topic != JOURNEY_MOMENTS]
        notify_log = [r for r in log if r.topic != CONTACTS_RECORDED]
        async with replayed(settings, "journey", journey_log) as journey:
            moments = await journey.list_moments(MomentFilter(customer_id=customer_id), None, 100)
        async with replayed(settings, "loyalty", journey_log) as loyalty:
            valuation = await loyalty.get_value(customer_id, valued)
            value = valuation.value
        async with replayed(settings, "notify", notify_log) as notify:
            _, cases = await notify.list_cases(CaseFilter(customer_id=customer_id), None, 100)
        return len(moments), (value.customer_id, value.purchases), cases
    finally:
        drop()
