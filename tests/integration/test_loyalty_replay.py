"""Dropping loyalty's state and replaying its input gives row-for-row the same values.

A simulated day of recorded contacts goes onto the real broker; journey scores it into Postgres,
and its moments (lost ones included) join loyalty's input. Loyalty takes that input into a fresh
database in log order in batches of 500, then into another shuffled (moments before the
purchases they follow, late purchases after the moments they precede, notify's recoveries
before the moments they recover, contacts' merges and erasures anywhere) in batches of 73: its
purchases, lost moments, recoveries, erasures, links, customer values and values at risk are
identical.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from tests.replay import recorded_day_on_broker, tables_after
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.profile_pb2 import CustomerErased, CustomerEvent, CustomersMerged
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored
from touchstone.notify.v1.events_pb2 import CaseEvent, CaseRecovered
from touchstone.platform.messaging.topics import (
    CONTACTS_PROFILES,
    JOURNEY_MOMENTS,
    NOTIFY_CASES,
    Incoming,
)
from touchstone.platform.runtime.prototime import to_datetime
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration
TABLES = {
    "purchases": "SELECT * FROM loyalty.purchases ORDER BY event_id",
    "lost_moments": "SELECT * FROM loyalty.lost_moments ORDER BY moment_id",
    "customer_values": "SELECT * FROM loyalty.customer_values ORDER BY customer_id",
    "recoveries": "SELECT * FROM loyalty.recoveries ORDER BY moment_id",
    "moments_at_risk": "SELECT * FROM loyalty.moments_at_risk ORDER BY moment_id",
    "erased_customers": "SELECT * FROM loyalty.erased_customers ORDER BY customer_id",
    "links": "SELECT * FROM loyalty.customer_links ORDER BY merge_id",
    "last_contacts": "SELECT * FROM loyalty.last_contacts ORDER BY customer_id",
    "lane_clocks": "SELECT * FROM loyalty.lane_clocks ORDER BY lane",
    "silences": "SELECT * FROM loyalty.silences ORDER BY moment_id",
    "at_stake": "SELECT value_at_risk_minor, remaining_minor FROM loyalty.moments_at_risk "
    "ORDER BY moment_id",
}


def scored_moments(infra: Settings, recorded: list[Incoming]) -> list[Incoming]:
    """Every moment journey stores for the recorded contacts, as loyalty would consume them."""
    query = "SELECT customer_id, payload FROM journey.moments ORDER BY occurred_at, moment_id"
    rows = tables_after(infra, "journey", recorded, {"moments": query})["moments"]
    return [
        Incoming(JOURNEY_MOMENTS, 0, n, customer.encode(), bytes(payload), {}, 0)
        for n, (customer, payload) in enumerate(rows)
    ]


def recoveries(moments: list[Incoming]) -> list[Incoming]:
    """Notify's word that every third lost moment's case was recovered, a day after it."""
    lost = [
        m for r in moments if (m := MomentScored.FromString(r.value or b"")).verdict == VERDICT_LOSE
    ]
    out = []
    for n, moment in enumerate(lost[::3]):
        recovered = CaseRecovered(
            case_id=f"case-{n}",
            customer_id=moment.customer_id,
            moment_ids=[moment.moment_id],
            how="win",
        )
        recovered.recovered_at.FromDatetime(to_datetime(moment.occurred_at) + timedelta(days=1))
        event = CaseEvent(event_id=f"recovered-{n}", recovered=recovered)
        key = moment.customer_id.encode()
        out.append(Incoming(NOTIFY_CASES, 0, n, key, event.SerializeToString(), {}, 0))
    return out


def merges_and_erasures(recorded: list[Incoming]) -> list[Incoming]:
    """Contacts merging three pairs of the day's customers and erasing two others."""
    customers = sorted(
        {TouchpointRecorded.FromString(r.value or b"").customer_id for r in recorded}
    )
    events = [
        CustomerEvent(
            event_id=f"merge-{n}",
            merged=CustomersMerged(merge_id=f"merge-{n}", survivor_id=a, absorbed_id=b),
        )
        for n, (a, b) in enumerate(zip(customers[0:6:2], customers[1:6:2], strict=True))
    ]
    events += [
        CustomerEvent(event_id=f"erased-{c}", erased=CustomerErased(customer_id=c))
        for c in customers[6:8]
    ]
    return [
        Incoming(CONTACTS_PROFILES, 0, n, b"", e.SerializeToString(), {}, 0)
        for n, e in enumerate(events)
    ]


def loyalty_state(infra: Settings, log: list[Incoming], batch: int) -> dict[str, list[Any]]:
    return tables_after(infra, "loyalty", log, TABLES, batch)


def test_replaying_loyaltys_input_in_any_order_rebuilds_every_row_the_same(infra) -> None:
    recorded = recorded_day_on_broker(infra.kafka_bootstrap, 300, 2)
    moments = scored_moments(infra, recorded)
    log = recorded + moments + recoveries(moments) + merges_and_erasures(recorded)
    shuffled = random.Random(11).sample(log, len(log))

    first = loyalty_state(infra, log, 500)
    again = loyalty_state(infra, shuffled, 73)
    for name in TABLES:
        assert first[name] == again[name], f"loyalty.{name} differs after the replay"
    assert len(first["purchases"]) > 100 and len(first["lost_moments"]) > 50
    assert len(first["moments_at_risk"]) == len(first["lost_moments"])
    assert len(first["recoveries"]) > 10
    assert len(first["links"]) == 3 and len(first["erased_customers"]) == 2
    assert len(first["lane_clocks"]) == 2 and len(first["silences"]) > 10
    assert any(risked > 0 for risked, _ in first["at_stake"]), "some value is put at risk"
    assert any(0 < left < risked for risked, left in first["at_stake"]), "some is saved by recovery"
