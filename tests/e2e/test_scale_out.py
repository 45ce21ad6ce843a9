"""Scale-out: three journey workers share the partitions of contacts.recorded.v1; one is killed
with kill -9 mid-stream. Together they still score every touchpoint once in effect: no moment
lost, none counted twice in the map's figures, and notify opens exactly one case per visit with
a lost moment, holding each lost moment once."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.conftest import running_stack
from tests.e2e.test_whole_journey import eventually, on_topic
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.platform.messaging.topics import JOURNEY_MOMENTS, TOUCHPOINTS
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.simulator import SimConfig, generate_visits, publish
from touchstone.tools.dev.stack import LocalStack

pytestmark = pytest.mark.e2e

VISITS = 500
RATE_PER_S = 400.0


@pytest.fixture(scope="module")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra, ("contacts", "journey", "notify")) as local:
        for worker in ("2", "3"):
            local.services.start_worker("journey", worker, free_port())
        local.services.wait_until_serving()
        yield local


def counts(settings: Settings) -> dict[str, int]:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM contacts.touchpoints),
                      (SELECT count(*) FROM journey.moments),
                      (SELECT coalesce(sum(moments), 0) FROM journey.stage_days),
                      (SELECT count(*) FROM journey.moments WHERE verdict = 'lose'),
                      (SELECT count(DISTINCT (customer_id, visit_id)) FROM journey.moments
                        WHERE verdict = 'lose'),
                      (SELECT count(*) FROM notify.case_moments),
                      (SELECT count(*) FROM notify.cases)"""
        ).fetchone()
    assert row is not None
    names = ("recorded", "moments", "figures", "lost", "visits_lost", "case_moments", "cases")
    return dict(zip(names, map(int, row), strict=True))


def _past(visit: list) -> bool:
    """Whether every touchpoint of the visit has happened (a callback may be due tomorrow)."""
    now = datetime.now(UTC)
    return all(tp.occurred_at.ToDatetime(UTC) < now for tp in visit)


def settle(settings: Settings, quiet_s: float = 8.0, timeout: float = 180.0) -> dict[str, int]:
    """The counts once they have not moved for quiet_s."""
    deadline = time.monotonic() + timeout
    last, since = counts(settings), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = counts(settings)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
    pytest.fail(f"still moving after {timeout}s: {last}")


def unscored_touchpoints(settings: Settings) -> int:
    """Recorded touchpoints journey has no moment for."""
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            """SELECT count(*) FROM contacts.touchpoints t
               WHERE NOT EXISTS (SELECT 1 FROM journey.moments m
                                 WHERE m.source_event_id = t.event_id)"""
        ).fetchone()
    return int(row[0]) if row else -1


def test_three_journey_workers_one_killed_mid_stream_score_everything_once(
    stack: LocalStack,
) -> None:
    # 500 visits 20 s apart, all in the past (contacts refuses touchpoints from the future)
    start = datetime.now(UTC) - timedelta(hours=6)
    config = SimConfig(customers=400, mean_gap_s=20.0)
    visits = [v for v in generate_visits(11, start, VISITS, config) if _past(v)]
    sent: list[int] = []
    publisher = threading.Thread(
        target=lambda: sent.append(
            publish(stack.settings.kafka, TOUCHPOINTS, visits, rate_per_s=RATE_PER_S)
        )
    )
    publisher.start()
    eventually(lambda: counts(stack.settings)["moments"] >= 600, "scoring under way")
    stack.services.stop(("journey/2",), sig=signal.SIGKILL)  # one of three, mid-stream
    at_kill = counts(stack.settings)["moments"]
    publisher.join(120)
    touchpoints = sum(len(v) for v in visits)
    assert sent == [touchpoints]

    started = time.monotonic()
    final = settle(stack.settings)
    after_s = time.monotonic() - started
    assert final["recorded"] == touchpoints  # contacts recorded every one
    assert unscored_touchpoints(stack.settings) == 0  # journey scored every one
    assert final["figures"] == final["moments"]  # no moment counted twice in the map
    assert final["cases"] == final["visits_lost"]  # one case per visit with a lost moment
    assert final["case_moments"] == final["lost"]  # holding each lost moment once

    with psycopg.connect(stack.settings.database_url) as conn:
        ours = {m for (m,) in conn.execute("SELECT moment_id FROM journey.moments")}
    published = [
        MomentScored.FromString(v).moment_id for v, _ in on_topic(stack.settings, JOURNEY_MOMENTS)
    ]
    mine = [m for m in published if m in ours]
    assert set(mine) == ours  # every moment published
    print(
        f"\n{touchpoints} touchpoints; journey/2 killed after {at_kill} moments; settled"
        f" {after_s:.1f}s after the last was published; {len(mine) - len(ours)} moments"
        f" published again after the kill (same ids: duplicates downstream)"
    )
