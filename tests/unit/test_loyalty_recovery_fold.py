"""Recovery as a fold, not a flag: loyalty counts a case's lost moments recovered exactly while
the case's latest word is "recovered". A lost moment joining a recovered case reopens it (notify
tells the recovery again, naming every moment, if it still holds); the case closing as lost
ends it. So the same case events give the same values one by one or in one batch, whatever
notify's own batching made it say on the way."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.builders import T0, handled, payment, record, recorded
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.unit.test_loyalty_at_risk import moment
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.notify.v1.events_pb2 import CaseEvent, CaseLost, CaseRecovered, MomentJoined
from touchstone.platform.messaging.topics import NOTIFY_CASES, Incoming


def paid(n: int, minutes: int) -> Incoming:
    tp = payment(250_000, T0 + timedelta(minutes=minutes), f"visit-{n}")
    return record(recorded(tp, "cust-1", f"visit-{n}"), 100 + n)


def case_event(n: int, event: CaseEvent) -> Incoming:
    event.event_id = f"case-event-{n}"
    return record(event.SerializeToString(), 200 + n, NOTIFY_CASES, key=b"cust-1")


def recovered(n: int, *moment_ids: str, hours: int = 24) -> Incoming:
    change = CaseRecovered(case_id="case-1", customer_id="cust-1", moment_ids=moment_ids)
    change.recovered_at.FromDatetime(T0 + timedelta(hours=hours))
    change.how = "visit"
    return case_event(n, CaseEvent(recovered=change))


def joined(n: int, moment_id: str) -> Incoming:
    return case_event(n, CaseEvent(joined=MomentJoined(case_id="case-1", moment_id=moment_id)))


def lost(n: int, *moment_ids: str) -> Incoming:
    change = CaseLost(case_id="case-1", customer_id="cust-1", moment_ids=moment_ids)
    return case_event(n, CaseEvent(lost=change))


def values(store: MemoryLoyaltyStore) -> dict[str, tuple[int, float]]:
    return {c: (v.lifetime_value_minor, float(v.churn_risk)) for c, v in store.values.items()}


def delivered(records: list[Incoming], sizes: list[int]) -> MemoryLoyaltyStore:
    """A fresh loyalty fed the records in order, in batches of the given sizes (the rest last)."""
    store, at = MemoryLoyaltyStore(), 0
    handler = ValueCustomers(store)
    for size in [*sizes, len(records)]:
        if at < len(records):
            handled(handler, records[at : at + max(size, 1)])
            at += max(size, 1)
    return store


PURCHASES = [paid(1, 0), paid(2, 60)]
LOSSES = [moment(1, VERDICT_LOSE, 10), moment(2, VERDICT_LOSE, 90)]


def test_a_recovery_undone_by_a_later_loss_is_undone_in_loyalty_too() -> None:
    # notify one by one: recovered after the first loss, reopened by the second
    told = [*PURCHASES, LOSSES[0], recovered(1, "m1"), LOSSES[1], joined(2, "m2")]
    # notify in one batch: never recovered at all
    batch_told = [*PURCHASES, LOSSES[0], LOSSES[1], joined(2, "m2")]
    one_by_one = delivered(told, [1] * len(told))
    assert values(one_by_one) == values(delivered(told, []))
    assert values(one_by_one) == values(delivered(batch_told, []))
    assert one_by_one.recovered == {}


def test_a_case_reopened_and_recovered_again_counts_from_its_new_recovery() -> None:
    told = [
        *PURCHASES,
        LOSSES[0],
        recovered(1, "m1", hours=24),
        LOSSES[1],
        joined(2, "m2"),
        recovered(3, "m1", "m2", hours=48),
    ]
    one_by_one = delivered(told, [1] * len(told))
    assert values(one_by_one) == values(delivered(told, []))
    at = {m: r.recovered_at for m, r in one_by_one.recovered.items()}
    assert at == {"m1": T0 + timedelta(hours=48), "m2": T0 + timedelta(hours=48)}  # reopened


CASE_EVENTS = st.lists(
    st.sampled_from(["recovered-1", "recovered-12", "joined-2", "lost-12"]), max_size=6
)


@given(CASE_EVENTS, st.lists(st.integers(1, 4), max_size=6))
def test_any_case_history_values_the_same_one_by_one_in_one_batch_or_in_any_batches(
    said: list[str], sizes: list[int]
) -> None:
    build = {
        "recovered-1": lambda n: recovered(n, "m1", hours=24 + n),
        "recovered-12": lambda n: recovered(n, "m1", "m2", hours=24 + n),
        "joined-2": lambda n: joined(n, "m2"),
        "lost-12": lambda n: lost(n, "m1", "m2"),
    }
    told = [*PURCHASES, *LOSSES, *(build[s](n) for n, s in enumerate(said))]
    one_by_one = delivered(told, [1] * len(told))
    whole = delivered(told, [])
    some = delivered(told, sizes)
    assert values(one_by_one) == values(whole) == values(some)
    assert one_by_one.recovered.keys() == whole.recovered.keys() == some.recovered.keys()


def published_at_risk(store: MemoryLoyaltyStore, records: list[Incoming]) -> dict[str, int]:
    """The last value at risk loyalty published for each moment, fed one record at a time."""
    handler, told = ValueCustomers(store), {}
    for one in records:
        for out in handled(handler, [one]):
            event = ValueUpdated.FromString(out.value)
            if event.HasField("at_risk"):
                told[event.at_risk.moment_id] = event.at_risk.value_at_risk_minor
    return told


def test_a_purchase_before_a_lost_moment_heard_after_it_revalues_what_it_put_at_risk() -> None:
    """What a lost moment put at risk follows from the history before it in event time, so a
    purchase heard late changes it, and loyalty tells it again: whoever keeps the last word
    (notify weighing the case) has the same value in any arrival order."""
    in_order = MemoryLoyaltyStore()
    expected = published_at_risk(in_order, [*PURCHASES, LOSSES[1]])
    late = published_at_risk(MemoryLoyaltyStore(), [LOSSES[1], *PURCHASES])
    assert late == expected and expected["m2"] > 0
    assert in_order.at_risk["m2"].value_at_risk_minor == expected["m2"]
