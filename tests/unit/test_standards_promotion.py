"""Promoting standards: given a StandardsPromoted on journey.standards.v1, then journey judges
the contacts that happen from its effective time by it, and those before by the version before,
however the log was batched; every worker follows, the API lists it, and a promotion that cannot
go live is dead-lettered with the reason."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.builders import record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from tests.unit.test_contacts_ingest_api import call
from touchstone.journey.api import JourneyApi
from touchstone.journey.domain import standards_version
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.promotions import promoted, promotion_record
from touchstone.journey.rescore_report import Period, RescoreReport
from touchstone.journey.standards import StandardSet, default_standards, default_standards_file
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.v1.events_pb2 import (
    VERDICT_LOSE,
    VERDICT_WIN,
    MomentScored,
    StandardsPromoted,
)
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    JOURNEY_DLQ,
    JOURNEY_STANDARDS,
    Incoming,
)
from touchstone.shared_kernel.journey_maps import load_maps

AT = datetime(2026, 11, 16, 2, tzinfo=UTC)
DEFAULTS = StandardSet(default_standards(), standards_version(default_standards()))


def tightened_text() -> str:
    text = default_standards_file().read_text(encoding="utf-8")
    at = text.index("id: supermarket.enter_store.greeted_within_30s")
    old = "threshold: 30, surprise_margin: 20"
    return text[:at] + text[at:].replace(old, "threshold: 10, surprise_margin: 5", 1)


def tightened() -> StandardSet:
    from touchstone.journey.standards import parse_standards

    standards, problems = parse_standards(tightened_text(), "tightened", load_maps())
    assert not problems
    return StandardSet(standards, standards_version(standards))


EFFECTIVE = AT + timedelta(hours=1)


def promotion(text: str, version: str, offset: int = 0) -> Incoming:
    report = RescoreReport(Period(AT, AT + timedelta(days=1)), DEFAULTS.version, version, 0, ())
    candidate = StandardSet((), version)
    event = promoted(candidate, text, report, "greet sooner", "lan", AT, EFFECTIVE)
    out = promotion_record(event)
    return record(out.value, offset, JOURNEY_STANDARDS, headers=dict(out.headers), key=out.key)


def greeted(seconds: float, n: int, minutes: int = 0) -> object:
    at = AT + timedelta(minutes=minutes)
    tp = touchpoint("enter_store", at, measurements={"greeting_seconds": seconds}, event_id=f"g{n}")
    return record(recorded(tp, "lan", f"visit-{n}"), n, CONTACTS_RECORDED)


def scored(out: list, n: int) -> MomentScored:
    moments = [MomentScored.FromString(o.value) for o in out if o.topic == "journey.moments.v1"]
    return next(m for m in moments if m.source_event_id == f"g{n}")


def test_contacts_from_the_effective_time_on_are_judged_by_it_however_batched() -> None:
    new = tightened()
    log = [greeted(20, 1, 30), promotion(tightened_text(), new.version), greeted(20, 2, 90)]
    for batches in ([log], [log[:1], log[1:]], [[r] for r in log]):
        store = MemoryJourneyStore()
        worker = ScoreMoments(store, DEFAULTS.standards)
        out = [o for batch in batches for o in asyncio.run(worker.handle(batch))]
        before, after = scored(out, 1), scored(out, 2)
        assert (before.verdict, before.standards_version) == (VERDICT_WIN, DEFAULTS.version)
        assert (after.verdict, after.standards_version) == (VERDICT_LOSE, new.version)


def test_every_worker_follows_a_promotion_one_of_them_took_and_the_api_lists_it() -> None:
    store = MemoryJourneyStore()
    worker, other_worker = (ScoreMoments(store, DEFAULTS.standards) for _ in range(2))
    new = tightened()
    asyncio.run(worker.handle([promotion(tightened_text(), new.version)]))
    # the other worker never saw the record, and follows from its next batch
    later = scored(asyncio.run(other_worker.handle([greeted(20, 3, 120)])), 3)
    assert (later.verdict, later.standards_version) == (VERDICT_LOSE, new.version)
    early = scored(asyncio.run(other_worker.handle([greeted(20, 4, 10)])), 4)
    assert early.standards_version == DEFAULTS.version  # it happened before the promotion
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
                altered(lambda e: e.ClearField("effective_from")),
                altered(lambda e: setattr(e.promoted_at, "seconds", 10**12)),
                greeted(20, 4, 120),
            ]
        )
    )
    letters = [dict(o.headers)["dlq_reason"].decode() for o in out if o.topic == JOURNEY_DLQ]
    assert len(letters) == 4
    assert "problems" in letters[0] and "area" in letters[0]
    assert "'not-its-version' is not the file's" in letters[1]
    assert "effective_from" in letters[2] and "promoted_at" in letters[3]
    assert scored(out, 4).standards_version == DEFAULTS.version
    assert asyncio.run(store.latest_promotion()) is None


def altered(change: Callable[[StandardsPromoted], object]) -> Incoming:
    """A valid promotion of the tightened file, changed."""
    good = promotion(tightened_text(), tightened().version)
    event = StandardsPromoted.FromString(good.value or b"")
    change(event)
    return replace(good, value=event.SerializeToString())
