"""What a fold decides for the customer groups a batch touches. The stores load what it reads
and write what it returns, in one transaction (journey hands its batch decision to its store
the same way); none of this is restated in SQL or in a fake.

1. Which of each group's lost moments to read (`reads_from`): only those since what a fold
   remembered of it where the facts come after that (remembered.read_from), else all.
2. Each group valued (`value_groups`) from what was remembered and the moments since; where
   that cannot be gone on from (NeedsWholeHistory), from its whole history, read again.
3. What to keep (`settle_fold`): the values of groups not erased, nothing more under ids no
   longer a group's root, each silence and whether it has begun on its lane's clock, what to
   remember for the next fold, and the figures valued afresh.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from touchstone.loyalty.at_risk import AtRisk, Known, Stored
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import CustomerValue, Purchase
from touchstone.loyalty.ports import Valuer
from touchstone.loyalty.remembered import THE_BEGINNING, Kept, NeedsWholeHistory, read_from
from touchstone.loyalty.valuation import Facts, Valuation, facts_change_from, known_figures
from touchstone.loyalty.valued import SilenceClock, value_as


@dataclass(frozen=True)
class Group:
    """A customer group as stored: the id it is known by, everyone merged into it, whether any
    of them is erased, and how many merges (live or undone) touch them (its link revision)."""

    root: str
    members: tuple[str, ...]
    erased: bool = False
    revision: int = 0


def distinct_groups(candidates: Iterable[Group]) -> dict[str, Group]:
    """One group per set of members, by root: while links folded from different partitions form
    a cycle for a moment, two ids may each look like the root of the same members; the smallest
    wins."""
    by_members: dict[frozenset[str], Group] = {}
    for group in candidates:
        key = frozenset(group.members)
        if key not in by_members or group.root < by_members[key].root:
            by_members[key] = group
    return {g.root: g for g in sorted(by_members.values(), key=lambda g: g.root)}


@dataclass(frozen=True)
class Reopened:
    """The lost moments no longer recovered after a batch (their case reopened and the batch did
    not tell them recovered again), and the customers they were recorded with."""

    moments: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()


def no_longer_recovered(dropped: Iterable[tuple[str, str]], facts: Facts) -> Reopened:
    """Of the recoveries (moment, customer) dropped with their reopened cases, those the facts
    do not recover again."""
    recovered = {r.moment_id for r in facts.recoveries}
    still = [(moment, customer) for moment, customer in dropped if moment not in recovered]
    return Reopened(frozenset(m for m, _ in still), frozenset(c for _, c in still))


@dataclass(frozen=True)
class Loaded:
    """What a store loaded for a fold, under the lock of every member."""

    groups: Mapping[str, Group]  # by root (distinct_groups)
    purchases: Mapping[str, Sequence[Purchase]]  # by member: all of them
    presence: Mapping[str, SilenceClock]  # by root: the group's latest contact
    kept: Mapping[str, Kept]  # by root: what the last fold of the group remembered


@dataclass(frozen=True)
class LostSince:
    """The lost moments a store read: each member's since the time asked, and which of them
    have figures stored."""

    lost: Mapping[str, Sequence[LostMoment]]  # by member, by (event time, id)
    stored: Mapping[str, Stored]  # by moment


# Read each member's lost moments from the time given (member -> since)
LoadLost = Callable[[Mapping[str, datetime]], Awaitable[LostSince]]


def reads_from(facts: Facts, loaded: Loaded, reopened: Reopened) -> dict[str, datetime]:
    """From what event time each group's lost moments are read, by root."""
    changed_for = {r.customer_id for r in facts.recoveries} | reopened.customers
    since = {}
    for root, group in loaded.groups.items():
        presence = loaded.presence.get(root)
        since[root] = read_from(
            loaded.kept.get(root),
            group.members,
            facts_change_from(facts, group.members, changed_for),
            presence.last_contact_at if presence else None,
        )
    return since


@dataclass(frozen=True)
class Valued:
    """Every group valued, by root, and how many from the moments since what was remembered
    (the rest from their whole history)."""

    valuations: dict[str, Valuation]
    gone_on: int


