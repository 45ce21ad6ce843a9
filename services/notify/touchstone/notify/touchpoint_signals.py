"""What notify takes from each recorded touchpoint (contacts.recorded.v1): the visit it belongs
to (what complaint rates are out of), a complaint (made on site, or a low feedback rating), and
positive feedback, which after the apology recovers a case (docs/domain.md §9: ask the
customer's opinion; a good one means they were won back; notify/recovery.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.notify.domain import Win
from touchstone.platform.messaging.decoding import UnusableRecord, checked_time

COMPLAINT_STAGE = "complaint"  # the maps' stage for a complaint made on site
POSITIVE_RATING = 4  # of 5: feedback this good is positive (assumption)
NEGATIVE_RATING = 2  # of 5: feedback this bad is a complaint (assumption)


@dataclass(frozen=True)
class SiteVisit:
    """A visit seen at a site."""

    site_id: str
    visit_id: str
    first_at: datetime


@dataclass(frozen=True)
class Complaint:
    """A complaint: made on site, or feedback rated NEGATIVE_RATING or lower."""

    event_id: str
    site_id: str
    customer_id: str
    occurred_at: datetime
    kind: str  # on_site | negative_feedback


@dataclass(frozen=True)
class TouchpointSignals:
    """What one recorded touchpoint tells notify."""

    visit: SiteVisit | None
    complaint: Complaint | None
    praise: Win | None  # positive feedback, kept as a win (how="feedback")


def signals_of(recorded: TouchpointRecorded) -> TouchpointSignals:
    """The facts a recorded touchpoint states; UnusableRecord if it has no valid time."""
    tp = recorded.touchpoint
    if not recorded.event_id:
        raise UnusableRecord("event_id is required")
    at = checked_time(tp.occurred_at, "touchpoint.occurred_at")
    visit = (
        SiteVisit(tp.site_id, recorded.visit_id, at) if tp.site_id and recorded.visit_id else None
    )
    rating = tp.feedback.rating if tp.HasField("feedback") else 0
    kind = (
        "on_site"
        if tp.stage == COMPLAINT_STAGE
        else "negative_feedback"
        if 0 < rating <= NEGATIVE_RATING
        else ""
    )
    complaint = (
        Complaint(recorded.event_id, tp.site_id, recorded.customer_id, at, kind) if kind else None
    )
    praise = (
        Win(
            recorded.event_id,
            recorded.customer_id,
            at,
            "feedback",
            tp.site_id,
            recorded.visit_id,
        )
        if rating >= POSITIVE_RATING and recorded.customer_id
        else None
    )
    return TouchpointSignals(visit, complaint, praise)
