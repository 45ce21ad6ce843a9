"""The audit trail under a burst, on the real broker: the first refused calls at a fresh server
all land on touchstone.audit.v1, once each, through one producer started once."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaConsumer, TopicPartition

from tests.fakes.contacts import MemoryContactsStore
from touchstone.audit.v1.audit_pb2 import AuditRecord
from touchstone.contacts.api import ContactsApi
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1 import contacts_service_pb2_grpc as pb_grpc
from touchstone.platform.messaging.topics import AUDIT
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.audit import KafkaAuditTrail
from touchstone.platform.security.auth import KeySet
from touchstone.platform.security.auth_interceptor import Authenticate
from touchstone.platform.serving.rpc import ServiceBinding, start_server
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.ops.dev_keys import DevKeys, mint

pytestmark = pytest.mark.integration
BURST = 30


def audited_subjects(settings: Settings, prefix: str) -> list[str]:
    """The subjects of every audit record so far whose subject starts with prefix."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, consumer_timeout_ms=1500)
    partitions = [TopicPartition(AUDIT, p) for p in range(settings.topic_partitions)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    found = [AuditRecord.FromString(m.value).subject for m in consumer]
    consumer.close()
    return [s for s in found if s.startswith(prefix)]


async def burst_of_refusals(settings: Settings, keys: DevKeys, subjects: list[str]) -> None:
    """A fresh contacts server behind the guard; each subject (a member of staff) tries to erase
    a customer at the same moment, which staff may not: PERMISSION_DENIED, audited."""
    guard = Authenticate(
        KeySet.from_file(keys.jwks, issuer="touchstone", audience="touchstone"),
        KafkaAuditTrail(settings.kafka),
        "contacts",
    )
    api = ContactsApi(MemoryContactsStore())
    binding = ServiceBinding(
        "touchstone.contacts.v1.ContactsService", api, pb_grpc.add_ContactsServiceServicer_to_server
    )
    address = f"127.0.0.1:{free_port()}"
    server, _ = await start_server(address, [binding], [guard])
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.ContactsServiceStub(channel)

            async def refused(subject: str) -> grpc.StatusCode:
                token = mint(
                    keys.signing_key,
                    subject=subject,
                    roles=["staff"],
                    issuer="touchstone",
                    audience="touchstone",
                )
                try:
                    await stub.EraseCustomer(
                        pb.EraseCustomerRequest(customer_id="c-1"),
                        metadata=(("authorization", f"Bearer {token}"),),
                        timeout=10,
                    )
                except grpc.aio.AioRpcError as error:
                    return error.code()
                return grpc.StatusCode.OK

            codes = await asyncio.gather(*(refused(s) for s in subjects))
        assert set(codes) == {grpc.StatusCode.PERMISSION_DENIED}
    finally:
        await server.stop(grace=1)
        await guard.close()


def test_a_burst_of_refused_calls_at_a_fresh_server_is_audited_once_each_by_one_producer(
    infra: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    real_start = AIOKafkaProducer.start

    async def counted_start(producer: AIOKafkaProducer) -> None:
        started.append(producer)
        await real_start(producer)

    monkeypatch.setattr(AIOKafkaProducer, "start", counted_start)
    keys = DevKeys(tmp_path / "keys").create()
    prefix = f"burst-{uuid.uuid4().hex[:8]}-"
    subjects = [f"{prefix}{n}" for n in range(BURST)]

    asyncio.run(burst_of_refusals(infra, keys, subjects))

    assert len(started) == 1
    assert sorted(audited_subjects(infra, prefix)) == sorted(subjects)
