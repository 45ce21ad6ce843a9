"""`touchstone replay journey`: the state rebuilt from the log into fresh tables is the state the
live workers built (identical checksums), it is swapped in, and journey carries on from there.

The module runs on a broker of its own: a consumer group's committed offsets are where a replay
stops, and other tests' journey workers share the group name on the session's broker.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.conftest import running_stack
from tests.e2e.test_scale_out import settle, unscored_touchpoints
from touchstone.common.embedded import EmbeddedBroker, free_port
from touchstone.common.kafka_admin import ensure_topics
from touchstone.common.settings import Settings
from touchstone.common.topics import ALL_TOPICS, TOUCHPOINTS
from touchstone.simulator import SimConfig, generate_visits, publish
from touchstone.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_broker(infra: Settings) -> Iterator[Settings]:
    workdir = Path(tempfile.mkdtemp(prefix="touchstone-replay-broker-"))
    broker = EmbeddedBroker(workdir, port=free_port())
    broker.start()
    try:
        ensure_topics(broker.bootstrap, ALL_TOPICS, infra.topic_partitions)
        yield replace(infra, kafka_bootstrap=broker.bootstrap)
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(own_broker: Settings) -> Iterator[LocalStack]:
    with running_stack(own_broker, ("contacts", "journey")) as local:
        yield local


def publish_visits(settings: Settings, seed: int, visits: int) -> int:
    """Publish simulated visits that are all in the past; the touchpoints sent."""
    start = datetime.now(UTC) - timedelta(hours=8)
    config = SimConfig(customers=300, mean_gap_s=20.0)
    past = [
        v
        for v in generate_visits(seed, start, visits, config)
        if all(tp.occurred_at.ToDatetime(UTC) < datetime.now(UTC) for tp in v)
    ]
    return publish(settings.kafka_bootstrap, TOUCHPOINTS, past, rate_per_s=2000.0)


def replay_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`touchstone replay journey ARGS` as an operator runs it, against the stack's settings."""
    return subprocess.run(
        [sys.executable, "-m", "touchstone.cli", "replay", "journey", *args],
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=300,
    )


def stop_journey(stack: LocalStack) -> None:
    stack.services.stop(("journey",))


def schemas(settings: Settings) -> set[str]:
    with psycopg.connect(settings.database_url) as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}


def test_replay_is_refused_while_journey_consumes(stack: LocalStack) -> None:
    publish_visits(stack.settings, 3, 40)
    settle(stack.settings, quiet_s=4.0)
    result = replay_command(stack.settings, "--wait-for-workers", "8")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "workers in consumer group touchstone.journey still hold" in result.stderr
    assert "stop every worker of journey (scale it to 0), then replay" in result.stderr
    assert "journey_before_replay" not in schemas(stack.settings)


def test_replay_rebuilds_journey_identically_and_swaps_it_in(stack: LocalStack) -> None:
    publish_visits(stack.settings, 5, 300)
    before = settle(stack.settings)
    stop_journey(stack)

    result = replay_command(stack.settings)
    print("\n" + result.stdout + result.stderr[-400:])
    assert result.returncode == 0, result.stderr
    rebuilt = re.search(
        r"rebuilt journey from ([\d,]+) events in .* \(([\d,]+) events/s\)", result.stdout
    )
    assert rebuilt and int(rebuilt[1].replace(",", "")) >= before["recorded"]
    assert re.search(r"checksum before (\w+)  after \1  \(identical", result.stdout)
    assert "swapped in: journey now holds the rebuilt state" in result.stdout
    assert "journey_before_replay" not in schemas(stack.settings)
    assert settle(stack.settings, quiet_s=2.0) == before

    # journey resumes where its group left off, on the rebuilt state: new visits are scored
    stack.services.start(("journey",))
    stack.services.wait_until_serving()
    sent = publish_visits(stack.settings, 6, 60)
    after = settle(stack.settings)
    assert after["recorded"] == before["recorded"] + sent
    assert unscored_touchpoints(stack.settings) == 0
    assert after["figures"] == after["moments"]  # no moment counted twice in the map


def test_a_state_that_differs_from_the_log_is_kept_apart_not_swapped(stack: LocalStack) -> None:
    stop_journey(stack)
    with psycopg.connect(stack.settings.database_url) as conn:
        tampered = conn.execute(
            "UPDATE journey.moments SET verdict = 'win' WHERE moment_id = "
            "(SELECT moment_id FROM journey.moments WHERE verdict = 'lose' LIMIT 1) "
            "RETURNING moment_id"
        ).fetchone()
    assert tampered is not None

    result = replay_command(stack.settings)
    assert result.returncode == 1, result.stderr
    assert "DIFFERENT" in result.stdout and "  moments: before" in result.stdout
    assert "NOT swapped: the old state is back in journey" in result.stdout
    with psycopg.connect(stack.settings.database_url) as conn:
        live = conn.execute(
            "SELECT verdict FROM journey.moments WHERE moment_id = %s", tampered
        ).fetchone()
        rebuilt = conn.execute(
            "SELECT verdict FROM journey_replayed.moments WHERE moment_id = %s", tampered
        ).fetchone()
    assert live == ("win",) and rebuilt == ("lose",)

    again = replay_command(stack.settings)
    assert again.returncode == 2
    assert "schema journey_replayed is left from an earlier replay" in again.stderr
    with psycopg.connect(stack.settings.database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA journey_replayed CASCADE")
    fixed = replay_command(stack.settings, "--keep-different")
    assert fixed.returncode == 0, fixed.stderr
    with psycopg.connect(stack.settings.database_url) as conn:
        assert conn.execute(
            "SELECT verdict FROM journey.moments WHERE moment_id = %s", tampered
        ).fetchone() == ("lose",)
