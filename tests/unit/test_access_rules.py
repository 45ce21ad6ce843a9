"""The access rules: every RPC the contracts define has one, and each role gets what the issue
says it should: producers ingest, staff work cases, auditors only read."""

from __future__ import annotations

from touchstone.contacts.v1 import contacts_service_pb2
from touchstone.journey.v1 import journey_service_pb2
from touchstone.loyalty.v1 import loyalty_service_pb2
from touchstone.notify.v1 import notify_service_pb2
from touchstone.platform.security.access import POLICY, refusal
from touchstone.platform.security.auth import ROLES, Principal

MODULES = (contacts_service_pb2, journey_service_pb2, loyalty_service_pb2, notify_service_pb2)
READS = ("List", "Get", "Watch", "Find")


def every_rpc() -> set[str]:
    return {
        f"{service.full_name}/{method.name}"
        for module in MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }


def allowed(role: str) -> set[str]:
    caller = Principal("someone", frozenset({role}), frozenset({"*"}))
    return {m for m in every_rpc() if not refusal(f"/{m}", caller)}


def test_every_rpc_has_a_rule_and_every_rule_an_rpc() -> None:
    assert set(POLICY) == every_rpc()


def test_producers_only_ingest() -> None:
    assert {m.rsplit("/", 1)[1] for m in allowed("producer")} == {
        "Ingest",
        "IngestBatch",
        "IngestStream",
    }


def test_staff_only_see_and_work_cases_and_tasks() -> None:
    assert allowed("staff") == {
        f"touchstone.notify.v1.NotifyService/{m}"
        for m in (
            *("ListCases", "GetCase", "AcknowledgeStep", "CompleteStep", "ResolveCase"),
            *("WatchCases", "WatchTasks"),
        )
    }


def test_auditors_only_read_and_never_the_raw_dead_letters() -> None:
    reads = allowed("auditor")
    assert reads and all(m.rsplit("/", 1)[1].startswith(READS) for m in reads)
    assert "touchstone.contacts.v1.ContactsService/GetDeadLetter" not in reads


def test_managers_read_and_work_cases_but_change_no_customer_or_standard() -> None:
    rpcs = {m.rsplit("/", 1)[1] for m in allowed("manager")}
    assert {"GetJourneyMap", "GetValueAtRisk", "GetControlFigures", "CompleteStep"} <= rpcs
    assert rpcs.isdisjoint({"EraseCustomer", "ValidateStandards", "Ingest", "MergeCustomers"})


def test_admins_may_call_everything() -> None:
    assert allowed("admin") == every_rpc()
    assert set(ROLES) >= {"producer", "staff", "manager", "admin", "auditor"}


def test_a_refusal_names_the_roles_that_would_do() -> None:
    staff = Principal("lan", frozenset({"staff"}), frozenset({"hcm-01"}))
    assert refusal("/touchstone.contacts.v1.ContactsService/EraseCustomer", staff) == (
        "/touchstone.contacts.v1.ContactsService/EraseCustomer needs one of the roles admin; "
        "the caller has staff"
    )
    assert refusal("/touchstone.x.v1.X/Unknown", staff).endswith("so no one may call it")
