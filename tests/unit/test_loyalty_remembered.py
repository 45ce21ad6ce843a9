"""A fold goes on from what it remembered of a group's lost moments: given a history that grows
batch by batch, each batch valued from the remembered stay and the moments read since gives the
figures valuing the whole history afresh gives, to the last digit, and remembers what valuing
afresh would; where it cannot (a moment out of the memory, another model, silence needing
older moments) it says so, and a fold reads the whole history."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.builders import T0
from touchstone.loyalty.at_risk import NOTHING_CHANGED, Known
from touchstone.loyalty.churn import LostMoment, leave_chance, load_model, stay_after
from touchstone.loyalty.domain import DEFAULT_POLICY, Purchase
from touchstone.loyalty.remembered import (
    THE_BEGINNING,
    Kept,
    NeedsWholeHistory,
    Remembered,
    read_from,
)
from touchstone.loyalty.valuation import (
    Facts,
    Loss,
    Presence,
    Valuation,
    facts_change_from,
    valuation,
)
from touchstone.platform.messaging.customer_links import LinkChange

MODEL = load_model()
GROUP = ("c1", "c2")


def a_history(rng: random.Random, days: int) -> list[Purchase | LostMoment]:
    """Purchases and lost moments over the days, in event time, every time distinct."""
    events: list[Purchase | LostMoment] = []
    for n, minutes in enumerate(sorted(rng.sample(range(days * 24 * 60), 160))):
        at = T0 + timedelta(minutes=minutes)
        if rng.random() < 0.45:
            pay = rng.choice([50_000, 120_000, 400_000])
            events.append(Purchase(f"p{n}", rng.choice(GROUP), f"v{n}", at, "VND", pay, "s1"))
        else:
            side = rng.choice(["personal", "procedural"])
            weight = Decimal(rng.choice([1, 2, 3]))
            site = rng.choice(["s1", "s2"])
            events.append(LostMoment(f"m{n}", at, side, weight, rng.random() < 0.2, site))
    return events


def split(events: list[Purchase | LostMoment]) -> tuple[list[Purchase], list[LostMoment]]:
    return (
        [e for e in events if isinstance(e, Purchase)],
        [e for e in events if isinstance(e, LostMoment)],
    )


def presence_after(rng: random.Random, events: list[Purchase | LostMoment]) -> Presence | None:
    """Last seen at one of the events (or never), the lane's clock some way past the last."""
    if rng.random() < 0.2:
        return None
    last = rng.choice(events[-3:])
    clock = events[-1].occurred_at + timedelta(days=rng.choice([0, 3, 30]))
    return Presence(last.occurred_at, clock)


def gone_on(
    remembered: Remembered,
    events: list[Purchase | LostMoment],
    batch: list[Purchase | LostMoment],
    presence: Presence | None,
) -> Valuation:
    """The fold's way: what the batch changes decides what is read; valued from what is
    remembered and the moments read."""
    purchases, lost = split(events)
    new_purchases, new_lost = split(batch)
    facts = Facts(
        purchases=new_purchases, losses=[Loss("c1", m) for m in new_lost]
    )  # every new moment is c1's: the group's either way
    changed = facts_change_from(facts, GROUP, set())
    last_contact = presence.last_contact_at if presence else None
    since = read_from(Kept(GROUP, remembered), GROUP, changed, last_contact)
    if since == THE_BEGINNING:  # nothing lost yet to go on from
        assert remembered.last_at is None
        raise NeedsWholeHistory("nothing remembered")
    read = [m for m in lost if m.occurred_at >= since]
    known = Known({}, NOTHING_CHANGED, remembered, since)
    return valuation(purchases, read, MODEL, DEFAULT_POLICY, presence, known)


@pytest.mark.parametrize("seed", range(12))
def test_going_on_from_what_was_remembered_gives_the_figures_valuing_afresh_gives(
    seed: int,
) -> None:
    rng = random.Random(seed)
    events = a_history(rng, days=rng.choice([20, 200, 900]))  # some outlive the memory
    cuts = sorted(rng.sample(range(1, len(events)), 25))
    remembered = valuation(*split(events[: cuts[0]]), MODEL).remembered
    went_on = 0
    for start, end in zip(cuts, [*cuts[1:], len(events)], strict=True):
        so_far, batch = events[:end], events[start:end]
        presence = presence_after(rng, so_far)
        afresh = valuation(*split(so_far), MODEL, DEFAULT_POLICY, presence)
        assert remembered is not None and afresh.remembered is not None
        try:
            went = gone_on(remembered, so_far, batch, presence)
        except NeedsWholeHistory:  # the only reasons here: nothing lost yet, or the memory
            as_of = so_far[-1].occurred_at
            first = remembered.first_at
            assert first is None or first <= as_of - MODEL.memory
        else:
            went_on += 1
            new = {m.moment_id for m in split(batch)[1]}
            assert went.at_risk == tuple(r for r in afresh.at_risk if r.moment_id in new)
            assert replace(went, at_risk=()) == replace(afresh, at_risk=())
            assert went.remembered == afresh.remembered  # to the last digit
        remembered = afresh.remembered
    assert went_on >= 5  # most batches (a 900-day history outlives the memory often)


