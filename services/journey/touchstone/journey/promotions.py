"""Promoting a standards version to live, with an event that records the change.

`touchstone rescore --promote` publishes StandardsPromoted on journey.standards.v1: the file's
text, its version, the version it replaces, who and why, and what re-scoring history with it
said, and the event time it is in force from (a minute after it is promoted, by default, so
every worker has taken it before the contacts it judges come). The journey worker that consumes
it checks it (a file with problems, or a version that is not the file's, is dead-lettered with
the reason) and stores it; before every batch each worker reads the stored versions, and judges
each contact by the one in force when it happened: the latest whose effective_from is not after
it (TOUCHSTONE_STANDARDS_FILE before the first). Moments keep the version that judged them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from touchstone.journey.domain import standards_version
from touchstone.journey.ports import Promotion
from touchstone.journey.standards import StandardSet, parse_standards
from touchstone.journey.v1.events_pb2 import (
    RescoreSummary,
    StandardChangeCount,
    StandardsPromoted,
)
from touchstone.platform.messaging.decoding import UnusableRecord, checked_time, parse_record
from touchstone.platform.messaging.topics import (
    JOURNEY_STANDARDS,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.prototime import to_datetime, to_timestamp
from touchstone.shared_kernel.journey_maps import JourneyMap

if TYPE_CHECKING:
    from touchstone.journey.rescore_report import RescoreReport

KEY = b"standards"
SOURCE = "touchstone/journey"
PROMOTED_TYPE = "touchstone.journey.v1.StandardsPromoted"


def summary_of(report: RescoreReport) -> RescoreSummary:
    """What a re-scoring report says, as the promotion records it."""
    transitions = [c.transition for c in report.verdicts_changed]
    summary = RescoreSummary(
        moments=report.moments,
        verdicts_changed=len(transitions),
        wins_to_losses=transitions.count("win -> lose"),
        losses_to_wins=transitions.count("lose -> win"),
        by_standard=[
            StandardChangeCount(standard_id=standard_id, transition=transition, moments=n)
            for standard_id, counts in sorted(report.by_standard().items())
            for transition, n in sorted(counts.items())
        ],
    )
    summary.since.CopyFrom(to_timestamp(report.period.since))
    summary.until.CopyFrom(to_timestamp(report.period.until))
    return summary


def promoted(
    candidate: StandardSet,
    standards_yaml: str,
    report: RescoreReport,
    reason: str,
    promoted_by: str,
    at: datetime,
    effective_from: datetime,
) -> StandardsPromoted:
    """The event that makes the candidate live from effective_from, recording the change."""
    event = StandardsPromoted(
        event_id=derived_id("standards-promoted", candidate.version, at.isoformat()),
        version=candidate.version,
        previous_version=report.version_in_force,
        standards_yaml=standards_yaml,
        reason=reason,
        promoted_by=promoted_by,
        rescored=summary_of(report),
    )
    event.promoted_at.CopyFrom(to_timestamp(at))
    event.effective_from.CopyFrom(to_timestamp(effective_from))
    return event


def promotion_record(event: StandardsPromoted) -> Outgoing:
    """The event as a record for journey.standards.v1."""
    headers = cloudevent_headers(
        event_id=event.event_id,
        source=SOURCE,
        type_=PROMOTED_TYPE,
        time=to_datetime(event.promoted_at),
    )
    return Outgoing(JOURNEY_STANDARDS, KEY, event.SerializeToString(), headers)


def promotion_of(record: Incoming, maps: Mapping[str, JourneyMap]) -> Promotion:
    """The promotion a record carries; UnusableRecord saying why it cannot go live."""
    event = parse_record(record, StandardsPromoted)
    if not event.event_id or not event.HasField("promoted_at"):
        raise UnusableRecord("a promotion needs its event id and promoted_at")
    if not event.HasField("effective_from"):
        raise UnusableRecord("a promotion needs effective_from: when it starts to judge")
    standards, problems = parse_standards(event.standards_yaml, "standards_yaml", maps)
    if problems:
        raise UnusableRecord(f"the promoted standards have problems: {problems[0]}")
    version = standards_version(standards)
    if version != event.version:
        raise UnusableRecord(f"version {event.version!r} is not the file's ({version!r})")
    return Promotion(
        event.event_id,
        version,
        event.standards_yaml,
        checked_time(event.promoted_at, "promoted_at"),
        event.SerializeToString(deterministic=True),
        checked_time(event.effective_from, "effective_from"),
    )


def standard_set_of(promotion: Promotion, maps: Mapping[str, JourneyMap]) -> StandardSet | None:
    """The promoted standards over these maps; None if they no longer fit the maps."""
    standards, problems = parse_standards(promotion.standards_yaml, promotion.version, maps)
    return None if problems else StandardSet(standards, standards_version(standards))
