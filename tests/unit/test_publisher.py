"""The producers' client: what it builds passes contacts' validation, keyed and headed right."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from touchstone.contacts.codec import facts_of
from touchstone.contacts.domain import validate
from touchstone.contacts.v1.touchpoint_pb2 import IdentityKind
from touchstone.tools.ops.publisher import new_touchpoint, touchpoint_record

AT = datetime(2026, 11, 20, 9, tzinfo=UTC)


def test_a_built_touchpoint_is_valid_and_keyed_by_its_identity() -> None:
    tp = new_touchpoint(
        source="door-3",
        site_id="hcm-01",
        journey_map="supermarket",
        stage="enter_store",
        loyalty_card="LC-1",
        occurred_at=AT,
        measurements={"greeting_seconds": 12},
        staff_id="st-4",
    )
    assert validate(facts_of(tp), AT) == []
    assert tp.customer.identity.kind == IdentityKind.IDENTITY_KIND_LOYALTY_CARD
    assert tp.staff_id == "st-4"
    record = touchpoint_record(tp)
    headers = dict(record.headers)
    assert record.key == b"loyalty_card:LC-1"
    assert headers["ce_id"] == tp.event_id.encode()
    assert headers["ce_type"] == b"touchstone.contacts.v1.Touchpoint"
    assert headers["content-type"] == b"application/protobuf"


def test_each_built_touchpoint_gets_its_own_event_id_and_a_purchase_in_minor_units() -> None:
    one, two = (
        new_touchpoint(
            source="till",
            site_id="s",
            journey_map="supermarket",
            stage="pay",
            customer_id="c1",
            purchase=("VND", 250_000),
        )
        for _ in range(2)
    )
    assert one.event_id != two.event_id
    assert (one.purchase.currency, one.purchase.minor_units) == ("VND", 250_000)


def test_the_customer_must_be_named_exactly_once() -> None:
    with pytest.raises(ValueError, match="name the customer once"):
        new_touchpoint(source="s", site_id="s", journey_map="m", stage="x")
    with pytest.raises(ValueError, match="name the customer once"):
        new_touchpoint(
            source="s", site_id="s", journey_map="m", stage="x", customer_id="c", phone="+84901"
        )
