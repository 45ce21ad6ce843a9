"""Protobuf ⇄ notify's domain."""

from __future__ import annotations

from datetime import datetime

from touchstone.journey.v1.events_pb2 import (
    VERDICT_LOSE,
    VERDICT_WIN,
    MomentScored,
    VisitCompleted,
)
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.notify.domain import (
    CaseOpening,
    CaseOutcome,
    CaseValue,
    LostMoment,
    MomentValue,
    Win,
)
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseRow, DeliveryRow, StepCommand, TimelineRow
from touchstone.notify.v1 import events_pb2 as pb
from touchstone.notify.v1.notify_service_pb2 import Case, Delivery, TimelineEntry
from touchstone.platform.messaging.decoding import checked_time
from touchstone.platform.messaging.topics import NOTIFY_CASES, Outgoing, cloudevent_headers
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.prototime import to_timestamp
from touchstone.shared_kernel.broken import what_it_broke

SOURCE = "touchstone/notify"
CASE_EVENT_TYPE = "touchstone.notify.v1.CaseEvent"

STATUSES = {
    "open": pb.CASE_STATUS_OPEN,
    "recovered": pb.CASE_STATUS_RECOVERED,
    "lost": pb.CASE_STATUS_LOST,
}
STATUS_NAMES = {number: name for name, number in STATUSES.items()}


def lost_moment_of(event: MomentScored) -> LostMoment | None:
    """The lost moment a MomentScored reports, or None for a win or an unscored moment."""
    if event.verdict != VERDICT_LOSE:
        return None
    return LostMoment(
        moment_id=event.moment_id,
        customer_id=event.customer_id,
        visit_id=event.visit_id,
        site_id=event.site_id,
        stage=event.stage,
        reason=event.reason,
        occurred_at=checked_time(event.occurred_at, "occurred_at"),
        journey_map=event.journey_map,
        broken=what_it_broke(event),
    )


def case_event(moment: LostMoment, case: CaseRow, opening: CaseOpening) -> pb.CaseEvent:
    """CaseOpened if this moment opened the case (with the playbook its opening laid out), else
    MomentJoined; ids follow from the moment."""
    if case.opening_moment_id == moment.moment_id:
        return pb.CaseEvent(
            event_id=derived_id("case-opened", moment.moment_id),
            opened=pb.CaseOpened(
                case_id=case.case_id,
                customer_id=case.customer_id,
                visit_id=case.visit_id,
                site_id=case.site_id,
                moment_id=moment.moment_id,
                stage=moment.stage,
                reason=moment.reason,
                opened_at=to_timestamp(case.opened_at),
                due_at=to_timestamp(case.due_at),
                playbook=opening.playbook,
                steps=[step_message(s) for s in opening.steps],
            ),
        )
    return pb.CaseEvent(
        event_id=derived_id("moment-joined", moment.moment_id),
        joined=pb.MomentJoined(
            case_id=case.case_id,
            moment_id=moment.moment_id,
            stage=moment.stage,
            reason=moment.reason,
            occurred_at=to_timestamp(moment.occurred_at),
        ),
    )


def case_message(case: CaseRow) -> Case:
    """A case as a contract message."""
    message = Case(
        case_id=case.case_id,
        customer_id=case.customer_id,
        visit_id=case.visit_id,
        site_id=case.site_id,
        status=STATUSES[case.status],
        opened_at=to_timestamp(case.opened_at),
        due_at=to_timestamp(case.due_at),
        moment_ids=case.moment_ids,
        reasons=case.reasons,
        recovered_by=case.recovered_by,
        playbook=case.playbook,
        steps=[step_message(s) for s in case.steps],
        resolved_by=case.resolved_by,
        value_at_risk_minor=case.value_at_risk_minor,
        currency=case.currency,
        valued=case.valued,
        deliveries=[delivery_message(d) for d in case.deliveries],
    )
    if case.recovered_at is not None:
        message.recovered_at.CopyFrom(to_timestamp(case.recovered_at))
    if case.returned_at is not None:
        message.returned_at.CopyFrom(to_timestamp(case.returned_at))
        message.returned_by = case.returned_by
    return message


def case_record(customer_id: str, site_id: str, event: pb.CaseEvent, at: datetime) -> Outgoing:
    """A case event as a record on notify.cases.v1, keyed by customer, naming the case's site."""
    event.site_id = site_id
    headers = cloudevent_headers(
        event_id=event.event_id, source=SOURCE, type_=CASE_EVENT_TYPE, time=at
    )
    return Outgoing(NOTIFY_CASES, customer_id.encode(), event.SerializeToString(), headers)


def step_taken(case: CaseRow, step: PlannedStep, command: StepCommand, at: datetime) -> Outgoing:
    """StepTaken for a step staff moved forward; the id names the step and how far it got."""
    how = "done" if command.completed else "acknowledged"
    event = pb.CaseEvent(
        event_id=derived_id("step-taken", case.case_id, str(step.n), how),
        step_taken=pb.StepTaken(
            case_id=case.case_id,
            n=step.n,
            action=step.action,
            completed=command.completed,
            by=command.by,
            at=to_timestamp(at),  # the note stays in notify (GetCase): the topic is kept forever
        ),
    )
    return case_record(case.customer_id, case.site_id, event, at)


