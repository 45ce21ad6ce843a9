"""Open recovery cases: every lost moment opens its visit's case or joins it; what the customer
does later (wins, feedback, visits with no lost moment) settles them (notify/recovery.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.profile_pb2 import CustomerEvent, CustomerKey
from touchstone.journey.v1.events_pb2 import MomentScored, VisitCompleted
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.notify.codec import (
    case_event,
    case_record,
    clean_visit_of,
    customer_tier_of,
    lost_moment_of,
    moment_value_of,
    win_of,
)
from touchstone.notify.contact_book import (
    ContactChange,
    KeyChange,
    contact_change_of,
    key_change_of,
)
from touchstone.notify.domain import CaseOpening, LostMoment, MomentValue, Win, opening_for
from touchstone.notify.openings import lay_out_openings
from touchstone.notify.playbooks import (
    LossFacts,
    Playbooks,
    RecoveryPolicy,
    choose,
    lay_out,
    load_playbooks,
)
from touchstone.notify.ports import NotifyStore
from touchstone.notify.tasks import task_records
from touchstone.notify.touchpoint_signals import Complaint, SiteVisit, signals_of
from touchstone.notify.value_escalation import value_escalations
from touchstone.platform.messaging.customer_links import LinkChange, link_change_of
from touchstone.platform.messaging.decoding import (
    UnusableRecord,
    dead_letter_unusable,
    parse_record,
)
from touchstone.platform.messaging.progress import is_progress
from touchstone.platform.messaging.topics import (
    CONTACTS_KEYS,
    CONTACTS_PROFILES,
    CONTACTS_RECORDED,
    JOURNEY_VISITS,
    LOYALTY_VALUES,
    NOTIFY_DLQ,
    Incoming,
    Outgoing,
)
from touchstone.shared_kernel.calendar import Calendars
from touchstone.shared_kernel.calendar_file import load_calendars


class OpenRecoveryCases:
    """The notify batch handler: lost moments open or join cases; wins, positive feedback and
    visits with no lost moment settle them (recovery.decide_outcome); unscored moments change
    nothing; loyalty's values of lost moments send valuable cases to the duty
    manager; contacts' profile events link customers and say how to reach them; recorded
    touchpoints count visits and complaints, and positive feedback recovers as a win does."""

    def __init__(
        self,
        store: NotifyStore,
        policy: RecoveryPolicy | None = None,  # None: the playbooks file's
        playbooks: Playbooks | None = None,
        calendars: Calendars | None = None,
    ) -> None:
        self.store = store
        self.playbooks = playbooks or load_playbooks()
        self.policy = policy or self.playbooks.policy
        self.calendars = calendars or load_calendars()
        self.escalate = value_escalations(self.policy)

    def opening(self, moment: LostMoment, tier: str = "") -> CaseOpening:
        """The case the moment would open, with the steps of the playbook it picks (the
        customer's tier, if loyalty has ranked them, is one of the facts rules may ask)."""
        loss = LossFacts(
            moment.journey_map,
            moment.stage,
            moment.broken.standards,
            moment.broken.side,
            moment.broken.weight,
            tier,
        )
        playbook = choose(self.playbooks, loss)
        calendar = self.calendars.for_site(moment.site_id)
        steps = lay_out(self.playbooks.playbooks[playbook], moment.occurred_at, calendar)
        return opening_for(moment, self.policy, playbook, tuple(steps))

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Open or join cases in one transaction and emit each lost moment's transition; then
        settle the outcomes the batch's wins and lost moments decide (their events go out
        through the outbox, written with the change)."""
        lost: list[LostMoment] = []
        wins: list[Win] = []
        values: list[MomentValue] = []
        tiers: list[tuple[str, str]] = []
        outgoing: list[Outgoing] = []
        links: list[LinkChange] = []
        contacts: list[ContactChange] = []
        keys: list[KeyChange] = []
        visits: list[SiteVisit] = []
        complaints: list[Complaint] = []
        for record in batch:
            try:
                if record.topic == CONTACTS_KEYS:
                    keys.append(key_change_of(parse_record(record, CustomerKey)))
                    continue
                if record.topic == CONTACTS_PROFILES:
                    profile = parse_record(record, CustomerEvent)
                    link, contact = link_change_of(profile), contact_change_of(profile)
                    links.extend([link] if link is not None else [])
                    contacts.extend([contact] if contact is not None else [])
                    continue
                if record.topic == CONTACTS_RECORDED:
                    if is_progress(record.headers):  # for journey's lane clocks
                        continue
                    signals = signals_of(parse_record(record, TouchpointRecorded))
                    visits.extend([signals.visit] if signals.visit else [])
                    complaints.extend([signals.complaint] if signals.complaint else [])
                    wins.extend([signals.praise] if signals.praise else [])
                    continue
                if record.topic == JOURNEY_VISITS:
                    clean = clean_visit_of(parse_record(record, VisitCompleted))
                    wins.extend([clean] if clean is not None else [])
                    continue
                if record.topic == LOYALTY_VALUES:
                    update = parse_record(record, ValueUpdated)
                    value, tier = moment_value_of(update), customer_tier_of(update)
                    values.extend([value] if value is not None else [])
                    tiers.extend([tier] if tier is not None else [])
                    continue
                scored = parse_record(record, MomentScored)
                moment, win = lost_moment_of(scored), win_of(scored)
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, NOTIFY_DLQ, error))
                continue
            if moment is not None:
                lost.append(moment)
            if win is not None:
                wins.append(win)
        await self.store.fold_tiers(tiers)
        known = await self.store.tiers_of([m.customer_id for m in lost])
        openings = [self.opening(m, known.get(m.customer_id, "")) for m in lost]
        cases = await self.store.open_or_join(openings, lost, lay_out_openings)
        for moment, opening in zip(lost, openings, strict=True):
            case = cases[moment.moment_id]
            event = case_event(moment, case, opening)
            outgoing.append(case_record(case.customer_id, case.site_id, event, moment.occurred_at))
            if event.HasField("opened"):
                # as just laid out (opened or moved); heard again, as the opening lays it out
                laid_out = case if case.steps else replace(case, steps=opening.steps)
                outgoing.extend(task_records(laid_out, moment.occurred_at))
        customers, moment_ids = [m.customer_id for m in lost], [m.moment_id for m in lost]
        await self.store.settle(wins, customers, moment_ids)  # via the outbox
        await self.store.weigh(values, moment_ids, self.escalate)  # open cases: after settling
        if links:
            await self.store.fold_links(links)  # and settles the linked customers' cases again
        await self.store.fold_keys(keys)
        await self.store.fold_contacts(contacts)
        await self.store.record_visits(visits, complaints)
        return outgoing
