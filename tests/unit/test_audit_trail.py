"""The audit trail's records: what a command named (ids, never personal data), how a record
reads, which records a query keeps, and who runs the `touchstone` command."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.contacts.v1 import touchpoint_pb2
from touchstone.notify.v1 import notify_service_pb2 as notify
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.audit import audit_record, named_ids
from touchstone.platform.security.auth import Principal
from touchstone.tools.ops.audit_cli import cli_caller, line, matches
from touchstone.tools.ops.dev_keys import DevKeys, mint

LAN = Principal("lan", frozenset({"staff"}), frozenset({"hcm-01"}))
AT = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)


def test_a_command_is_recorded_by_the_ids_it_names_never_personal_data() -> None:
    assert named_ids(notify.StepCommand(case_id="c-7", n=2, by="lan")) == "case_id=c-7"
    register = contacts.RegisterCustomerRequest(customer_id="cu-1")
    register.identities.add(kind=touchpoint_pb2.IDENTITY_KIND_PHONE, value="+84901234567")
    assert named_ids(register) == "customer_id=cu-1 identities: 1"
    assert named_ids(iter([])) == "a stream of requests"


def test_a_record_reads_who_what_when_and_from_where() -> None:
    record = audit_record(
        service="notify",
        method="/touchstone.notify.v1.NotifyService/CompleteStep",
        caller=LAN,
        peer="ipv4:10.0.0.7:51234",
        outcome="OK",
        detail="case_id=c-7",
        at=AT,
    )
    assert line(record) == (
        "2026-11-24T05:30:00+00:00 notify   /touchstone.notify.v1.NotifyService/CompleteStep "
        "by lan [staff] from ipv4:10.0.0.7:51234: OK case_id=c-7"
    )
    anonymous = audit_record(service="journey", method="/x", caller=None, peer="", outcome="X")
    assert " by - [] from -: X" in line(anonymous)


def test_a_query_keeps_the_records_its_filters_name() -> None:
    record = audit_record(
        service="contacts", method="/a/EraseCustomer", caller=LAN, peer="p", outcome="OK", at=AT
    )
    query = {
        "subject": "",
        "service": "",
        "method": "",
        "refused": False,
        "since": None,
    }
    assert matches(record, argparse.Namespace(**query))
    assert matches(record, argparse.Namespace(**{**query, "subject": "lan", "method": "Erase"}))
    assert not matches(record, argparse.Namespace(**{**query, "refused": True}))
    assert not matches(record, argparse.Namespace(**{**query, "service": "notify"}))
    later = AT + timedelta(seconds=1)
    assert not matches(record, argparse.Namespace(**{**query, "since": later}))


def test_the_command_line_names_its_tokens_subject_or_the_os_user(tmp_path: Path) -> None:
    assert cli_caller(Settings(token="")).subject.startswith("os:")
    assert cli_caller(Settings(token="not a token")).subject.startswith("os:")
    keys = DevKeys(tmp_path).create()
    token = mint(keys.signing_key, subject="ops-1", roles=["admin"], issuer="i", audience="a")
    assert cli_caller(Settings(token=token)) == Principal(
        "ops-1", frozenset({"admin"}), frozenset()
    )


def test_a_broker_that_is_away_costs_a_call_at_most_the_send_timeout() -> None:
    import asyncio
    import time

    from touchstone.platform.security.audit import SEND_TIMEOUT_S, KafkaAuditTrail
    from touchstone.tools.dev.embedded import free_port

    trail = KafkaAuditTrail(KafkaConnection(f"127.0.0.1:{free_port()}"))  # nothing listens there
    record = audit_record(service="x", method="/m", caller=LAN, peer="p", outcome="OK")
    started = time.monotonic()
    asyncio.run(trail.record(record))
    assert time.monotonic() - started < SEND_TIMEOUT_S + 1.0
    assert trail._producer is None  # the next record starts afresh
