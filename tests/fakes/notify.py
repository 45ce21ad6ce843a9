"""Notify's store in memory: storage only. Openings, outcomes, value escalations and staff
commands arrive decided (openings.py, outcome_settlement.py, value_escalation.py,
staff_commands.py), as they do to Postgres, and are kept here as they come."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from tests.fakes.customer_links import MemoryCustomerLinks
from touchstone.notify.codec import case_recovered
from touchstone.notify.contact_book import Contact, ContactChange, KeyChange, folded
from touchstone.notify.domain import (
    CaseOpening,
    LostMoment,
    MomentValue,
    UnknownCase,
    Win,
    case_value,
)
from touchstone.notify.openings import HeldCase, LayOut, as_laid_out
from touchstone.notify.outcome_settlement import (
    HeldOutcome,
    SettleOutcomes,
    as_kept,
    settling,
)
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseFilter, CaseRow, TimelineRow
from touchstone.notify.staff_commands import Resolve, TakeStep
from touchstone.notify.touchpoint_signals import Complaint, SiteVisit
from touchstone.notify.value_escalation import Escalate, WeighedCase
from touchstone.platform.messaging.customer_links import LinkChange, group_of, root_of
from touchstone.platform.messaging.topics import Outgoing


def _wanted_steps(case: CaseRow, where: CaseFilter) -> bool:
    """ListCases' owner and overdue filters, on an open case's steps not done yet."""
    undone = [s for s in case.steps if s.status != "done"]
    owned = not where.owner or any(
        s.owner == where.owner or (where.owner == "duty_manager" and s.escalated) for s in undone
    )
    late = where.overdue_at is None or any(
        s.owner != "system" and s.due_at < where.overdue_at for s in undone
    )
    return (not (where.owner or where.overdue_at) or case.status == "open") and owned and late


class MemoryNotifyStore(MemoryCustomerLinks):
    """NotifyStore in memory."""

    def __init__(self, settle_outcomes: SettleOutcomes | None = None) -> None:
        super().__init__()
        self.settle_outcomes = settle_outcomes or settling(case_recovered)
        self.cases: dict[str, CaseRow] = {}
        self.joined: dict[str, tuple[str, str, datetime]] = {}  # moment -> case, reason, when
        self.wins: dict[str, Win] = {}
        self.plans: dict[str, tuple[str, tuple[PlannedStep, ...]]] = {}  # case -> playbook, steps
        self.outbox: list[Outgoing] = []
        self.values: dict[str, MomentValue] = {}
        self.value_escalated: set[str] = set()
        self.contacts: dict[str, Contact] = {}
        self.keys: dict[str, bytes] = {}
        self.erased: set[str] = set()
        self.visits: dict[tuple[str, str], datetime] = {}
        self.tiers: dict[str, str] = {}
        self.complaints: dict[str, Complaint] = {}

    async def case_timeline(self, case_id: str) -> list[TimelineRow]:
        """What the memory store keeps times of: lost moments, and a win or staff recovery."""
        case = await self._known(case_id)
        rows = [
            TimelineRow(at, "lost_moment", 0, reason)
            for _, (c, reason, at) in self.joined.items()
            if c == case_id
        ]
        if case.recovered_at is not None:
            what, detail = (
                ("resolved", case.resolved_by)
                if case.resolved_by
                else (
                    "recovered",
                    case.recovered_by,
                )
            )
            rows.append(TimelineRow(case.recovered_at, what, 0, detail))
        return sorted(rows, key=lambda r: (r.at, r.n, r.what))

    async def fold_tiers(self, tiers: Sequence[tuple[str, str]]) -> None:
        self.tiers.update(dict(tiers))

    async def tiers_of(self, customer_ids: Sequence[str]) -> dict[str, str]:
        return {
            c: self.tiers.get(c) or self.tiers.get(root_of(self.links, c), "") for c in customer_ids
        }

    async def record_visits(
        self, visits: Sequence[SiteVisit], complaints: Sequence[Complaint]
    ) -> None:
        for v in visits:
            seen = self.visits.get((v.site_id, v.visit_id))
            self.visits[(v.site_id, v.visit_id)] = min(seen, v.first_at) if seen else v.first_at
        self.complaints.update(
            {c.event_id: c for c in complaints if c.event_id not in self.complaints}
        )

    async def fold_keys(self, changes: Sequence[KeyChange]) -> None:
        for change in changes:
            if change.key:
                self.keys[change.customer_id] = change.key
            else:
                self.keys.pop(change.customer_id, None)

    async def fold_contacts(self, changes: Sequence[ContactChange]) -> None:
        for change in changes:
            if change.erased:
                self.contacts.pop(change.customer_id, None)
                self.keys.pop(change.customer_id, None)
                self.erased.add(change.customer_id)
            else:
                contact = self.contacts.get(change.customer_id, Contact(change.customer_id))
                self.contacts[change.customer_id] = folded(contact, change)

    def _totals(self, case_id: str) -> dict[str, int]:
        """The case's values at risk by currency."""
        totals: dict[str, int] = {}
        for moment_id, (case, _, _) in self.joined.items():
            value = self.values.get(moment_id)
            if case == case_id and value is not None:
                totals[value.currency] = totals.get(value.currency, 0) + value.value_at_risk_minor
        return totals

    async def weigh(
        self, values: Sequence[MomentValue], moment_ids: Sequence[str], decide: Escalate
    ) -> None:
        self.values.update({v.moment_id: v for v in values})
        ids = {*moment_ids, *(v.moment_id for v in values)}
        reached = sorted({self.joined[m][0] for m in ids if m in self.joined})
        weighed = []
        for case_id in reached:  # as CASES_TO_WEIGH and CASE_TOTALS read them: the valued ones
            joined = [(m, when) for m, (c, _, when) in self.joined.items() if c == case_id]
            valued = [when for m, when in joined if m in self.values]
            if valued:
                case = await self._known(case_id)
                escalated = case_id in self.value_escalated
                weighed.append(WeighedCase(case, self._totals(case_id), max(valued), escalated))
        for escalation in decide(weighed):
            playbook, steps = self.plans[escalation.case_id]
            self.plans[escalation.case_id] = (playbook, (*steps, escalation.step))
            self.value_escalated.add(escalation.case_id)
            self.outbox.extend(escalation.records)

    async def take_step(self, case_id: str, decide: TakeStep) -> CaseRow:
        case = await self._known(case_id)
        taken = decide(case, case.customer_id in self.erased)
        if taken is not None:
            playbook, steps = self.plans[case_id]
            moved = tuple(taken.step if s.n == taken.step.n else s for s in steps)
            self.plans[case_id] = (playbook, moved)
            self.outbox.extend(taken.records)
        return await self._known(case_id)

    async def resolve(self, case_id: str, decide: Resolve) -> CaseRow:
        case = await self._known(case_id)
        resolution = decide(case, case.customer_id in self.erased)
        if resolution is not None:
            done = resolution.case
            kept = {"status": done.status, "resolved_by": done.resolved_by}
            self.cases[case_id] = replace(
                self.cases[case_id], **kept, recovered_at=done.recovered_at
            )
            self.outbox.extend(resolution.records)
        return await self._known(case_id)

    async def _known(self, case_id: str) -> CaseRow:
        case = await self.get_case(case_id)
        if case is None:
            raise UnknownCase(f"case {case_id} not found")
        return case

    async def settle(
        self, wins: Sequence[Win], customers: Sequence[str], joined: Sequence[str]
    ) -> None:
        for w in wins:
            self.wins.setdefault(w.moment_id, w)
        news = {*(w.customer_id for w in wins), *customers}
        touched = {m for c in news for m in group_of(self.links, c)}
        held = []
        for case_id in sorted(c for c, case in self.cases.items() if case.customer_id in touched):
            case = await self._known(case_id)
            group = set(group_of(self.links, case.customer_id))
            last = max(at for c, _, at in self.joined.values() if c == case_id)
            signs = tuple(w for w in self.wins.values() if w.customer_id in group)
            held.append(HeldOutcome(case, last, None, signs))  # the clock closing cases as lost
            # is Postgres's (test_notify_clock)
        settled = self.settle_outcomes(held, joined)
        for outcome, kept in settled.decided:
            self.cases[outcome.case_id] = as_kept(self.cases[outcome.case_id], outcome, kept)
        self.outbox.extend(settled.records)

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        await super().fold_links(changes)
        linked = [c for change in changes for c in (change.survivor_id, change.absorbed_id)]
        await self.settle([], linked, [])

    async def open_or_join(
        self, openings: Sequence[CaseOpening], moments: Sequence[LostMoment], lay_out: LayOut
    ) -> dict[str, CaseRow]:
        held = {
            o.case_id: HeldCase(
                o.case_id,
                case.opened_at,
                case.opening_moment_id,
                bool(case.resolved_by),
                self.plans[o.case_id][1],
            )
            for o in openings
            if (case := self.cases.get(o.case_id)) is not None
        }
        plan = lay_out(openings, held)
        for o in plan.opened:
            self.cases[o.case_id] = CaseRow(
                o.case_id,
                o.customer_id,
                o.visit_id,
                o.site_id,
                "open",
                o.opening_moment_id,
                o.opened_at,
                o.due_at,
            )
        for o in plan.moved:
            moved = {"opening_moment_id": o.opening_moment_id, "opened_at": o.opened_at}
            self.cases[o.case_id] = replace(self.cases[o.case_id], **moved, due_at=o.due_at)
        for o in (*plan.opened, *plan.moved):
            self.plans[o.case_id] = (o.playbook, plan.plans[o.case_id])
        for o, m in zip(openings, moments, strict=True):
            self.joined.setdefault(m.moment_id, (o.case_id, m.reason, m.occurred_at))
        return {
            m.moment_id: as_laid_out(
                self.cases[self.joined[m.moment_id][0]], plan.plans, plan.taken_off
            )
            for m in moments
        }

    async def list_cases(
        self, where: CaseFilter, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[CaseRow], int]:
        equal = ("customer_id", "site_id", "status")
        wanted = {k: getattr(where, k) for k in equal if getattr(where, k)}
        rows = [await self._known(c) for c in self.cases]
        rows = sorted(rows, key=lambda c: (c.opened_at, c.case_id))
        rows = [
            c
            for c in rows
            if self.matches(c, wanted)
            and _wanted_steps(c, where)
            and (
                not where.min_value_at_risk_minor
                or max(self._totals(c.case_id).values(), default=0) >= where.min_value_at_risk_minor
            )
        ]
        page = [c for c in rows if after is None or (c.opened_at, c.case_id) > after][:limit]
        return page, len(rows)

    async def get_case(self, case_id: str) -> CaseRow | None:
        case = self.cases.get(case_id)
        if case is None:
            return None
        joined = [
            (m, r)
            for _, m, r in sorted(
                (at, m, r) for m, (c, r, at) in self.joined.items() if c == case_id
            )
        ]
        playbook, steps = self.plans.get(case_id, ("", ()))
        value = case_value(self._totals(case_id))
        return replace(
            case,
            moment_ids=tuple(m for m, _ in joined),
            reasons=tuple(r for _, r in joined),
            playbook=playbook,
            steps=steps,
            value_at_risk_minor=value.minor if value else 0,
            currency=value.currency if value else "",
            valued=value is not None,
        )
