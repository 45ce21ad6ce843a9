"""Profiles and consent over gRPC, with the identities customers are known by."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from tests.conftest import running_stack
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1 import profile_pb2 as profile
from touchstone.contacts.v1.touchpoint_pb2 import ExternalIdentity, IdentityKind
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.ops.client import Clients
from touchstone.tools.ops.publisher import new_touchpoint

pytestmark = pytest.mark.e2e
CARD, PHONE, EMAIL = (
    IdentityKind.IDENTITY_KIND_LOYALTY_CARD,
    IdentityKind.IDENTITY_KIND_PHONE,
    IdentityKind.IDENTITY_KIND_EMAIL,
)


@pytest.fixture(scope="module")
def clients(infra: Settings) -> Iterator[Clients]:
    """Contacts alone, as its own process, on a database of its own."""
    with running_stack(infra, ("contacts",)) as stack, Clients(stack.settings) as c:
        yield c


def ingest(clients: Clients, **who: str) -> pb.IngestResult:
    tp = new_touchpoint(
        source="door",
        site_id="hcm-01",
        journey_map="supermarket",
        stage="enter_store",
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        **who,
    )
    return clients.contacts.Ingest(pb.IngestRequest(touchpoint=tp), timeout=5)


def identity(kind: int, value: str) -> ExternalIdentity:
    return ExternalIdentity(kind=kind, value=value)


def test_registering_adopts_the_customer_earlier_touchpoints_resolved_to(clients: Clients) -> None:
    card = f"LC-{uuid.uuid4().hex[:8]}"
    before = ingest(clients, loyalty_card=card)
    registered = clients.contacts.RegisterCustomer(
        pb.RegisterCustomerRequest(
            identities=[
                identity(CARD, card),
                identity(PHONE, f"090 123 {uuid.uuid4().int % 10_000:04d}"),
            ],
            profile=profile.Profile(display_name="Lan", kind=profile.CUSTOMER_KIND_EXTERNAL),
            consent=profile.Consent(
                preferred_language="vi",
                channels=[
                    profile.ChannelConsent(channel=profile.CONSENT_CHANNEL_SMS, granted=True)
                ],
            ),
        ),
        timeout=5,
    )
    assert registered.customer_id == before.customer_id
    assert registered.status == profile.CUSTOMER_STATUS_REGISTERED
    assert registered.touchpoint_count == 1 and registered.profile.display_name == "Lan"

    phone = next(i.value for i in registered.identities if i.kind == PHONE)
    assert phone.startswith("+8490123")  # stored in E.164
    after = ingest(clients, phone=phone.replace("+84", "0"))
    assert after.customer_id == registered.customer_id  # the phone now resolves to them
    found = clients.contacts.FindCustomer(
        pb.FindCustomerRequest(identity=identity(PHONE, phone)), timeout=5
    )
    assert (found.customer_id, found.touchpoint_count) == (registered.customer_id, 2)


def test_an_internal_customer_is_a_profile_kind_with_a_department(clients: Clients) -> None:
    account = f"emp-{uuid.uuid4().hex[:6]}"
    colleague = clients.contacts.RegisterCustomer(
        pb.RegisterCustomerRequest(
            identities=[identity(IdentityKind.IDENTITY_KIND_ACCOUNT, account)],
            profile=profile.Profile(
                display_name="Minh", kind=profile.CUSTOMER_KIND_INTERNAL, department="warehouse"
            ),
        ),
        timeout=5,
    )
    assert colleague.profile.kind == profile.CUSTOMER_KIND_INTERNAL
    assert colleague.profile.department == "warehouse" and colleague.touchpoint_count == 0
    assert not colleague.HasField("first_seen")


def test_consent_and_quiet_hours_are_kept_and_checked(clients: Clients) -> None:
    email = f"mai.{uuid.uuid4().hex[:6]}@example.com"
    customer = clients.contacts.RegisterCustomer(
        pb.RegisterCustomerRequest(identities=[identity(EMAIL, email)]), timeout=5
    )
    consent = profile.Consent(
        channels=[profile.ChannelConsent(channel=profile.CONSENT_CHANNEL_EMAIL, granted=True)],
        quiet_hours=profile.QuietHours(start="21:00", end="08:00", time_zone="Asia/Ho_Chi_Minh"),
        preferred_language="en",
    )
    updated = clients.contacts.UpdateConsent(
        pb.UpdateConsentRequest(customer_id=customer.customer_id, consent=consent), timeout=5
    )
    assert updated.consent == consent
    bad = profile.Consent(
        quiet_hours=profile.QuietHours(start="9pm", end="08:00", time_zone="Mars/Olympus")
    )
    with pytest.raises(grpc.RpcError) as refused:
        clients.contacts.UpdateConsent(
            pb.UpdateConsentRequest(customer_id=customer.customer_id, consent=bad), timeout=5
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "consent.quiet_hours.start" in (refused.value.details() or "")


def test_an_identity_belongs_to_one_registered_customer(clients: Clients) -> None:
    card = f"LC-{uuid.uuid4().hex[:8]}"
    first = clients.contacts.RegisterCustomer(
        pb.RegisterCustomerRequest(identities=[identity(CARD, card)]), timeout=5
    )
    with pytest.raises(grpc.RpcError) as taken:
        clients.contacts.RegisterCustomer(
            pb.RegisterCustomerRequest(
                customer_id="someone-else", identities=[identity(CARD, card)]
            ),
            timeout=5,
        )
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.customer_id in (taken.value.details() or "")


def register(clients: Clients, *identities: ExternalIdentity) -> pb.Customer:
    request = pb.RegisterCustomerRequest(identities=identities)
    return clients.contacts.RegisterCustomer(request, timeout=5)


def refusal(call: Callable[..., object], request: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call(request, timeout=5)
    return refused.value


def test_registering_identities_of_two_provisional_customers_merges_them(clients: Clients) -> None:
    card, email = f"LC-{uuid.uuid4().hex[:8]}", f"x.{uuid.uuid4().hex[:6]}@example.com"
    by_card, by_email = ingest(clients, loyalty_card=card), ingest(clients, email=email)
    registered = register(clients, identity(CARD, card), identity(EMAIL, email))
    survivor, absorbed = sorted((by_card.customer_id, by_email.customer_id))
    assert (registered.customer_id, list(registered.merged_customer_ids)) == (survivor, [absorbed])
    assert registered.touchpoint_count == 2
    assert (
        clients.contacts.GetCustomer(pb.GetCustomerRequest(customer_id=absorbed), timeout=5)
        == registered
    )  # asking for the absorbed customer answers with the survivor
    listed = clients.contacts.ListTouchpoints(
        pb.ListTouchpointsRequest(customer_id=survivor), timeout=5
    ).touchpoints
    assert sorted(t.customer_id for t in listed) == sorted((survivor, absorbed))
    later = ingest(clients, email=email)  # still recorded under its own id, counted as theirs
    assert later.customer_id == by_email.customer_id
    found = clients.contacts.FindCustomer(
        pb.FindCustomerRequest(identity=identity(EMAIL, email)), timeout=5
    )
    assert (found.customer_id, found.touchpoint_count) == (survivor, 3)


def test_an_unmerge_restores_both_customers_exactly(clients: Clients) -> None:
    card, email = f"LC-{uuid.uuid4().hex[:8]}", f"u.{uuid.uuid4().hex[:6]}@example.com"
    by_card, by_email = ingest(clients, loyalty_card=card), ingest(clients, email=email)
    merged = register(clients, identity(CARD, card), identity(EMAIL, email))
    absorbed = merged.merged_customer_ids[0]
    apart = clients.contacts.UnmergeCustomers(
        pb.UnmergeCustomersRequest(customer_id=absorbed), timeout=5
    )
    assert apart.survivor.customer_id == merged.customer_id
    assert apart.restored.customer_id == absorbed and apart.restored.touchpoint_count == 1
    assert not apart.survivor.merged_customer_ids and apart.survivor.touchpoint_count == 1
    owners = {
        who.value: clients.contacts.FindCustomer(
            pb.FindCustomerRequest(identity=who), timeout=5
        ).customer_id
        for who in (identity(CARD, card), identity(EMAIL, email))
    }
    assert owners == {card: by_card.customer_id, email: by_email.customer_id}
    again = refusal(
        clients.contacts.UnmergeCustomers, pb.UnmergeCustomersRequest(customer_id=absorbed)
    )
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_merging_by_hand_checks_who_and_refuses_what_cannot_be(clients: Clients) -> None:
    lan = register(clients, identity(CARD, f"LC-{uuid.uuid4().hex[:8]}"))
    also_lan = register(clients, identity(EMAIL, f"l.{uuid.uuid4().hex[:6]}@example.com"))
    merge = clients.contacts.MergeCustomers
    merged = merge(
        pb.MergeCustomersRequest(survivor_id=lan.customer_id, absorbed_id=also_lan.customer_id),
        timeout=5,
    )
    assert list(merged.merged_customer_ids) == [also_lan.customer_id]
    assert len(merged.identities) == 2
    cases = {
        grpc.StatusCode.FAILED_PRECONDITION: pb.MergeCustomersRequest(
            survivor_id=also_lan.customer_id, absorbed_id=lan.customer_id
        ),
        grpc.StatusCode.NOT_FOUND: pb.MergeCustomersRequest(
            survivor_id=lan.customer_id, absorbed_id=f"nobody-{uuid.uuid4()}"
        ),
        grpc.StatusCode.INVALID_ARGUMENT: pb.MergeCustomersRequest(survivor_id=lan.customer_id),
    }
    for code, request in cases.items():
        assert refusal(merge, request).code() == code
    provisional = ingest(clients, loyalty_card=f"LC-{uuid.uuid4().hex[:8]}").customer_id
    survivor_provisional = pb.MergeCustomersRequest(
        survivor_id=provisional, absorbed_id=lan.customer_id
    )
    refused = refusal(merge, survivor_provisional)
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"make {lan.customer_id} the survivor" in (refused.details() or "")
    unknown = pb.UnmergeCustomersRequest(customer_id=f"nobody-{uuid.uuid4()}")
    assert refusal(clients.contacts.UnmergeCustomers, unknown).code() == grpc.StatusCode.NOT_FOUND


def test_a_merged_customer_is_updated_through_any_of_their_ids_and_never_registered_apart(
    clients: Clients,
) -> None:
    card, email = f"LC-{uuid.uuid4().hex[:8]}", f"m.{uuid.uuid4().hex[:6]}@example.com"
    ingest(clients, loyalty_card=card)
    ingest(clients, email=email)
    merged = register(clients, identity(CARD, card), identity(EMAIL, email))
    absorbed = merged.merged_customer_ids[0]
    renamed = clients.contacts.UpdateCustomer(
        pb.UpdateCustomerRequest(customer_id=absorbed, profile=profile.Profile(display_name="Hoa")),
        timeout=5,
    )
    assert (renamed.customer_id, renamed.profile.display_name) == (merged.customer_id, "Hoa")
    apart = pb.RegisterCustomerRequest(customer_id=absorbed)
    refused = refusal(clients.contacts.RegisterCustomer, apart)
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"merged into {merged.customer_id}" in (refused.details() or "")


def test_erasing_a_merged_customer_erases_everyone_merged_into_them(clients: Clients) -> None:
    card, email = f"LC-{uuid.uuid4().hex[:8]}", f"e.{uuid.uuid4().hex[:6]}@example.com"
    ingest(clients, loyalty_card=card)
    ingest(clients, email=email)
    merged = register(clients, identity(CARD, card), identity(EMAIL, email))
    erased = clients.contacts.EraseCustomer(
        pb.EraseCustomerRequest(customer_id=merged.customer_id), timeout=5
    )
    assert (erased.identities_removed, erased.touchpoints_scrubbed) == (2, 2)
    absorbed = clients.contacts.GetCustomer(
        pb.GetCustomerRequest(customer_id=merged.merged_customer_ids[0]), timeout=5
    )
    assert absorbed.status == profile.CUSTOMER_STATUS_ERASED and not absorbed.identities


def test_touchpoints_list_by_time_range(clients: Clients) -> None:
    customer_id = f"cust-{uuid.uuid4()}"
    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    for hours in range(5):
        tp = new_touchpoint(
            source="till",
            site_id="hcm-01",
            journey_map="supermarket",
            stage="pay",
            customer_id=customer_id,
            occurred_at=start + timedelta(hours=hours),
        )
        clients.contacts.Ingest(pb.IngestRequest(touchpoint=tp), timeout=5)
    request = pb.ListTouchpointsRequest(customer_id=customer_id)
    request.since.FromDatetime(start + timedelta(hours=1))
    request.until.FromDatetime(start + timedelta(hours=3))
    listed = clients.contacts.ListTouchpoints(request, timeout=5).touchpoints
    assert [t.touchpoint.occurred_at.ToDatetime(UTC).hour for t in listed] == [10, 11]
