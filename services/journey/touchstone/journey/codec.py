"""Protobuf ⇄ journey's domain: touchpoints in, MomentScored out."""

from __future__ import annotations

from datetime import datetime

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.journey.deadlines import Deadline
from touchstone.journey.domain import Judgement, Moment, Scored, Standard, Verdict
from touchstone.journey.v1 import events_pb2 as pb
from touchstone.journey.visits import VisitState, VisitVerdict
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.prototime import to_timestamp

VERDICTS = {
    Verdict.WIN: pb.VERDICT_WIN,
    Verdict.LOSE: pb.VERDICT_LOSE,
    Verdict.UNSCORED: pb.VERDICT_UNSCORED,
}
VERDICT_NAMES = {number: verdict.value for verdict, number in VERDICTS.items()}
SIDES = {"procedural": pb.SIDE_PROCEDURAL, "personal": pb.SIDE_PERSONAL}


def moment_of(touchpoint: Touchpoint) -> Moment:
    """The domain's view of a touchpoint: where in which journey, what was measured and seen."""
    return Moment(
        journey_map=touchpoint.journey_map,
        stage=touchpoint.stage,
        measurements=dict(touchpoint.measurements),
        observations=frozenset(touchpoint.observations),
    )


def result_of(judgement: Judgement) -> pb.StandardResult:
    """One standard's judgement as a contract message."""
    s = judgement.standard
    return pb.StandardResult(
        standard_id=s.standard_id,
        description=s.description,
        met=judgement.met,
        measurement=s.measurement or ("deadline_hours" if s.is_deadline else "observations"),
        measured=judgement.measured,
        threshold=judgement.threshold,
        comparator=s.comparator if s.measurement else rule_of(s),
        side=SIDES[s.side],
        area=s.area,
        surprised=judgement.surprised,
        weight=s.weight,
        dimension=s.dimension,
        absent=judgement.absent,
    )


def rule_of(standard: Standard) -> str:
    """What a standard other than a measurement asks, readable: 'all of a, b; none of c'."""
    if standard.is_deadline:
        return f"{standard.deadline_until} by {standard.deadline_by.replace('_', ' ')}"
    rules = [f"all of {', '.join(standard.must_observe)}"] if standard.must_observe else []
    if standard.must_not_observe:
        rules.append(f"none of {', '.join(standard.must_not_observe)}")
    return "; ".join(rules)


def moment_id_of(recorded: TouchpointRecorded) -> str:
    """A recorded touchpoint's moment id: derived from its event id, the same in every replay."""
    return derived_id("moment", recorded.touchpoint.event_id)


def moment_scored(
    recorded: TouchpointRecorded, moment_id: str, scored: Scored, version: str
) -> pb.MomentScored:
    """MomentScored for a recorded touchpoint under its moment id (moment_id_of)."""
    tp = recorded.touchpoint
    event = pb.MomentScored(
        moment_id=moment_id,
        source_event_id=tp.event_id,
        customer_id=recorded.customer_id,
        visit_id=recorded.visit_id,
        site_id=tp.site_id,
        journey_map=tp.journey_map,
        stage=tp.stage,
        verdict=VERDICTS[scored.verdict],
        results=[result_of(j) for j in scored.judgements],
        standards_version=version,
        reason=scored.reason,
    )
    event.occurred_at.CopyFrom(tp.occurred_at)
    return event


def missed_moment(deadline: Deadline, judgement: Judgement, version: str) -> pb.MomentScored:
    """The lost moment a passed deadline publishes, at the deadline's own (event) time."""
    event = pb.MomentScored(
        moment_id=deadline.broken_moment_id,
        source_event_id=deadline.source_event_id,
        customer_id=deadline.customer_id,
        visit_id=deadline.visit_id,
        site_id=deadline.site_id,
        journey_map=deadline.journey_map,
        stage=deadline.stage,
        verdict=pb.VERDICT_LOSE,
        results=[result_of(judgement)],
        standards_version=version,
        reason=judgement.describe(),
    )
    event.occurred_at.CopyFrom(to_timestamp(deadline.due_at))
    return event


QUADRANTS = {
    "": pb.QUADRANT_UNSPECIFIED,
    "A": pb.QUADRANT_A_COLD,
    "B": pb.QUADRANT_B_PRODUCTION_LINE,
    "C": pb.QUADRANT_C_FRIENDLY_DISORGANISED,
    "D": pb.QUADRANT_D_QUALITY,
}


def visit_completed(
    visit: VisitState, verdict: VisitVerdict, completed_at: datetime
) -> pb.VisitCompleted:
    """VisitCompleted for a visit whose gap has passed; its id derives from the visit's."""
    event = pb.VisitCompleted(
        event_id=derived_id("visit-completed", visit.visit_id),
        visit_id=visit.visit_id,
        customer_id=visit.customer_id,
        site_id=visit.site_id,
        journey_map=visit.journey_map,
        wins=visit.wins,
        losses=visit.losses,
        surprises=verdict.surprises,
        level=verdict.level,  # type: ignore[arg-type]  # 1..6, as ServiceLevel numbers them
        perception=verdict.perception,
        expectation=verdict.expectation,
        satisfaction=verdict.satisfaction,
        quadrant=QUADRANTS[verdict.quadrant],
        procedural_score=verdict.procedural or 0.0,
        personal_score=verdict.personal or 0.0,
    )
    event.first_at.CopyFrom(to_timestamp(visit.first_at))
    event.last_at.CopyFrom(to_timestamp(visit.last_at))
    event.completed_at.CopyFrom(to_timestamp(completed_at))
    return event
