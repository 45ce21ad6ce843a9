"""Journey's gRPC servicer over the in-memory store: visits with their verdicts, standards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.builders import record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from tests.unit.test_contacts_ingest_api import call
from touchstone.journey.api import JourneyApi
from touchstone.journey.domain import standards_version
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import StandardSet, default_standards
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.v1.events_pb2 import SERVICE_LEVEL_SURPRISING
from touchstone.shared_kernel.journey_maps import load_maps

START = datetime(2026, 11, 20, 2, tzinfo=UTC)


def journey_with_a_completed_visit() -> JourneyApi:
    store = MemoryJourneyStore()
    handler = ScoreMoments(store, default_standards())
    greeted = touchpoint("enter_store", START, measurements={"greeting_seconds": 4})
    tick = touchpoint("drive_in", START + timedelta(hours=3), event_id="tick")
    batches = [[recorded(greeted, "lan", "v1")], [recorded(tick, "other", "v2")]]
    for n, batch in enumerate(batches):
        asyncio.run(handler.handle([record(v, n, "contacts.recorded.v1") for v in batch]))
    standards = StandardSet(default_standards(), standards_version(default_standards()))
    return JourneyApi(store, standards, load_maps())


def test_a_completed_visit_is_shown_with_its_verdict_and_listed() -> None:
    api = journey_with_a_completed_visit()
    visit = call(api.GetVisit, pb.GetVisitRequest(visit_id="v1"))
    assert visit.completion.level == SERVICE_LEVEL_SURPRISING and visit.completion.surprises == 1
    assert visit.first_at.ToDatetime(UTC) == START and len(visit.moments) == 1
    completed = call(api.ListVisits, pb.ListVisitsRequest(completed_only=True)).visits
    assert [v.visit_id for v in completed] == ["v1"]
    assert [v.visit_id for v in call(api.ListVisits, pb.ListVisitsRequest()).visits] == [
        "v1",
        "v2",
    ]
