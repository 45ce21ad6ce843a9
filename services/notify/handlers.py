"""Open recovery cases: every lost moment opens its visit's case or joins it; the customer's
first win after a case's last lost moment recovers it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from notify.codec import case_event, case_recovered, lost_moment_of, win_of
from notify.domain import DEFAULT_POLICY, LostMoment, RecoveryPolicy, Win, opening_for
from notify.store import NotifyStore
from touchstone.common.decoding import UnusableRecord, dead_letter_unusable, parse_record
from touchstone.common.topics import (
    NOTIFY_CASES,
    NOTIFY_DLQ,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.notify.v1.events_pb2 import CaseEvent

SOURCE = "touchstone/notify"
CASE_EVENT_TYPE = "touchstone.notify.v1.CaseEvent"


class OpenRecoveryCases:
    """The notify batch handler: lost moments open or join cases, wins recover them; unscored
    moments change nothing."""

    def __init__(self, store: NotifyStore, policy: RecoveryPolicy = DEFAULT_POLICY) -> None:
        self.store = store
        self.policy = policy

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Open or join cases in one transaction, then settle the outcomes the batch's wins and
        lost moments decide; emit each transition."""
        lost: list[LostMoment] = []
        wins: list[Win] = []
        outgoing: list[Outgoing] = []
        for record in batch:
            try:
                scored = parse_record(record, MomentScored)
                moment, win = lost_moment_of(scored), win_of(scored)
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, NOTIFY_DLQ, error))
                continue
            if moment is not None:
                lost.append(moment)
            if win is not None:
                wins.append(win)
        openings = [opening_for(m, self.policy) for m in lost]
        cases = await self.store.open_or_join(openings, lost)
        for moment in lost:
            event = case_event(moment, cases[moment.moment_id])
            outgoing.append(self.record(moment.customer_id, event, moment.occurred_at))
        for outcome in await self.store.settle(wins, lost):
            assert outcome.recovered_by is not None
            at = outcome.recovered_by.occurred_at
            outgoing.append(self.record(outcome.customer_id, case_recovered(outcome), at))
        return outgoing

    @staticmethod
    def record(customer_id: str, event: CaseEvent, at: datetime) -> Outgoing:
        """The case event as a record on notify.cases.v1, keyed by customer."""
        headers = cloudevent_headers(
            event_id=event.event_id, source=SOURCE, type_=CASE_EVENT_TYPE, time=at
        )
        return Outgoing(NOTIFY_CASES, customer_id.encode(), event.SerializeToString(), headers)
