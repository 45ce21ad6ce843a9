"""Loyalty's fold decision, given what a store loaded → then what it reads, values and keeps
(fold_decision.py). The stores only load and write; these are the rules between."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from touchstone.loyalty.at_risk import AtRisk, Known
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import CustomerValue, Purchase
from touchstone.loyalty.fold_decision import (
    Group,
    Loaded,
    LostSince,
    Valued,
    distinct_groups,
    no_longer_recovered,
    reads_from,
    settle_fold,
    value_groups,
)
from touchstone.loyalty.remembered import THE_BEGINNING, Kept, NeedsWholeHistory, Remembered
from touchstone.loyalty.valuation import Facts, Loss, Presence, Recovery, Valuation
from touchstone.loyalty.valued import SilenceClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def moment(moment_id: str, minutes: int) -> LostMoment:
    return LostMoment(moment_id, at(minutes), "personal", Decimal(1), site_id="s1")


def value_of(customer: str) -> CustomerValue:
    return CustomerValue(
        customer, "EUR", 100, 1, 1, Decimal(12), Decimal(3), 3600, T0, site_id="s1"
    )


def figures(moment_id: str) -> AtRisk:
    return AtRisk(moment_id, "s1", T0, "EUR", 3600, Decimal("0.2"), Decimal("0.3"), 360, False, 360)


def remembered_at(minutes: int) -> Remembered:
    return Remembered("model", at(minutes), "m-old", at(0), Decimal("0.8"), timedelta(hours=4))


def loaded(*groups: Group, kept: Mapping[str, Kept] | None = None) -> Loaded:
    presence = {g.root: SilenceClock(at(30), at(60), lane=3) for g in groups}
    return Loaded({g.root: g for g in groups}, {}, presence, kept or {})


def test_two_roots_of_the_same_members_are_one_group_under_the_smaller_id() -> None:
    groups = distinct_groups(
        [Group("c2", ("c2", "c1")), Group("c1", ("c1", "c2")), Group("c3", ("c3",))]
    )
    assert list(groups) == ["c1", "c3"]


def test_a_reopened_case_s_moment_told_recovered_again_in_the_batch_stays_recovered() -> None:
    facts = Facts(recoveries=[Recovery("m1", "c1", "case-1", at(5))])
    reopened = no_longer_recovered([("m1", "c1"), ("m2", "c2")], facts)
    assert (reopened.moments, reopened.customers) == ({"m2"}, {"c2"})


def test_a_group_remembered_as_it_is_is_read_from_its_latest_moment_or_a_visit_before_contact() -> (
    None
):
    kept = {"c1": Kept(("c1",), remembered_at(20)), "c2": Kept(("c2",), remembered_at(20))}
    later = Facts(losses=[Loss("c1", moment("m9", 90))])
    state = loaded(Group("c1", ("c1",)), Group("c2", ("c2",)), kept=kept)
    since = reads_from(later, state, no_longer_recovered([], later))
    # c1: new moment after the latest remembered: from that moment (contact at 30 - 4 h is
    # earlier still: silence may be judged by moments that far back)
    assert since["c1"] == at(30) - timedelta(hours=4)
    # c2: the facts bring it nothing, so nothing changes its history: from its latest moment
    assert since["c2"] == at(30) - timedelta(hours=4)


def test_a_merge_or_a_fact_before_what_was_remembered_reads_the_whole_history() -> None:
    kept = {"c1": Kept(("c1",), remembered_at(20)), "c2": Kept(("c2",), remembered_at(20))}
    early = Facts(losses=[Loss("c1", moment("m0", 10))])
    state = loaded(Group("c1", ("c1",)), Group("c2", ("c2", "c3")), kept=kept)
    since = reads_from(early, state, no_longer_recovered([], early))
    assert since == {"c1": THE_BEGINNING, "c2": THE_BEGINNING}  # c2's members are others now


class Valuer:
    """A valuer that says what it was asked; NeedsWholeHistory for groups named."""

    def __init__(self, cannot_go_on: set[str]) -> None:
        self.cannot_go_on = cannot_go_on
        self.asked: list[tuple[list[str], Known | None]] = []

    def __call__(
        self,
        purchases: Sequence[Purchase],
        lost: Sequence[LostMoment],
        presence: Presence | None = None,
        known: Known | None = None,
    ) -> Valuation:
        self.asked.append(([m.moment_id for m in lost], known))
        going_on = known is not None and known.remembered is not None
        if going_on and {m.moment_id[:2] for m in lost} & self.cannot_go_on:
            raise NeedsWholeHistory("test")
        customer = lost[0].moment_id[:2] if lost else "c?"
        return Valuation(value_of("someone"), Decimal("0.2"), (figures(f"{customer}-x"),))


def test_a_group_that_cannot_go_on_from_what_was_remembered_is_valued_from_all_its_moments() -> (
    None
):
    history = {"c1": [moment("c1-a", 5), moment("c1-b", 90)], "c2": [moment("c2-a", 90)]}
    reads: list[dict[str, datetime]] = []

    async def load_lost(since: Mapping[str, datetime]) -> LostSince:
        reads.append(dict(since))
        read = {c: [m for m in history[c] if m.occurred_at >= s] for c, s in since.items()}
        return LostSince(read, {})

    kept = {"c1": Kept(("c1",), remembered_at(20)), "c2": Kept(("c2",), remembered_at(20))}
    state = loaded(Group("c1", ("c1",)), Group("c2", ("c2",)), kept=kept)
    state = Loaded(state.groups, {}, {}, state.kept)  # no contact: read from the latest moment
    facts = Facts(losses=[Loss("c1", moment("c1-b", 90)), Loss("c2", moment("c2-a", 90))])
    valuer = Valuer(cannot_go_on={"c1"})
    valued = asyncio.run(
        value_groups(facts, valuer, state, no_longer_recovered([], facts), load_lost)
    )
    assert reads == [{"c1": at(20), "c2": at(20)}, {"c1": THE_BEGINNING}]
    assert valued.gone_on == 1  # c2 went on; c1 was valued again from the beginning
    assert [ids for ids, _ in valuer.asked] == [["c1-b"], ["c2-a"], ["c1-a", "c1-b"]]
    assert {v.value.customer_id for v in valued.valuations.values() if v.value} == {"c1", "c2"}


def test_an_erased_group_keeps_nothing_under_its_ids_but_its_moments_figures() -> None:
    state = loaded(Group("c1", ("c1", "c9"), revision=1), Group("c2", ("c2",), erased=True))
    due = (("m1", at(50)), ("m2", at(70)))
    remembered = remembered_at(20)
    valued = Valued(
        {
            "c1": Valuation(
                value_of("c1"), Decimal("0.2"), (), silence_due=due, remembered=remembered
            ),
            "c2": Valuation(
                value_of("c2"),
                Decimal("0.2"),
                (figures("m3"), figures("m4")),
                silence_due=due,
                kept=frozenset({"m4"}),
                remembered=remembered,
            ),
        },
        gone_on=0,
    )
    writes = settle_fold(state, valued)
    assert list(writes.current) == ["c1"] and [v.customer_id for v in writes.values] == ["c1"]
    assert writes.gone == ["c2", "c9"]  # a member merged away, and the erased group
    assert writes.members == ["c1", "c2", "c9"]
    # silence begins on the lane's clock (60): m1's is due at 50, m2's not yet
    assert [(s.moment_id, s.customer_id, s.lane, s.begun) for s in writes.silences] == [
        ("m1", "c1", 3, True),
        ("m2", "c1", 3, False),
    ]
    assert writes.remembered == {"c1": Kept(("c1", "c9"), remembered)}
    assert [(root, r.moment_id) for root, r in writes.at_risk] == [("c2", "m3")]  # m4 kept
    assert writes.revisions == {"c1": 1}
