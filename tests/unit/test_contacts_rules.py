"""Contacts' rules: what a touchpoint must be, who the customer is, which visit it belongs to."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.builders import T0, touchpoint
from touchstone.contacts.codec import UndecodableTouchpoint, decode_touchpoint, facts_of
from touchstone.contacts.domain import (
    TouchpointFacts,
    normalise_identity,
    resolve_customer_id,
    resolve_visit_id,
    validate,
)
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS as KEYS
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, ExternalIdentity, IdentityKind

GOOD = facts_of(touchpoint())


def fields_violated(facts: TouchpointFacts, received=T0) -> list[str]:
    return [v.field for v in validate(facts, received)]


def test_a_complete_touchpoint_has_no_violations() -> None:
    assert validate(GOOD, T0) == []


@pytest.mark.parametrize("name", ["event_id", "source", "journey_map", "stage", "site_id"])
def test_each_required_text_field_is_named_when_missing(name: str) -> None:
    assert fields_violated(replace(GOOD, **{name: ""})) == [name]


def test_an_overlong_event_id_is_rejected() -> None:
    assert fields_violated(replace(GOOD, event_id="x" * 129)) == ["event_id"]


def test_occurred_at_is_required() -> None:
    assert fields_violated(replace(GOOD, occurred_at=None)) == ["occurred_at"]


def test_an_event_more_than_five_minutes_ahead_of_its_arrival_is_rejected() -> None:
    ahead = replace(GOOD, occurred_at=T0 + timedelta(minutes=6))
    assert fields_violated(ahead, received=T0) == ["occurred_at"]
    assert "360s in the future" in validate(ahead, T0)[0].reason


def test_an_event_slightly_ahead_by_clock_skew_is_accepted() -> None:
    assert validate(replace(GOOD, occurred_at=T0 + timedelta(minutes=4)), T0) == []


def test_a_customer_needs_an_id_or_an_identity() -> None:
    anonymous = replace(GOOD, customer_id="", identity_kind="", identity_value="")
    assert fields_violated(anonymous) == ["customer"]


def test_an_identity_needs_a_known_kind_and_a_value() -> None:
    base = replace(GOOD, customer_id="")
    assert fields_violated(replace(base, identity_kind="fax", identity_value="1")) == [
        "customer.identity.kind"
    ]
    assert fields_violated(replace(base, identity_kind="email", identity_value="  ")) == [
        "customer.identity.value"
    ]


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_measurements_must_be_finite_and_not_negative(value: float) -> None:
    facts = replace(GOOD, measurements={"greeting_seconds": value})
    assert fields_violated(facts) == ["measurements[greeting_seconds]"]


def test_a_purchase_needs_an_iso_currency_and_a_non_negative_amount() -> None:
    assert fields_violated(replace(GOOD, purchase_currency="dong", purchase_minor_units=5)) == [
        "purchase.currency"
    ]
    assert fields_violated(replace(GOOD, purchase_currency="VND", purchase_minor_units=-5)) == [
        "purchase.minor_units"
    ]


def test_a_feedback_rating_is_one_to_five() -> None:
    assert fields_violated(replace(GOOD, feedback_rating=6)) == ["feedback.rating"]
    assert validate(replace(GOOD, feedback_rating=5), T0) == []


def test_every_violation_is_reported_not_just_the_first() -> None:
    assert fields_violated(replace(GOOD, event_id="", stage="", feedback_rating=9)) == [
        "event_id",
        "stage",
        "feedback.rating",
    ]


def test_emails_and_phones_are_normalised_so_one_person_is_one_key() -> None:
    assert normalise_identity("email", " Lan@Example.COM ") == "lan@example.com"
    assert normalise_identity("phone", "+84 90-123 4567") == "+84901234567"
    assert normalise_identity("loyalty_card", " LC-1 ") == "LC-1"


def test_a_given_customer_id_is_kept() -> None:
    assert resolve_customer_id(GOOD, None, KEYS) == "cust-1"


def test_the_same_identity_written_differently_resolves_to_the_same_customer() -> None:
    base = replace(GOOD, customer_id="", identity_kind="email")
    one = resolve_customer_id(replace(base, identity_value="Lan@Example.com"), None, KEYS)
    two = resolve_customer_id(replace(base, identity_value=" lan@example.com"), None, KEYS)
    other = resolve_customer_id(replace(base, identity_value="mai@example.com"), None, KEYS)
    assert one == two != other


def test_a_visit_is_the_given_one_or_one_per_customer_map_site_and_day() -> None:
    assert resolve_visit_id(replace(GOOD, visit_id="v-9"), "c") == "v-9"
    morning = resolve_visit_id(GOOD, "c")
    evening = resolve_visit_id(replace(GOOD, occurred_at=T0 + timedelta(hours=8)), "c")
    next_day = resolve_visit_id(replace(GOOD, occurred_at=T0 + timedelta(days=1)), "c")
    assert morning == evening != next_day


def test_protobuf_and_json_decode_to_the_same_touchpoint() -> None:
    from google.protobuf import json_format

    tp = touchpoint(measurements={"greeting_seconds": 12})
    as_json = json_format.MessageToJson(tp).encode()
    assert decode_touchpoint(tp.SerializeToString(), "application/protobuf") == tp
    assert decode_touchpoint(as_json, "application/json") == tp


@pytest.mark.parametrize(
    ("value", "content_type", "says"),
    [
        (b"", "application/protobuf", "empty value"),
        (b"\xff\xff\xff", "application/protobuf", "not a application/protobuf Touchpoint"),
        (b"{not json", "application/json", "not a application/json Touchpoint"),
        (b"\x0a\x01x", "text/csv", "unsupported content-type"),
        (b"\x0a" * 70_000, "application/protobuf", "more than 65536"),
    ],
)
def test_undecodable_bytes_say_why(value: bytes, content_type: str, says: str) -> None:
    with pytest.raises(UndecodableTouchpoint, match=says):
        decode_touchpoint(value, content_type)


def test_an_identity_without_a_kind_is_told_which_kinds_exist() -> None:
    ref = CustomerRef(identity=ExternalIdentity(value="LC-1"))
    (violation,) = validate(facts_of(touchpoint(customer=ref)), T0)
    assert violation.field == "customer.identity.kind"
    assert violation.reason == "must be one of account, email, loyalty_card, phone"


def test_facts_carry_the_external_identity_kind_by_name() -> None:
    ref = CustomerRef(identity=ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value="1"))
    facts = facts_of(touchpoint(customer=ref))
    assert (facts.customer_id, facts.identity_kind, facts.identity_value) == ("", "phone", "1")