async def value_groups(
    facts: Facts,
    valuer: Valuer,
    loaded: Loaded,
    reopened: Reopened,
    load_lost: LoadLost,
) -> Valued:
    """Every group valued: from what was remembered and the moments since where the facts allow
    it, from its whole history where they do not or what was remembered cannot be gone on from."""
    since = reads_from(facts, loaded, reopened)
    valued, whole = await _value(facts, valuer, loaded, reopened, since, load_lost)
    gone_on = len(valued) - sum(since[root] == THE_BEGINNING for root in valued)
    if whole:
        again = dict.fromkeys(whole, THE_BEGINNING)
        valued |= (await _value(facts, valuer, loaded, reopened, again, load_lost))[0]
    return Valued(dict(sorted(valued.items())), gone_on)


async def _value(
    facts: Facts,
    valuer: Valuer,
    loaded: Loaded,
    reopened: Reopened,
    since: Mapping[str, datetime],
    load_lost: LoadLost,
) -> tuple[dict[str, Valuation], list[str]]:
    """The groups of `since` valued from their lost moments read since those times, and those
    whose remembered history cannot be gone on from."""
    groups = {root: loaded.groups[root].members for root in since}
    read = await load_lost({m: since[root] for root, group in groups.items() for m in group})
    recovery_changed = facts.moment_ids | reopened.moments
    valued, whole = {}, []
    for root, group in groups.items():
        purchases = [p for member in group for p in loaded.purchases.get(member, ())]
        moments = [m for member in group for m in read.lost.get(member, ())]
        if since[root] == THE_BEGINNING:
            known = known_figures(facts, group, moments, recovery_changed, read.stored)
        else:
            remembered = loaded.kept[root].remembered
            known = Known(read.stored, remembered=remembered, read_from=since[root])
        try:
            valuation = valuer(purchases, moments, loaded.presence.get(root), known)
        except NeedsWholeHistory:
            whole.append(root)
            continue
        valued[root] = value_as(root, valuation)
    return valued, whole


@dataclass(frozen=True)
class Silence:
    """When silence after an unrecovered lose begins for a customer, and whether it has on the
    clock of the lane their latest contact came on."""

    moment_id: str
    customer_id: str
    lane: int
    due_at: datetime
    begun: bool


@dataclass(frozen=True)
class FoldWrites:
    """What a fold keeps."""

    current: dict[str, Valuation]  # by root, erased groups left out: as known now
    values: list[CustomerValue]  # of those who bought something
    gone: list[str]  # ids no longer a group's root, and erased groups': nothing kept under them
    members: list[str]  # every member of the groups: their silences are replaced by `silences`
    silences: list[Silence]
    remembered: dict[str, Kept]  # by root
    at_risk: list[tuple[str, AtRisk]]  # (root, figures) of moments valued afresh
    revisions: dict[str, int]  # by root, where merges touch the group


def settle_fold(loaded: Loaded, valued: Valued) -> FoldWrites:
    """What the valued groups leave to keep."""
    groups = loaded.groups
    current = {r: v for r, v in valued.valuations.items() if not groups[r].erased}
    gone = sorted(m for g in groups.values() for m in g.members if m != g.root or g.erased)
    silences = [
        Silence(moment, root, clock.lane, at, at <= clock.clock)
        for root, valuation in current.items()
        if (clock := loaded.presence.get(root)) is not None
        for moment, at in valuation.silence_due
    ]
    remembered = {
        root: Kept(tuple(sorted(groups[root].members)), valuation.remembered)
        for root, valuation in current.items()
        if valuation.remembered is not None
    }
    at_risk = [
        (root, figures)
        for root, valuation in valued.valuations.items()
        for figures in valuation.at_risk
        if figures.moment_id not in valuation.kept  # kept figures are stored already
    ]
    return FoldWrites(
        current=current,
        values=[v.value for v in current.values() if v.value],
        gone=gone,
        members=sorted(m for g in groups.values() for m in g.members),
        silences=silences,
        remembered=remembered,
        at_risk=at_risk,
        revisions={root: g.revision for root, g in groups.items() if g.revision},
    )
