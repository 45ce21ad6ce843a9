"""Contacts' rules at their edges: every kind of violation, identities, visits, the codec."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import json_format

from tests.builders import T0, touchpoint
from touchstone.contacts.codec import UndecodableTouchpoint, decode_touchpoint, facts_of
from touchstone.contacts.domain import (
    DEFAULT_INGEST_POLICY,
    TEXT_FIELDS,
    Outcome,
    Violation,
    classify_repeat,
    e164,
    is_late,
    normalise_identity,
    printable,
    resolve_customer_id,
    resolve_identity_id,
    resolve_visit_id,
    validate,
)
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS as KEYS
from touchstone.contacts.identity_keys import IdentityKeys
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, ExternalIdentity
from touchstone.platform.runtime.ids import derived_id

GOOD = facts_of(touchpoint())
BY_EMAIL = replace(GOOD, customer_id="", identity_kind="email")


def violations(facts=GOOD, received: datetime = T0) -> list[Violation]:
    return validate(facts, received)


@pytest.mark.parametrize("name", ["source", "journey_map", "stage", "site_id"])
def test_a_text_field_of_257_characters_is_too_long_and_256_is_not(name: str) -> None:
    assert violations(replace(GOOD, **{name: "x" * 256})) == []
    assert violations(replace(GOOD, **{name: "x" * 257})) == [
        Violation(name, "is longer than 256 characters")
    ]


def test_an_event_id_of_128_characters_is_accepted() -> None:
    assert violations(replace(GOOD, event_id="e" * 128)) == []


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_a_control_character_in_any_text_field_is_named(name: str) -> None:
    facts = replace(GOOD, **{name: "a\x00b"})
    assert Violation(name, "must not contain control characters") in violations(facts)


def test_a_time_before_2000_is_taken_for_an_unset_clock() -> None:
    epoch = replace(GOOD, occurred_at=datetime(1970, 1, 1, tzinfo=UTC))
    assert violations(epoch) == [Violation("occurred_at", "is before 2000-01-01: an unset clock?")]


def test_exactly_five_minutes_ahead_is_tolerated_and_one_second_more_is_not() -> None:
    assert violations(replace(GOOD, occurred_at=T0 + timedelta(minutes=5))) == []
    late_clock = replace(GOOD, occurred_at=T0 + timedelta(minutes=5, seconds=1))
    (violation,) = violations(late_clock)
    assert violation.field == "occurred_at"
    assert violation.reason == "is 301s in the future (tolerance 0:05:00)"


def test_a_timestamp_protobuf_cannot_turn_into_a_date_is_rejected_not_raised() -> None:
    tp = touchpoint()
    tp.occurred_at.seconds = 2**62
    facts = facts_of(tp)
    assert facts.occurred_at is None
    (violation,) = violations(facts)
    assert violation.field == "occurred_at"
    assert violation.reason.startswith("is not a valid timestamp")


def test_a_measurement_name_that_is_not_snake_case_and_negative_is_told_both() -> None:
    facts = replace(GOOD, measurements={"Wait-Time": -1.0})
    assert [v.reason for v in violations(facts)] == [
        "names are snake_case, at most 64 characters",
        "must be a finite number, not negative",
    ]


def test_an_amount_without_a_currency_is_refused_and_a_free_item_is_not() -> None:
    assert [v.field for v in violations(replace(GOOD, purchase_minor_units=100))] == [
        "purchase.currency"
    ]
    assert violations(replace(GOOD, purchase_currency="VND", purchase_minor_units=0)) == []


@pytest.mark.parametrize(("rating", "ok"), [(0, True), (1, True), (-1, False), (6, False)])
def test_a_rating_of_zero_means_none_given(rating: int, ok: bool) -> None:
    assert (violations(replace(GOOD, feedback_rating=rating)) == []) is ok


def test_an_identity_kind_the_contract_does_not_know_is_unspecified_and_refused() -> None:
    ref = CustomerRef(identity=ExternalIdentity(kind=99, value="x"))
    facts = facts_of(touchpoint(customer=ref))
    assert facts.identity_kind == "unspecified"
    assert [v.field for v in violations(facts)] == ["customer.identity.kind"]


def test_a_touchpoint_naming_no_customer_at_all_is_refused() -> None:
    facts = facts_of(touchpoint(customer=CustomerRef()))
    assert [v.field for v in violations(facts)] == ["customer"]


@pytest.mark.parametrize(
    "written", ["0901 234 567", "+84 901 234 567", "0084901234567", "84901234567", "(090) 1234567"]
)
def test_a_vietnamese_mobile_written_any_way_is_one_e164_number(written: str) -> None:
    assert e164(written) == "+84901234567"


def test_a_phone_with_no_digits_normalises_to_nothing_and_is_refused() -> None:
    assert normalise_identity("phone", " + ") == ""
    facts = replace(GOOD, customer_id="", identity_kind="phone", identity_value="n/a")
    assert [v.field for v in violations(facts)] == ["customer.identity.value"]


def test_an_email_with_spaces_and_capitals_is_the_same_customer() -> None:
    one = resolve_customer_id(replace(BY_EMAIL, identity_value="A@B.com "), None, KEYS)
    two = resolve_customer_id(replace(BY_EMAIL, identity_value="a@b.com"), None, KEYS)
    assert one == two == resolve_identity_id("email", "a@b.com", KEYS)
    # keyed: the id is not what anyone could derive from the address alone, and another
    # deployment's key gives another id
    assert one != derived_id("customer", "email", "a@b.com")
    elsewhere = IdentityKeys.parse("elsewhere:" + "A" * 43)
    assert resolve_identity_id("email", "a@b.com", elsewhere) != one


def test_the_same_value_under_another_kind_is_another_customer() -> None:
    as_account = replace(BY_EMAIL, identity_kind="account", identity_value="a@b.com")
    assert resolve_customer_id(as_account, None, KEYS) != resolve_customer_id(
        replace(BY_EMAIL, identity_value="a@b.com"), None, KEYS
    )


def test_an_identity_already_claimed_resolves_to_its_owner() -> None:
    facts = replace(BY_EMAIL, identity_value=" A@B.com")
    assert resolve_customer_id(facts, {("email", "a@b.com"): "cust-9"}, KEYS) == "cust-9"
    assert resolve_customer_id(facts, {("email", "other@b.com"): "cust-9"}, KEYS) != "cust-9"


def test_a_derived_visit_differs_by_customer_map_and_site() -> None:
    visit = resolve_visit_id(GOOD, "c1")
    assert visit == derived_id("visit", "c1", "supermarket", "hcm-01", "2026-11-20")
    assert resolve_visit_id(GOOD, "c2") != visit
    assert resolve_visit_id(replace(GOOD, site_id="hn-02"), "c1") != visit
    assert resolve_visit_id(replace(GOOD, journey_map="phone"), "c1") != visit


def test_arriving_exactly_a_day_later_is_on_time_and_a_second_more_is_late() -> None:
    day = timedelta(hours=24)
    assert not is_late(T0, T0 + day, DEFAULT_INGEST_POLICY)
    assert is_late(T0, T0 + day + timedelta(seconds=1), DEFAULT_INGEST_POLICY)


def test_a_repeat_is_a_duplicate_only_when_byte_identical() -> None:
    assert classify_repeat(b"abc", b"abc") is Outcome.DUPLICATE
    assert classify_repeat(b"abc", b"abd") is Outcome.CONFLICT


def test_quoted_text_is_escaped_and_cut_to_a_readable_length() -> None:
    assert printable("a\x00b\x7f") == "a\\x00b\\x7f"
    assert printable("x" * 70) == "x" * 64 + "…"


def test_json_that_is_not_utf8_or_names_an_unknown_field_is_undecodable() -> None:
    with pytest.raises(UndecodableTouchpoint, match="application/json"):
        decode_touchpoint(b'{"eventId": "\xff"}', "application/json")
    with pytest.raises(UndecodableTouchpoint, match="no_such_field"):
        decode_touchpoint(b'{"no_such_field": 1}', "application/json")


def test_a_missing_value_is_undecodable_as_empty() -> None:
    with pytest.raises(UndecodableTouchpoint, match="empty value"):
        decode_touchpoint(None, "application/protobuf")


def test_json_field_names_may_be_camel_or_snake_case() -> None:
    tp = touchpoint(visit_id="v-7")
    camel = json_format.MessageToJson(tp).encode()
    snake = json_format.MessageToJson(tp, preserving_proto_field_name=True).encode()
    assert b"visitId" in camel and b"visit_id" in snake
    assert decode_touchpoint(camel, "application/json") == decode_touchpoint(
        snake, "application/json"
    )
