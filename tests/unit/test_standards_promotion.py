"""Promoting standards: given a StandardsPromoted on journey.standards.v1, then journey scores by
it from the batch that takes it, every worker follows, the API lists it, and a promotion that
cannot go live is dead-lettered with the reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from journey.api import JourneyApi
from journey.domain import standards_version
from journey.handlers import ScoreMoments
from journey.promotions import promoted, promotion_record
from journey.rescore import Period, RescoreReport
from journey.standards import StandardSet, default_standards, default_standards_file
from tests.builders import record, recorded, touchpoint
from tests.memory_stores import MemoryJourneyStore
from tests.unit.test_contacts_ingest_api import call
from touchstone.common.journey_maps import load_maps
from touchstone.common.topics import CONTACTS_RECORDED, JOURNEY_DLQ, JOURNEY_STANDARDS
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, VERDICT_WIN, MomentScored

AT = datetime(2026, 11, 16, 2, tzinfo=UTC)
DEFAULTS = StandardSet(default_standards(), standards_version(default_standards()))


def tightened_text() -> str:
    text = default_standards_file().read_text(encoding="utf-8")
    at = text.index("id: supermarket.enter_store.greeted_within_30s")
    old = "threshold: 30, surprise_margin: 20"
    return text[:at] + text[at:].replace(old, "threshold: 10, surprise_margin: 5", 1)


def tightened() -> StandardSet:
    from journey.standards import parse_standards

    standards, problems = parse_standards(tightened_text(), "tightened", load_maps())
    assert not problems
    return StandardSet(standards, standards_version(standards))


def promotion(text: str, version: str, offset: int = 0) -> object:
    report = RescoreReport(Period(AT, AT + timedelta(days=1)), DEFAULTS.version, version, 0, ())
    candidate = StandardSet((), version)
    event = promoted(candidate, text, report, "greet sooner", "lan", AT)
    out = promotion_record(event)
    return record(out.value, offset, JOURNEY_STANDARDS, headers=dict(out.headers), key=out.key)


def greeted(seconds: float, n: int) -> object:
    tp = touchpoint("enter_store", AT, measurements={"greeting_seconds": seconds}, event_id=f"g{n}")
    return record(recorded(tp, "lan", f"visit-{n}"), n, CONTACTS_RECORDED)


def scored(out: list, n: int) -> MomentScored:
    moments = [MomentScored.FromString(o.value) for o in out if o.topic == "journey.moments.v1"]
    return next(m for m in moments if m.source_event_id == f"g{n}")


def test_the_batch_that_takes_a_promotion_and_every_later_one_score_by_it() -> None:
    store = MemoryJourneyStore()
    worker, other_worker = (ScoreMoments(store, DEFAULTS.standards) for _ in range(2))
    before = asyncio.run(worker.handle([greeted(20, 1)]))
    assert scored(before, 1).verdict == VERDICT_WIN
    new = tightened()
    taking = asyncio.run(worker.handle([promotion(tightened_text(), new.version), greeted(20, 2)]))
    moment = scored(taking, 2)
    assert (moment.verdict, moment.standards_version) == (VERDICT_LOSE, new.version)
    # the other worker never saw the record, and follows from its next batch
    later = scored(asyncio.run(other_worker.handle([greeted(20, 3)])), 3)
    assert (later.verdict, later.standards_version) == (VERDICT_LOSE, new.version)
    api = JourneyApi(store, DEFAULTS, load_maps())
    listed = call(api.ListStandards, pb.ListStandardsRequest(journey_map="supermarket"))
    assert listed.version == new.version
    greeting = next(s for s in listed.standards if s.stage == "enter_store")
    assert greeting.threshold == 10


def test_a_promotion_that_cannot_go_live_is_dead_lettered_and_changes_nothing() -> None:
    store = MemoryJourneyStore()
    worker = ScoreMoments(store, DEFAULTS.standards)
    broken_file = tightened_text().replace("area: timeliness", "area: speed", 1)
    out = asyncio.run(
        worker.handle(
            [
                promotion(broken_file, "whatever", 0),
                promotion(tightened_text(), "not-its-version", 1),
                greeted(20, 4),
            ]
        )
    )
    letters = [dict(o.headers)["dlq_reason"].decode() for o in out if o.topic == JOURNEY_DLQ]
    assert len(letters) == 2
    assert "problems" in letters[0] and "area" in letters[0]
    assert "'not-its-version' is not the file's" in letters[1]
    assert scored(out, 4).standards_version == DEFAULTS.version
    assert asyncio.run(store.latest_promotion()) is None