def test_what_is_remembered_is_where_the_moments_in_the_memory_of_the_latest_leave_the_stay() -> (
    None
):
    moments = [
        LostMoment("m1", T0, "personal", Decimal(3)),
        LostMoment("m2", T0 + timedelta(days=400), "procedural", Decimal(1)),
        LostMoment("m3", T0 + timedelta(days=401), "personal", Decimal(1), recovered=True),
    ]
    remembered = valuation([], moments, MODEL).remembered
    assert remembered is not None
    stay = stay_after(MODEL, [leave_chance(MODEL, m) for m in moments[1:]])  # not m1's: a year
    assert (remembered.last_id, remembered.first_at, remembered.stay) == (
        "m3",
        moments[1].occurred_at,
        stay,
    )
    assert valuation([], [], MODEL).remembered == replace(
        remembered, last_at=None, last_id="", first_at=None, stay=1 - MODEL.base_risk
    )


def remembered_at(last: datetime) -> Remembered:
    return Remembered("model", last, "m9", last, Decimal("0.7"), timedelta(hours=4))


def test_a_fold_reads_from_the_latest_moment_remembered_or_the_latest_contacts_visit() -> None:
    kept = Kept(GROUP, remembered_at(T0))
    later = T0 + timedelta(days=1)
    assert read_from(kept, ("c2", "c1"), later, None) == T0
    assert read_from(kept, GROUP, later, T0 + timedelta(hours=9)) == T0
    assert read_from(kept, GROUP, later, T0 + timedelta(hours=2)) == T0 - timedelta(hours=2)


def test_a_fold_reads_everything_when_its_facts_reach_back_or_the_group_is_not_the_one_kept() -> (
    None
):
    kept = Kept(GROUP, remembered_at(T0))
    assert read_from(None, GROUP, NOTHING_CHANGED, None) == THE_BEGINNING
    assert read_from(kept, ("c1",), NOTHING_CHANGED, None) == THE_BEGINNING  # unmerged
    assert read_from(kept, GROUP, T0, None) == THE_BEGINNING  # at the latest: before it, by id
    assert read_from(kept, GROUP, None, None) == THE_BEGINNING  # merged, unmerged or erased
    nothing_yet = Kept(GROUP, replace(remembered_at(T0), last_at=None))
    assert read_from(nothing_yet, GROUP, NOTHING_CHANGED, None) == THE_BEGINNING


def test_what_facts_change_is_known_before_the_moments_are_read() -> None:
    bought = Purchase("p1", "c2", "v1", T0, "VND", 1, "s1")
    lost = LostMoment("m1", T0 - timedelta(hours=1), "personal", Decimal(1))
    facts = Facts(purchases=[bought], losses=[Loss("c1", lost)])
    assert facts_change_from(facts, GROUP, set()) == lost.occurred_at
    assert facts_change_from(facts, ("c3",), set()) == NOTHING_CHANGED
    assert facts_change_from(facts, GROUP, {"c2"}) == THE_BEGINNING  # a recovery of theirs
    merged = Facts(links=[LinkChange("merge-1", "c1", "c9")])
    assert facts_change_from(merged, GROUP, set()) is None
    assert facts_change_from(Facts(erased=["c2"]), GROUP, set()) is None


def test_another_model_or_a_read_too_short_for_silence_cannot_be_gone_on_from() -> None:
    moments = [
        LostMoment(f"m{n}", T0 + timedelta(days=n), "personal", Decimal(1)) for n in range(3)
    ]
    remembered = valuation([], moments[:2], MODEL).remembered
    assert remembered is not None
    other = replace(MODEL, base_risk=Decimal("0.25"))
    since = moments[1].occurred_at
    with pytest.raises(NeedsWholeHistory):
        valuation([], moments[1:], other, known=Known({}, remembered=remembered, read_from=since))
    seen = Presence(moments[0].occurred_at, moments[2].occurred_at)  # silence looks back to m0
    with pytest.raises(NeedsWholeHistory):
        valuation(
            [],
            moments[1:],
            MODEL,
            presence=seen,
            known=Known({}, remembered=remembered, read_from=since),
        )
    went = valuation(
        [], moments[1:], MODEL, known=Known({}, remembered=remembered, read_from=since)
    )
    afresh = valuation([], moments, MODEL)
    assert replace(went, at_risk=()) == replace(afresh, at_risk=()) and went.kept == {"m1"}
    assert went.at_risk == afresh.at_risk[2:]
