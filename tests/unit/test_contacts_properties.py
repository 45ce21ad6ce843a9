"""Property: whatever bytes or field values arrive, admission answers; it never raises or stalls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import record
from tests.fakes.contacts import MemoryContactsStore
from touchstone.contacts.admission import Admitted, admit_bytes, admit_touchpoint
from touchstone.contacts.domain import DEFAULT_INGEST_POLICY
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, ExternalIdentity, Money, Touchpoint
from touchstone.platform.messaging.topics import CONTACTS_RECORDED, TOUCHPOINTS_DLQ

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
TEXT_COLUMNS = ("event_id", "customer_id", "visit_id", "source", "journey_map", "stage", "site_id")

texts = st.text(max_size=300)
numbers = st.floats(allow_nan=True, allow_infinity=True)
content_types = st.sampled_from(
    ["application/protobuf", "application/json", "text/plain", "", "application/json; x=y"]
)


@st.composite
def touchpoints(draw: st.DrawFn) -> Touchpoint:
    """Touchpoints with arbitrary field values, valid or not."""
    tp = Touchpoint(
        event_id=draw(texts),
        source=draw(texts),
        site_id=draw(texts),
        journey_map=draw(texts),
        stage=draw(texts),
        staff_id=draw(texts),
        visit_id=draw(texts),
        measurements=draw(st.dictionaries(texts, numbers, max_size=5)),
        observations=draw(st.lists(texts, max_size=5)),
    )
    tp.occurred_at.seconds = draw(st.integers(-(2**63), 2**63 - 1))
    tp.occurred_at.nanos = draw(st.integers(-(2**31), 2**31 - 1))
    if draw(st.booleans()):
        tp.customer.CopyFrom(CustomerRef(customer_id=draw(texts)))
    else:
        kind = draw(st.integers(-5, 10))
        tp.customer.CopyFrom(CustomerRef(identity=ExternalIdentity(kind=kind, value=draw(texts))))
    if draw(st.booleans()):
        minor = draw(st.integers(-(2**63), 2**63 - 1))
        tp.purchase.CopyFrom(Money(currency=draw(texts), minor_units=minor))
    tp.feedback.rating = draw(st.integers(-(2**31), 2**31 - 1))
    return tp


def assert_storable(admitted: Admitted) -> None:
    """What will go into text columns holds no NUL (Postgres text cannot) and a sane time."""
    row = admitted.row
    for column in TEXT_COLUMNS:
        assert "\x00" not in getattr(row, column), column
    assert 2000 <= row.occurred_at.year <= 9999


@settings(max_examples=400, deadline=None)
@given(value=st.binary(max_size=2000), content_type=content_types)
def test_arbitrary_bytes_are_admitted_or_refused_with_reasons(
    value: bytes, content_type: str
) -> None:
    result = admit_bytes(value, content_type, NOW, DEFAULT_INGEST_POLICY)
    if isinstance(result, Admitted):
        assert_storable(result)
    else:
        assert result and all(v.field and v.reason for v in result)


@settings(max_examples=400, deadline=None)
@given(tp=touchpoints())
def test_arbitrary_field_values_are_admitted_or_refused_with_reasons(tp: Touchpoint) -> None:
    result = admit_touchpoint(tp, NOW, DEFAULT_INGEST_POLICY)
    if isinstance(result, Admitted):
        assert_storable(result)
    else:
        assert result and all(v.field and v.reason for v in result)
        assert all("\x00" not in v.field + v.reason for v in result)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(
        st.one_of(touchpoints().map(Touchpoint.SerializeToString), st.binary(max_size=300)),
        max_size=20,
    ),
    source=st.binary(max_size=40),
)
def test_every_record_of_any_batch_is_recorded_or_dead_lettered(
    batch: list[bytes], source: bytes
) -> None:
    records = [record(v, n, headers={"ce_source": source}) for n, v in enumerate(batch)]
    out = asyncio.run(RecordTouchpoints(MemoryContactsStore()).handle(records))
    assert len(out) == len(batch)
    assert {o.topic for o in out} <= {CONTACTS_RECORDED, TOUCHPOINTS_DLQ}
    for letter in (o for o in out if o.topic == TOUCHPOINTS_DLQ):
        assert letter.value in batch
