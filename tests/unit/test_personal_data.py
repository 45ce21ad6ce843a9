"""Personal data: which fields the contracts mark, who may see them, and masking at any depth."""

from __future__ import annotations

from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.contacts.v1 import touchpoint_pb2
from touchstone.notify.v1 import events_pb2 as notify_events
from touchstone.platform.security.auth import ROLES, Principal
from touchstone.platform.security.personal_data import MASK, mask, may_see_personal_data

# Which fields are marked: test_personal_fields.py walks every field of every contract.


def test_only_admins_and_services_see_personal_data() -> None:
    seeing = {
        r for r in ROLES if may_see_personal_data(Principal("x", frozenset({r}), frozenset()))
    }
    assert seeing == {"admin", "service"}


def test_personal_fields_are_masked_at_any_depth_and_nothing_else() -> None:
    customer = contacts.Customer(customer_id="c-1", touchpoint_count=3)
    customer.identities.add(kind=touchpoint_pb2.IDENTITY_KIND_PHONE, value="+84901234567")
    customer.profile.display_name = "Nguyễn Thị Lan"
    listed = contacts.ListTouchpointsResponse()
    recorded = listed.touchpoints.add(customer_id="c-1")
    recorded.touchpoint.customer.identity.value = "lan@example.vn"
    recorded.touchpoint.feedback.comment = "the cashier was rude"
    recorded.touchpoint.feedback.rating = 1
    event = notify_events.CaseEvent()
    event.recovered.note = "called Lan on +84901234567"

    for message in (customer, listed, event):
        mask(message)

    assert [i.value for i in customer.identities] == [MASK]
    assert customer.profile.display_name == MASK and customer.touchpoint_count == 3
    assert recorded.touchpoint.customer.identity.value == MASK
    assert recorded.touchpoint.feedback.comment == MASK and recorded.touchpoint.feedback.rating == 1
    assert event.recovered.note == MASK
    assert "+8490" not in str(customer) + str(listed) + str(event)
