"""Who may call at all, and what: every call but health and reflection needs a bearer token
signed by the deployment's key set, for its audience and issuer, and not expired; without one
a call ends UNAUTHENTICATED with the reason, before the servicer sees it, streams included.
Every RPC lets in exactly the roles its access rule names; any other role gets
PERMISSION_DENIED. Personal data shows only in the replies of roles that may see it, and
commands and refused calls are on the audit trail."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from tests.e2e.authentication_support import code_and_details, signed
from tests.e2e.journey_support import eventually, supermarket_visit
from tests.e2e.leaks import found_in_logs_or_metrics
from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.contacts.v1 import touchpoint_pb2 as touchpoint
from touchstone.journey.v1 import journey_service_pb2 as journey
from touchstone.loyalty.v1 import loyalty_service_pb2 as loyalty
from touchstone.notify.v1 import notify_service_pb2 as notify
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.platform.security.access import POLICY
from touchstone.platform.security.auth import ROLES
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients
from touchstone.tools.ops.dev_keys import DevKeys

pytestmark = pytest.mark.e2e


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


def rpcs() -> list[tuple[str, MethodDescriptor]]:
    """(service, method) for every RPC the contracts define."""
    modules = {"contacts": contacts, "journey": journey, "loyalty": loyalty, "notify": notify}
    return [
        (name, method)
        for name, module in modules.items()
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


def status_of(channel: grpc.Channel, method: MethodDescriptor, token: str) -> grpc.StatusCode:
    """How an empty request to the method ends for a caller with this token."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    request = GetMessageClass(method.input_type)()
    reply = GetMessageClass(method.output_type)
    codec = {
        "request_serializer": type(request).SerializeToString,
        "response_deserializer": reply.FromString,
    }
    metadata = [("authorization", f"Bearer {token}")]
    try:
        if method.client_streaming:
            channel.stream_unary(path, **codec)(iter([]), metadata=metadata, timeout=10)
        elif method.server_streaming:
            next(iter(channel.unary_stream(path, **codec)(request, metadata=metadata, timeout=1.5)))
        else:
            channel.unary_unary(path, **codec)(request, metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        return error.code()
    except StopIteration:
        return grpc.StatusCode.OK  # a stream that ended at once, without an error
    return grpc.StatusCode.OK


def test_every_rpc_lets_in_exactly_the_roles_its_rule_names(stack: LocalStack) -> None:
    wrong = []
    tokens = {role: signed(stack.settings, roles=[role], subject=f"test-{role}") for role in ROLES}
    for service, method in rpcs():
        allowed = POLICY[f"{method.containing_service.full_name}/{method.name}"]
        with grpc.insecure_channel(stack.settings.grpc_address(service)) as channel:
            for role, token in tokens.items():
                code = status_of(channel, method, token)
                denied = code == grpc.StatusCode.PERMISSION_DENIED
                if denied == (role in allowed) or code == grpc.StatusCode.UNAUTHENTICATED:
                    wrong.append(f"{method.full_name} as {role}: {code.name}")
    assert wrong == []
    assert len(rpcs()) * len(ROLES) >= 200  # every RPC x every role was asked


def test_personal_data_shows_only_where_the_role_may_see_it(stack: LocalStack) -> None:
    """Done-when 3: a registered customer's phone, email, name and a comment they wrote appear
    in no log or metric, and in replies only to admins (and, for the profile, services)."""
    tag = uuid.uuid4().hex[:8]
    phone = f"+8490{int(tag, 16) % 10**7:07d}"
    secrets = {
        "phone": phone,
        "email": f"lan.{tag}@example.vn",
        "name": f"Lan {tag}",
        "comment": f"cashier {tag} was rude",
    }
    customer_id = f"pii-{tag}"
    as_phone = touchpoint.ExternalIdentity(kind=touchpoint.IDENTITY_KIND_PHONE, value=phone)
    register = contacts.RegisterCustomerRequest(customer_id=customer_id, identities=[as_phone])
    register.identities.add(kind=touchpoint.IDENTITY_KIND_EMAIL, value=secrets["email"])
    register.profile.display_name = secrets["name"]
    visit = supermarket_visit(
        touchpoint.CustomerRef(identity=as_phone), datetime.now(UTC) - timedelta(hours=1)
    )
    visit[-1].feedback.rating, visit[-1].feedback.comment = 2, secrets["comment"]
    with Clients(stack.settings, role="service") as service:
        service.contacts.RegisterCustomer(register, timeout=10)
    with Clients(stack.settings, role="producer") as producer:
        for tp in visit:
            producer.contacts.Ingest(contacts.IngestRequest(touchpoint=tp), timeout=10)
    with Clients(stack.settings) as admin:
        eventually(
            lambda: (
                len(
                    admin.journey.ListMoments(
                        journey.ListMomentsRequest(customer_id=customer_id), timeout=5
                    ).moments
                )
                >= len(visit)
            ),
            "the visit scored",
        )

    seen = {role: shown(stack.settings, role, customer_id, as_phone, secrets) for role in ROLES}
    assert seen["admin"] == set(secrets)
    assert seen["service"] == {"phone", "email", "name"}  # the profile; no touchpoints
    assert all(not seen[role] for role in ROLES if role not in {"admin", "service"}), seen
    assert not found_in_logs_or_metrics(stack.settings, secrets.values())


def shown(
    settings: Settings,
    role: str,
    customer_id: str,
    identity: touchpoint.ExternalIdentity,
    secrets: dict[str, str],
) -> set[str]:
    """Which secrets the role's replies to the customer queries show."""
    with Clients(settings, role=role) as clients:
        queries = (
            lambda: clients.contacts.GetCustomer(
                contacts.GetCustomerRequest(customer_id=customer_id), timeout=10
            ),
            lambda: clients.contacts.FindCustomer(
                contacts.FindCustomerRequest(identity=identity), timeout=10
            ),
            lambda: clients.contacts.ListTouchpoints(
                contacts.ListTouchpointsRequest(customer_id=customer_id), timeout=10
            ),
            lambda: clients.journey.ListMoments(
                journey.ListMomentsRequest(customer_id=customer_id), timeout=10
            ),
            lambda: clients.notify.ListCases(
                notify.ListCasesRequest(customer_id=customer_id), timeout=10
            ),
        )
        replies = []
        for query in queries:
            try:
                replies.append(str(query()))
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.PERMISSION_DENIED, error
    text = "\n".join(replies)
    return {name for name, secret in secrets.items() if secret in text}


def test_commands_and_refused_calls_are_on_the_audit_trail(stack: LocalStack) -> None:
    subject = f"auditee-{uuid.uuid4().hex[:8]}"
    manager = signed(stack.settings, roles=["manager"], subject=subject)
    with Clients(stack.settings, token=manager) as clients:
        erase = contacts.EraseCustomerRequest(customer_id="c-audit")
        assert code_and_details(lambda: clients.contacts.EraseCustomer(erase, timeout=10))[0] == (
            "PERMISSION_DENIED"
        )
        step = notify.StepCommand(case_id="case-audit", n=1, by=subject)
        assert code_and_details(lambda: clients.notify.CompleteStep(step, timeout=10))[0] == (
            "NOT_FOUND"
        )
        clients.notify.ListCases(notify.ListCasesRequest(), timeout=10)  # a read: not audited

    def lines() -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "touchstone.tools.cli", "audit", "--subject", subject],
            env={**os.environ, **stack.settings.as_env()},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    found = eventually(lambda: (ls := lines()) and len(ls) >= 2 and ls, "two audit records")
    assert len(found) == 2, found
    denied, command = found
    assert "contacts /touchstone.contacts.v1.ContactsService/EraseCustomer" in denied
    assert f"by {subject} [manager] from ipv4:127.0.0.1:" in denied
    assert "PERMISSION_DENIED" in denied and "needs one of the roles admin" in denied
    assert "notify   /touchstone.notify.v1.NotifyService/CompleteStep" in command
    assert command.endswith("NOT_FOUND case_id=case-audit")
