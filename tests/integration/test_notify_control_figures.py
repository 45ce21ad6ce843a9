"""Control figures for a simulated day at one site, against a hand computation (docs/domain.md
§10).

Friday 2026-11-20 at hcm-01 (Ho Chi Minh City: T0 is 16:00 there):
- 10 visits; 2 complaints (one on site, one feedback rated 1 of 5): complaint rate 2/10.
- 4 cases, each from one lost greeting, on the on_site playbook: staff apologise by +5 min,
  fix by +15, ask the customer's opinion by +30 and correct the cause by the end of the next
  working day, Monday 17:30 (the system's email steps are not staff's); each case is due 15
  minutes after its lost moment.
  A at T0: apology acknowledged at +3 and done at +4, resolved by staff at +10.
  B at T0+60: nobody acts; the customer's win in another visit at +120 is their return, not a
  recovery (nobody apologised: services/notify/touchstone/notify/recovery.py).
  C at T0+120: the apology is acknowledged at +130 and done at +140 (it was due at +125).
  D at T0+180: the fix is done at +190 (due +195); nothing else.
  Thirty-one days on, B, C and D are lost.
- Omitted (no recovery started by the case's due time): B only (C's started with the
  acknowledgement at +130, before its due time at +135), of 4 due: 1/4.
- Dissatisfaction (recoveries that failed): B, C and D lost, A recovered: 3/4.
- On time (staff steps due while their case was open, done by their due time):
  A: apology (+5, before the resolution at +10): on time. 1 of 1.
  B: apology, fix, opinion, cause (+65, +75, +90, Monday): none done. 0 of 4.
  C: 4 due, the apology late. 0 of 4.   D: 4 due, the fix on time. 1 of 4.
  2 of 13.
A case and a visit on the Saturday, and a visit at another site, are not counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.builders import T0, record, recorded
from tests.integration.notify_delivery_support import lost_by
from tests.integration.test_notify_clock import on_postgres
from tests.unit.test_contacts_ingest_api import FakeContext
from tests.unit.test_notify_outcomes import won
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.notify.api import NotifyApi
from touchstone.notify.codec import resolved_by_staff, step_taken
from touchstone.notify.control_figures_store import PostgresControlFigures
from touchstone.notify.domain import case_id_for
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.playbooks import DEFAULT_POLICY
from touchstone.notify.rows import StepCommand
from touchstone.notify.staff_commands import resolving, taking
from touchstone.notify.store import PostgresNotifyStore
from touchstone.notify.v1 import notify_service_pb2 as pb
from touchstone.platform.messaging.topics import CONTACTS_RECORDED
from touchstone.platform.runtime.settings import Settings

MINUTE = timedelta(minutes=1)
NOW = T0 + timedelta(days=31)


def seen(
    n: int, at: datetime, site: str = "hcm-01", stage: str = "enter_store", rating: int = 0
) -> bytes:
    """The recorded touchpoint of visitor n at `at` (its event id follows from both)."""
    event_id = f"tp-{n}-{at.isoformat()}"
    tp = Touchpoint(event_id=event_id, site_id=site, journey_map="supermarket", stage=stage)
    tp.occurred_at.FromDatetime(at)
    if rating:
        tp.feedback.rating = rating
    return recorded(tp, f"visitor-{n}", f"visit-{site}-{n}")


def test_a_simulated_days_control_figures_match_the_hand_computation(
    fresh_database: Settings,
) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        handler = OpenRecoveryCases(store)
        touchpoints = [seen(n, T0 + n * MINUTE) for n in range(10)]
        touchpoints += [
            seen(3, T0 + 20 * MINUTE, stage="complaint"),  # visit 3 again: a complaint on site
            seen(4, T0 + 21 * MINUTE, rating=1),  # visit 4 again: feedback rated 1 of 5
            seen(5, T0 + 22 * MINUTE, rating=5),  # praise is no complaint
            seen(20, T0 + timedelta(days=1)),  # Saturday
            seen(21, T0, site="hn-02"),  # another site
        ]
        await handler.handle([record(tp, n, CONTACTS_RECORDED) for n, tp in enumerate(touchpoints)])
        opened = {
            name: lost_by(f"cust-{name}", "v1", T0 + minutes * MINUTE)
            for name, minutes in (("A", 0), ("B", 60), ("C", 120), ("D", 180))
        }
        saturday = lost_by("cust-E", "v1", T0 + timedelta(days=1))
        await handler.handle([record(v, n) for n, v in enumerate([*opened.values(), saturday])])
        case = {name: case_id_for(f"cust-{name}", "v1") for name in opened}

        async def take(name: str, n: int, minutes: int, completed: bool = True) -> None:
            command = StepCommand(case[name], n, "staff", "", completed)
            taken = taking(command, T0 + minutes * MINUTE, step_taken)
            await store.take_step(command.case_id, taken)

        await take("A", 1, 3, completed=False)
        await take("A", 1, 4)
        await store.resolve(case["A"], resolving("duty", "", T0 + 10 * MINUTE, resolved_by_staff))
        win = MomentScored.FromString(won("w-B", 120, "v2", "cust-B"))
        await handler.handle([record(win.SerializeToString())])
        await take("C", 1, 130, completed=False)
        await take("C", 1, 140)
        await take("D", 3, 190)
        await store.sweep(NOW, DEFAULT_POLICY)

        api = NotifyApi(store, clock=lambda: NOW, figures=PostgresControlFigures(store.pool))
        request = pb.GetControlFiguresRequest(
            site_id="hcm-01", first_day="2026-11-20", last_day="2026-11-20"
        )
        (day,) = (await api.GetControlFigures(request, FakeContext())).sites
        assert (day.site_id, day.visits, day.complaints) == ("hcm-01", 10, 2)
        assert day.complaint_rate == 2 / 10
        assert (day.cases, day.cases_due, day.omitted) == (4, 4, 1)
        assert day.omission_rate == 1 / 4
        assert (day.recovered, day.lost) == (1, 3)
        assert day.dissatisfaction_rate == 3 / 4
        assert (day.steps_due, day.steps_on_time) == (13, 2)
        assert day.on_time_rate == 2 / 13

        every = await api.GetControlFigures(
            pb.GetControlFiguresRequest(first_day="2026-11-20", last_day="2026-11-21"),
            FakeContext(),
        )
        by_site = {s.site_id: s for s in every.sites}
        assert (by_site["hcm-01"].visits, by_site["hcm-01"].cases) == (11, 5)
        quiet = by_site["hn-02"]
        assert (quiet.visits, quiet.cases) == (1, 0)
        assert quiet.HasField("complaint_rate") and quiet.complaint_rate == 0.0  # 0 of 1 visit
        for nothing_to_rate in ("omission_rate", "dissatisfaction_rate", "on_time_rate"):
            assert not quiet.HasField(nothing_to_rate), nothing_to_rate  # not a false 0%
        assert every.as_of.ToDatetime(UTC) == NOW

    on_postgres(fresh_database, scenario)
