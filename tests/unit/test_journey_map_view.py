"""GetJourneyMap: given scored contacts, then each stage's moments, win rate, most broken
standards and quadrant, in the map's order, over the site's own calendar days."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from tests.builders import record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from tests.unit.test_contacts_ingest_api import Aborted, call, violations
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.journey.api import JourneyApi
from touchstone.journey.domain import standards_version
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import StandardSet, default_standards
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.v1.events_pb2 import (
    QUADRANT_B_PRODUCTION_LINE,
    QUADRANT_C_FRIENDLY_DISORGANISED,
    QUADRANT_D_QUALITY,
    QUADRANT_UNSPECIFIED,
    SIDE_PROCEDURAL,
)
from touchstone.shared_kernel.journey_maps import load_maps

MONDAY = datetime(2026, 11, 16, 2, tzinfo=UTC)  # 09:00 in Ho Chi Minh City (UTC+7)
STANDARDS = StandardSet(default_standards(), standards_version(default_standards()))
ANNOUNCED = ["said_to_whom", "said_why", "stayed_until_answered"]


def call_touchpoint(stage: str, at: datetime, n: int, **fields: object) -> Touchpoint:
    return touchpoint(stage, at, "phone", event_id=f"call-{stage}-{n}", **fields)


def journey_after(*touchpoints: Touchpoint) -> JourneyApi:
    """The journey servicer after scoring these touchpoints, one visit each, in one batch."""
    store = MemoryJourneyStore()
    handler = ScoreMoments(store, STANDARDS.standards)
    batch = [
        record(recorded(tp, "caller", f"visit-{n}"), n, "contacts.recorded.v1")
        for n, tp in enumerate(touchpoints)
    ]
    asyncio.run(handler.handle(batch))
    return JourneyApi(store, STANDARDS, load_maps())


def phone_map(api: JourneyApi, first: str, last: str, site: str = "") -> pb.JourneyMapView:
    request = pb.GetJourneyMapRequest(
        journey_map="phone", site_id=site, first_day=first, last_day=last
    )
    return call(api.GetJourneyMap, request)


def test_every_stage_comes_in_journey_order_with_its_moments_and_win_rate() -> None:
    api = journey_after(
        call_touchpoint("ring", MONDAY, 1, measurements={"rings": 2}),
        call_touchpoint("ring", MONDAY, 2, measurements={"rings": 5}),
        call_touchpoint("ring", MONDAY, 3, measurements={"rings": 7}),
        call_touchpoint("ring", MONDAY, 4, measurements={"rings": 1}),
        call_touchpoint("ring", MONDAY, 5),  # nothing a standard reads: unscored
    )
    view = phone_map(api, "2026-11-16", "2026-11-16")
    assert [s.stage for s in view.stages] == [s.id for s in load_maps()["phone"].stages]
    ring = view.stages[0]
    assert (ring.moments, ring.wins, ring.losses, ring.unscored) == (5, 2, 2, 1)
    assert ring.win_rate == 0.5 and ring.side == SIDE_PROCEDURAL and ring.name
    assert [(b.standard_id, b.broken) for b in ring.most_broken] == [
        ("phone.ring.answered_within_3_rings", 2)
    ]
    assert ring.most_broken[0].description == "answered within 3 rings"
    # by procedural area and quality dimension (docs/domain.md §4): 4 judged, 2 met
    assert [(a.name, a.weight, a.met, a.share) for a in ring.areas] == [
        ("timeliness", 4.0, 2.0, 0.5)
    ]
    assert [(d.name, d.share) for d in ring.dimensions] == [("responsiveness", 0.5)]
    assert [a.name for a in view.whole_map.areas] == ["timeliness"]
    assert all(s.moments == 0 for s in view.stages if s.stage != "ring")
    whole = view.whole_map
    assert (whole.moments, whole.wins, whole.losses, whole.unscored) == (5, 2, 2, 1)


def test_a_stage_judged_on_both_sides_is_placed_in_a_quadrant() -> None:
    fast = {"transfer_seconds": 20}
    api = journey_after(  # announced and quick, but no apology when the transfer failed
        call_touchpoint("transfer", MONDAY, 1, measurements=fast, observations=ANNOUNCED),
        call_touchpoint(
            "transfer",
            MONDAY,
            2,
            measurements=fast,
            observations=[*ANNOUNCED, "transfer_failed"],
        ),
        call_touchpoint("ring", MONDAY, 3, measurements={"rings": 1}),
    )
    transfer = next(
        s for s in phone_map(api, "2026-11-16", "2026-11-16").stages if s.stage == "transfer"
    )
    assert transfer.procedural_score == 1.0 and transfer.personal_score == 0.0
    assert transfer.quadrant == QUADRANT_B_PRODUCTION_LINE  # "you are a number"
    ring = phone_map(api, "2026-11-16", "2026-11-16").stages[0]
    assert ring.quadrant == QUADRANT_UNSPECIFIED  # nothing personal judged at the ring


def test_a_staff_team_is_placed_in_a_quadrant_from_all_its_stages() -> None:
    # the call centre answers in 1 ring (procedural, met) and greets politely and fully
    # (personal, met): neither stage alone has both sides, the team does
    api = journey_after(
        call_touchpoint("ring", MONDAY, 1, measurements={"rings": 1}),
        call_touchpoint(
            "greeting",
            MONDAY,
            2,
            observations=["polite_greeting", "named_self", "named_company", "named_department"],
        ),
    )
    view = phone_map(api, "2026-11-16", "2026-11-16")
    assert [s.quadrant for s in view.stages[:2]] == [QUADRANT_UNSPECIFIED] * 2
    assert [t.stage for t in view.teams] == ["call_centre", "callbacks"]
    centre, callbacks = view.teams
    assert (centre.moments, centre.wins, centre.quadrant) == (2, 2, QUADRANT_D_QUALITY)
    assert centre.name.startswith("Phone rings, Greeting, ")
    assert (callbacks.moments, callbacks.quadrant) == (0, QUADRANT_UNSPECIFIED)


def test_a_friendly_but_slow_transfer_is_quadrant_c() -> None:
    slow = {"transfer_seconds": 200}
    api = journey_after(
        call_touchpoint(
            "transfer",
            MONDAY,
            1,
            measurements=slow,
            observations=["transfer_failed", "apologised", "said_why"],
        )
    )
    (transfer,) = [s for s in phone_map(api, "2026-11-16", "2026-11-16").stages if s.moments]
    assert transfer.quadrant == QUADRANT_C_FRIENDLY_DISORGANISED
    assert [b.standard_id for b in transfer.most_broken] == [
        "phone.transfer.announced_and_stayed",
        "phone.transfer.within_60s",
    ]


def test_days_are_the_sites_own_calendar_days_and_sites_are_kept_apart() -> None:
    late_sunday_utc = datetime(2026, 11, 15, 18, tzinfo=UTC)  # Monday 01:00 in Ho Chi Minh City
    api = journey_after(
        call_touchpoint("ring", late_sunday_utc, 1, measurements={"rings": 1}),
        call_touchpoint("ring", MONDAY + timedelta(days=1), 2, measurements={"rings": 9}),
        call_touchpoint("ring", MONDAY, 3, measurements={"rings": 9}, site_id="hn-02"),
    )
    monday = phone_map(api, "2026-11-16", "2026-11-16", "hcm-01").stages[0]
    assert (monday.moments, monday.wins) == (1, 1)
    assert phone_map(api, "2026-11-15", "2026-11-15", "hcm-01").stages[0].moments == 0
    both_days = phone_map(api, "2026-11-16", "2026-11-17", "hcm-01").stages[0]
    assert (both_days.moments, both_days.wins, both_days.losses) == (2, 1, 1)
    every_site = phone_map(api, "2026-11-16", "2026-11-17").stages[0]
    assert (every_site.moments, every_site.losses) == (3, 2)


def test_the_period_defaults_to_the_week_ending_on_last_day() -> None:
    api = journey_after(call_touchpoint("ring", MONDAY, 1, measurements={"rings": 1}))
    request = pb.GetJourneyMapRequest(journey_map="phone", last_day="2026-11-22")
    view = call(api.GetJourneyMap, request)
    assert (view.first_day, view.last_day, view.stages[0].moments) == (
        "2026-11-16",
        "2026-11-22",
        1,
    )


def test_a_bad_request_names_every_field_at_fault() -> None:
    api = journey_after()
    request = pb.GetJourneyMapRequest(
        journey_map="phone", first_day="16/11/2026", last_day="2026-11-31", top_broken=99
    )
    with pytest.raises(Aborted) as bad:
        call(api.GetJourneyMap, request)
    assert bad.value.status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [field for field, _ in violations(bad.value)] == ["last_day", "first_day", "top_broken"]
    backwards = pb.GetJourneyMapRequest(
        journey_map="phone", first_day="2026-11-20", last_day="2026-11-16"
    )
    with pytest.raises(Aborted) as reversed_days:
        call(api.GetJourneyMap, backwards)
    assert violations(reversed_days.value) == [("first_day", "must not be after last_day")]
    with pytest.raises(Aborted) as unknown:
        call(api.GetJourneyMap, pb.GetJourneyMapRequest(journey_map="bank_branch"))
    assert unknown.value.status.code == grpc.StatusCode.NOT_FOUND
    assert "phone" in unknown.value.status.details
    with pytest.raises(Aborted) as missing:
        call(api.GetJourneyMap, pb.GetJourneyMapRequest())
    assert violations(missing.value)[0][0] == "journey_map"
