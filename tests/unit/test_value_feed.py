"""WatchValues' filter: given value updates, then a watcher gets only those it asked for."""

from __future__ import annotations

from touchstone.loyalty.api import values_wanted
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.v1.events_pb2 import CustomerValue, TierChange, ValueAtRisk, ValueUpdated

BOUGHT = ValueUpdated(event_id="v", value=CustomerValue(customer_id="c1", site_id="s1"))
LOST_HERE = ValueUpdated(
    event_id="r1", value=CustomerValue(customer_id="c1"), at_risk=ValueAtRisk(site_id="s1")
)
LOST_THERE = ValueUpdated(
    event_id="r2", value=CustomerValue(customer_id="c2"), at_risk=ValueAtRisk(site_id="s2")
)
MOVED = ValueUpdated(
    event_id="t1", value=CustomerValue(customer_id="c3"), tier_change=TierChange(site_id="s2")
)
ALL = (BOUGHT, LOST_HERE, LOST_THERE, MOVED)


def wanted_ids(request: pb.WatchValuesRequest) -> list[str]:
    wanted = values_wanted(request)
    return [u.event_id for u in ALL if wanted(u)]


def test_a_value_watcher_gets_only_what_it_asked_for() -> None:
    assert wanted_ids(pb.WatchValuesRequest()) == ["v", "r1", "r2", "t1"]
    assert wanted_ids(pb.WatchValuesRequest(customer_id="c1")) == ["v", "r1"]
    assert wanted_ids(pb.WatchValuesRequest(site_id="s2")) == ["r2", "t1"]
    assert wanted_ids(pb.WatchValuesRequest(site_id="s1")) == ["v", "r1"]  # home site too
    assert wanted_ids(pb.WatchValuesRequest(customer_id="c1", at_risk_only=True)) == ["r1"]
