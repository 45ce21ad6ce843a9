"""One simulated visit per journey map, each stage drawn from the map's own vocabulary.

Every stage of every shipped map (services/platform/touchstone/shared_kernel/maps) is walked with
the
measurements and observations its producers declare there, with shares that make each stage's
standards (services/journey/touchstone/journey/standards/default.yaml) won most of the time and
lost some of it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.platform.runtime.prototime import to_timestamp

NAMESPACE = uuid.UUID("99e3a1bf-1d2f-551c-8cc4-e17783af8e03")
# fmt: off
SUPERMARKET_STAGES = (
    "drive_in", "find_parking", "store_bag", "enter_store", "take_basket", "check_directory",
    "browse", "ask_staff", "select_goods", "prepare_checkout", "wait_in_queue", "pay",
    "collect_bag", "drive_away",
)
PHONE_STAGES = (
    "ring", "greeting", "identify_need", "hold", "transfer", "message_taking", "resolution",
    "close", "callback",
)
RESTAURANT_STAGES = ("arrive", "seated", "order", "table", "served", "pay", "leave")
# fmt: on
GREETING_CHECKS = ("polite_greeting", "named_self", "named_company", "named_department")
HOLD_CHECKS = ("asked_permission", "said_why", "waited_for_answer", "thanked")
TRANSFER_CHECKS = ("said_to_whom", "said_why", "stayed_until_answered")
MESSAGE_CHECKS = ("took_name", "took_number", "agreed_callback_time")
CLOSE_CHECKS = ("repeated_agreed_actions", "asked_anything_else", "thanked", "caller_hung_up_first")
SLOW_GREETING_SHARE = 0.15  # greeted after more than 30 s (or not at all)
LONG_RING_SHARE = 0.15  # answered after 4-8 rings
FEEDBACK_SHARE = 0.05
COMPLAINT_SHARE = 0.02  # store visits with a complaint on site
LEFT_QUEUE_SHARE = 0.03  # shoppers who give up in the queue
PROMISES_H = (0.25, 0.5, 1, 2, 4, 8, 24)  # callbacks promised: within the quarter hour to a day


@dataclass
class Visit:
    """A visit under construction: the fields its touchpoints share, its clock, its touchpoints."""

    name: str
    template: Touchpoint
    clock: datetime
    touchpoints: list[Touchpoint] = field(default_factory=list)

    def add(
        self,
        stage: str,
        source: str,
        after_s: float,
        staff: str = "",
        measurements: Mapping[str, float] | None = None,
        observations: Iterable[str] = (),
    ) -> Touchpoint:
        """Append the next touchpoint, `after_s` seconds after the previous one."""
        self.clock += timedelta(seconds=after_s)
        tp = Touchpoint()
        tp.CopyFrom(self.template)
        tp.event_id = str(uuid.uuid5(NAMESPACE, f"{self.name}/{len(self.touchpoints)}"))
        tp.occurred_at.CopyFrom(to_timestamp(self.clock))
        tp.source, tp.stage, tp.staff_id = source, stage, staff
        tp.measurements.update({k: round(v, 1) for k, v in (measurements or {}).items()})
        tp.observations.extend(observations)
        self.touchpoints.append(tp)
        return tp


def _seen(rng: random.Random, share: float, name: str) -> tuple[str, ...]:
    """The observation, with probability `share`."""
    return (name,) if rng.random() < share else ()


def _checks(rng: random.Random, names: Sequence[str], keep: float = 0.85) -> list[str]:
    """Each observed behaviour, kept with probability `keep`."""
    return [name for name in names if rng.random() < keep]


def _mostly(
    rng: random.Random, share: float, good: tuple[float, float], bad: tuple[float, float]
) -> float:
    """Seconds: within `good` with probability `share`, else within `bad`."""
    low, high = good if rng.random() < share else bad
    return rng.uniform(low, high)


def supermarket_trip(rng: random.Random, v: Visit, staff: Sequence[str]) -> None:
    """Park, shop, queue, pay and leave; now and then a bag stored, a question, a complaint."""
    v.add("drive_in", "gate-camera", 0.0, measurements={"gate_wait_seconds": _gate(rng, 10)})
    search = rng.uniform(20, 240)
    v.add("find_parking", "parking-sensor", search, measurements={"search_seconds": search})
    stored = rng.random() < 0.35
    if stored:
        seconds = _mostly(rng, 0.85, (10, 58), (61, 240))
        stored_in = {"store_seconds": seconds}
        v.add("store_bag", "bag-locker", 90, rng.choice(staff), stored_in, ("bag_tag_given",))
    _enter_and_shop(rng, v, staff)
    served = _checkout(rng, v, staff)
    if rng.random() < COMPLAINT_SHARE or (not served and rng.random() < 0.3):
        handled = _seen(rng, 0.65, "duty_manager_handled")
        v.add("complaint", "service-desk", rng.uniform(30, 180), rng.choice(staff), None, handled)
    if stored:
        seconds = _mostly(rng, 0.85, (10, 58), (61, 200))
        v.add("collect_bag", "bag-locker", 60, rng.choice(staff), {"collect_seconds": seconds})
    leaving = {"exit_wait_seconds": _gate(rng, 30)}
    v.add("drive_away", "gate-camera", rng.uniform(60, 300), measurements=leaving)


def _gate(rng: random.Random, limit: float) -> float:
    """Seconds at a barrier: nine in ten well within `limit`, the rest stuck behind it."""
    return _mostly(rng, 0.9, (1, limit * 0.9), (limit + 1, limit * 6))


def _greeting(rng: random.Random) -> float | None:
    """Seconds until greeted: mostly 4-29 s; a slow share over 30 s; None: nobody came."""
    if rng.random() >= SLOW_GREETING_SHARE:
        return rng.triangular(4, 29, 11)
    return None if rng.random() < 0.3 else rng.uniform(31, 100)


def greeting_at(
    rng: random.Random, v: Visit, stage: str, source: str, staff: Sequence[str], after: float
) -> None:
    """The customer arrives; greeted in time, late, or never (no measurement: did not happen)."""
    seconds = _greeting(rng)
    if seconds is None:
        v.add(stage, source, after)
    else:
        greeted = {"greeting_seconds": seconds}
        v.add(stage, source, after, rng.choice(staff), greeted, ("greeted",))


def _enter_and_shop(rng: random.Random, v: Visit, staff: Sequence[str]) -> None:
    greeting_at(rng, v, "enter_store", "door-sensor", staff, rng.uniform(30, 120))
    basket = "no_basket" if rng.random() < 0.07 else "basket_available"
    v.add("take_basket", "basket-rfid", rng.uniform(10, 60), observations=(basket,))
    if rng.random() < 0.35:
        found = rng.random() < 0.85
        lookup = {"lookup_seconds": rng.uniform(5, 40)}
        seen = ("location_found",) if found else ("location_not_found",)
        v.add("check_directory", "directory-kiosk", rng.uniform(10, 60), "", lookup, seen)
    browse = rng.uniform(180, 1500)
    gaps = _seen(rng, 0.12, "empty_shelf_seen") + _seen(rng, 0.03, "aisle_blocked")
    v.add("browse", "aisle-camera", rng.uniform(20, 90), "", {"browse_seconds": browse}, gaps)
    if rng.random() < 0.3:
        response = {"response_seconds": 3 + rng.expovariate(1 / 25)} if rng.random() < 0.85 else {}
        helped = ("helped",) if rng.random() < 0.9 else ("could_not_help",)
        v.add("ask_staff", "staff-app", rng.uniform(60, 400), rng.choice(staff), response, helped)
    items = {"items": rng.randint(1, 40)}
    v.add("select_goods", "shelf-scanner", browse, "", items, _seen(rng, 0.1, "item_unavailable"))


def _checkout(rng: random.Random, v: Visit, staff: Sequence[str]) -> bool:
    """Queue and pay; False when the customer gave up in the queue."""
    tills = {"open_tills": rng.randint(2, 8)}
    closed = _seen(rng, 0.08, "queue_at_closed_till")
    v.add("prepare_checkout", "checkout-camera", rng.uniform(20, 120), "", tills, closed)
    wait = _queue_wait(rng)
    queue = {"wait_seconds": wait, "queue_length": round(wait / 45)}
    if rng.random() < LEFT_QUEUE_SHARE:
        v.add("wait_in_queue", "queue-sensor", rng.uniform(5, 30), "", queue, ("left_unserved",))
        return False
    v.add("wait_in_queue", "queue-sensor", rng.uniform(5, 30), measurements=queue)
    checkout = {"checkout_seconds": _mostly(rng, 0.88, (40, 175), (181, 400))}
    seen = _seen(rng, 0.88, "thanked") + _seen(rng, 0.95, "receipt_given")
    pay = v.add("pay", f"till-{rng.randint(1, 8)}", wait, rng.choice(staff), checkout, seen)
    pay.purchase.currency = "VND"
    pay.purchase.minor_units = _basket_value(rng)
    if rng.random() < FEEDBACK_SHARE:
        pay.feedback.rating = rng.choices(range(1, 6), (5, 7, 18, 35, 35))[0]
        pay.feedback.comment = "" if pay.feedback.rating > 2 else "Chờ thanh toán quá lâu"
    return True


def _queue_wait(rng: random.Random) -> float:
    """Seconds in the checkout queue: mostly under 3 minutes, one in ten over 5."""
    draw = rng.random()
    if draw < 0.8:
        return rng.triangular(10, 180, 60)
    return rng.uniform(180, 300) if draw < 0.9 else rng.uniform(301, 900)


def _basket_value(rng: random.Random, median: float = 12.77) -> int:
    """A bill in đồng (VND's minor unit): median ~350,000, 50,000-2,000,000, whole thousands."""
    value = min(max(rng.lognormvariate(median, 0.75), 50_000), 2_000_000)
    return int(round(value, -3))


def restaurant_meal(rng: random.Random, v: Visit, staff: Sequence[str]) -> None:
    """Greeted, seated, order, water at the table, food, bill, goodbye."""
    waiter = rng.choice(staff)
    greeting_at(rng, v, "arrive", "host-stand", staff, 0.0)  # a visit starts with its first
    seated = {"wait_seconds": _mostly(rng, 0.85, (20, 290), (310, 900))}
    v.add("seated", "host-stand", 60, waiter, seated)
    ordered = {"wait_seconds": _mostly(rng, 0.85, (60, 290), (310, 900))}
    explained = _seen(rng, 0.6, "dish_explained")
    v.add("order", "pos", ordered["wait_seconds"], waiter, ordered, explained)
    water = _seen(rng, 0.8, "water_refilled") + _seen(rng, 0.15, "asked_for_water")
    v.add("table", "table-sensor", rng.uniform(120, 600), waiter, None, water)
    food = {"wait_seconds": _mostly(rng, 0.88, (300, 1180), (1220, 2400))}
    v.add("served", "kitchen-display", 120, waiter, food, _seen(rng, 0.05, "wrong_dish"))
    bill = {"bill_wait_seconds": _mostly(rng, 0.85, (20, 175), (185, 600))}
    paid = v.add("pay", "pos", rng.uniform(300, 1500), waiter, bill, _seen(rng, 0.9, "thanked"))
    paid.purchase.currency = "VND"
    paid.purchase.minor_units = _basket_value(rng, median=12.9)
    goodbye = _seen(rng, 0.85, "said_goodbye")
    v.add("leave", "host-stand", rng.uniform(30, 120), waiter, None, goodbye)


def phone_call(rng: random.Random, v: Visit, agents: Sequence[str]) -> None:
    """Ring, greeting, the need, maybe hold, transfer or a message; resolution, close,
    and a callback when one was promised (or, one time in seven, never: a loss by absence)."""
    agent = rng.choice(agents)
    rings = rng.randint(4, 8) if rng.random() < LONG_RING_SHARE else rng.randint(1, 3)
    v.add("ring", "pbx", 0.0, measurements={"rings": rings})
    greeting = list(GREETING_CHECKS)
    if rng.random() < 0.2:
        greeting.remove(rng.choice(greeting))
    v.add("greeting", "speech-analytics", rings * 6.0, agent, observations=greeting)
    confirmed = _seen(rng, 0.85, "need_confirmed")
    v.add("identify_need", "crm", rng.uniform(15, 90), agent, None, confirmed)
    agent, promised_h = _hold_transfer_message(rng, v, agents, agent)
    if promised_h:
        outcome = "callback_promised"
    else:
        outcome = "resolved" if rng.random() < 0.85 else "unresolved"
    v.add("resolution", "crm", rng.uniform(30, 400), agent, observations=(outcome,))
    closing = _checks(rng, CLOSE_CHECKS, keep=0.9)
    v.add("close", "speech-analytics", rng.uniform(10, 40), agent, observations=closing)
    if promised_h and rng.random() < 0.85:  # the rest never call back: a loss by absence
        delay_h = promised_h * rng.uniform(0.5, 1.4)
        done = ["at_agreed_time"] if delay_h <= promised_h else []
        done += ["need_met"] if rng.random() < 0.8 else []
        v.add("callback", "pbx", delay_h * 3600, agent, {"delay_hours": delay_h}, done)


def _hold_transfer_message(
    rng: random.Random, v: Visit, agents: Sequence[str], agent: str
) -> tuple[str, float]:
    """The optional middle of a call; who handles the rest, and the callback promised (hours)."""
    if rng.random() < 0.3:
        held = rng.uniform(15, 60) if rng.random() < 0.7 else rng.uniform(60, 240)
        checks = _checks(rng, HOLD_CHECKS)
        v.add("hold", "pbx", rng.uniform(20, 120), agent, {"hold_seconds": held}, checks)
    if rng.random() < 0.2:
        took = rng.uniform(5, 30) if rng.random() < 0.8 else rng.uniform(30, 120)
        checks = _checks(rng, TRANSFER_CHECKS)
        if rng.random() < 0.1:
            checks += ["transfer_failed", *_seen(rng, 0.6, "apologised")]
        v.add("transfer", "pbx", rng.uniform(20, 90), agent, {"transfer_seconds": took}, checks)
        agent = rng.choice(agents)
    if rng.random() >= 0.12:
        return agent, 0.0
    promised_h = float(rng.choice(PROMISES_H))
    promise, checks = {"callback_promised_hours": promised_h}, _checks(rng, MESSAGE_CHECKS, 0.9)
    v.add("message_taking", "crm", rng.uniform(20, 60), agent, promise, checks)
    return agent, promised_h