def resolved_by_staff(case: CaseRow, at: datetime) -> Outgoing:
    """CaseRecovered for a case staff confirmed recovered (once per case), as the case now
    says: by whom and when it counts as recovered (their note stays in notify: GetCase)."""
    event = pb.CaseEvent(
        event_id=derived_id("case-resolved", case.case_id),
        recovered=pb.CaseRecovered(
            case_id=case.case_id,
            customer_id=case.customer_id,
            moment_ids=case.moment_ids,
            recovered_at=to_timestamp(case.recovered_at or at),
            how="staff",
            by=case.resolved_by,
        ),
    )
    return case_record(case.customer_id, case.site_id, event, at)


def step_message(step: PlannedStep) -> pb.CaseStep:
    """A laid-out step as a contract message."""
    return pb.CaseStep(
        n=step.n,
        action=step.action,
        owner=step.owner,
        channel=step.channel,
        due_at=to_timestamp(step.due_at),
        status=step.status,
        taken_by=step.taken_by,
    )


def win_of(event: MomentScored) -> Win | None:
    """The win a MomentScored reports, or None for a lose or an unscored moment."""
    if event.verdict != VERDICT_WIN or not event.customer_id:
        return None
    at = checked_time(event.occurred_at, "occurred_at")
    return Win(event.moment_id, event.customer_id, at, "win", event.site_id, event.visit_id)


def clean_visit_of(event: VisitCompleted) -> Win | None:
    """A visit that ended with no lost moment, as a sign the customer came back to the site and
    was served well (None for a visit with a loss); at the visit's first contact."""
    if event.losses or not event.customer_id or not event.event_id:
        return None
    at = checked_time(event.first_at, "first_at")
    return Win(event.event_id, event.customer_id, at, "visit", event.site_id, event.visit_id)


def case_recovered(outcome: CaseOutcome) -> Outgoing:
    """CaseRecovered for a case its customer showed recovered (feedback, a clean visit), as a
    record; the id follows from the case, the sign and how many lost moments it names."""
    win = outcome.recovered_by
    assert win is not None
    moments = str(len(outcome.moment_ids))
    event = pb.CaseEvent(
        event_id=derived_id("case-recovered", outcome.case_id, win.moment_id, moments),
        recovered=pb.CaseRecovered(
            case_id=outcome.case_id,
            customer_id=outcome.customer_id,
            moment_ids=outcome.moment_ids,
            recovered_at=to_timestamp(win.occurred_at),
            how=win.how,
        ),
    )
    return case_record(outcome.customer_id, outcome.site_id, event, win.occurred_at)


def step_due(case: CaseRow, step: PlannedStep, at: datetime) -> Outgoing:
    """StepDue for a step people have not done by its due time (told once per step)."""
    event = pb.CaseEvent(
        event_id=derived_id("step-due", case.case_id, str(step.n)),
        step_due=pb.StepDue(
            case_id=case.case_id,
            n=step.n,
            action=step.action,
            owner=step.owner,
            due_at=to_timestamp(step.due_at),
        ),
    )
    return case_record(case.customer_id, case.site_id, event, at)


def case_escalated(
    case: CaseRow, step: PlannedStep, at: datetime, value: CaseValue | None = None
) -> Outgoing:
    """CaseEscalated for a step still not done escalate_after past its due time, or (given the
    case's value) for the duty manager's step_in added for its value at risk; once per step."""
    reason = "overdue_step" if value is None else "value_at_risk"
    event = pb.CaseEvent(
        event_id=derived_id("case-escalated", case.case_id, reason, str(step.n)),
        escalated=pb.CaseEscalated(
            case_id=case.case_id,
            customer_id=case.customer_id,
            site_id=case.site_id,
            reason=reason,
            n=step.n,
            at=to_timestamp(at),
            value_at_risk_minor=value.minor if value else 0,
            currency=value.currency if value else "",
        ),
    )
    return case_record(case.customer_id, case.site_id, event, at)


def moment_value_of(update: ValueUpdated) -> MomentValue | None:
    """What a lost moment put at risk, from loyalty's ValueUpdated; None for other updates."""
    if not update.HasField("at_risk") or not update.at_risk.moment_id:
        return None
    risk = update.at_risk
    return MomentValue(risk.moment_id, risk.currency, max(risk.value_at_risk_minor, 0))


def case_lost(case: CaseRow, lost_at: datetime) -> Outgoing:
    """CaseLost for a case no win recovered within its window; the id follows from the case and
    how many lost moments it names."""
    event = pb.CaseEvent(
        event_id=derived_id("case-lost", case.case_id, str(len(case.moment_ids))),
        lost=pb.CaseLost(
            case_id=case.case_id,
            customer_id=case.customer_id,
            moment_ids=case.moment_ids,
            lost_at=to_timestamp(lost_at),
        ),
    )
    return case_record(case.customer_id, case.site_id, event, lost_at)


def delivery_message(delivery: DeliveryRow) -> Delivery:
    """A case's delivery as a contract message."""
    message = Delivery(
        delivery_id=delivery.delivery_id,
        n=delivery.n,
        channel=delivery.channel,
        action=delivery.action,
        status=delivery.status,
        reason=delivery.reason,
        attempts=delivery.attempts,
        language=delivery.language,
    )
    if delivery.sent_at is not None:
        message.sent_at.CopyFrom(to_timestamp(delivery.sent_at))
    return message


def customer_tier_of(update: ValueUpdated) -> tuple[str, str] | None:
    """(customer id, tier) from loyalty's ValueUpdated telling a change of tier; else None."""
    if not update.HasField("tier_change") or not update.value.customer_id:
        return None
    return update.value.customer_id, update.tier_change.tier


def timeline_entry(row: TimelineRow) -> TimelineEntry:
    """One thing that happened to a case, as a contract message."""
    return TimelineEntry(at=to_timestamp(row.at), what=row.what, n=row.n, detail=row.detail)
