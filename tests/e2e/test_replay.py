"""`touchstone replay journey` (and loyalty): the state rebuilt from the log into fresh tables is
the state the live workers built (identical checksums), it is swapped in, and the service carries
on from there. A replay refuses while workers run (and leaves them running), keeps a state that
differs apart, and puts back the old state an interrupted replay left aside.

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
from kafka import KafkaProducer

from tests.conftest import running_stack
from tests.e2e.leaks import spellings, tables_holding, topics_holding
from tests.e2e.test_scale_out import counts, settle, unscored_touchpoints
from tests.e2e.test_whole_journey import (
    _value,
    _valued,
    eventually,
    moments_of,
    registered_with_secrets,
    supermarket_visit,
)
from tests.e2e.test_whole_journey import publish as publish_touchpoints
from touchstone.contacts.v1.contacts_service_pb2 import (
    EraseCustomerRequest,
    GetCustomerRequest,
)
from touchstone.contacts.v1.profile_pb2 import CUSTOMER_STATUS_ERASED
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, ExternalIdentity, IdentityKind
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.topics import ALL_TOPICS, TOUCHPOINTS
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.embedded import EmbeddedBroker, free_port
from touchstone.tools.dev.simulator import SimConfig, generate_visits, publish
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_broker(infra: Settings) -> Iterator[Settings]:
    workdir = Path(tempfile.mkdtemp(prefix="touchstone-replay-broker-"))
    broker = EmbeddedBroker(workdir, port=free_port())
    broker.start()
    try:
        ensure_topics(KafkaConnection(broker.bootstrap), ALL_TOPICS, infra.topic_partitions)
        yield replace(infra, kafka_bootstrap=broker.bootstrap)
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(own_broker: Settings) -> Iterator[LocalStack]:
    with running_stack(own_broker, ("contacts", "journey", "loyalty")) as local:
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
    return publish(settings.kafka, TOUCHPOINTS, past, rate_per_s=2000.0)


def replay_command(
    settings: Settings, *args: str, service: str = "journey"
) -> subprocess.CompletedProcess[str]:
    """`touchstone replay SERVICE ARGS` as an operator runs it, against the stack's settings."""
    return subprocess.run(
        [sys.executable, "-m", "touchstone.tools.cli", "replay", service, *args],
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=300,
    )


def schemas(settings: Settings) -> set[str]:
    with psycopg.connect(settings.database_url) as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}


def verdict_of(settings: Settings, schema: str, moment: tuple[str]) -> tuple[str] | None:
    with psycopg.connect(settings.database_url) as conn:
        query = f"SELECT verdict FROM {schema}.moments WHERE moment_id = %s"
        return conn.execute(query, moment).fetchone()  # type: ignore[return-value]


def identical_and_swapped(result: subprocess.CompletedProcess[str], service: str) -> int:
    """The events the replay rebuilt from, after checking it said identical and swapped."""
    print("\n" + result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    rebuilt = re.search(
        rf"rebuilt {service} from ([\d,]+) events in .* \(([\d,]+) events/s\)", result.stdout
    )
    assert rebuilt, result.stdout
    assert re.search(r"checksum before (\w+)  after \1  \(identical", result.stdout)
    assert f"swapped in: {service} now holds the rebuilt state" in result.stdout
    return int(rebuilt[1].replace(",", ""))


def test_replay_is_refused_while_journey_consumes_and_journey_carries_on(
    stack: LocalStack,
) -> None:
    publish_visits(stack.settings, 3, 40)
    settle(stack.settings, quiet_s=4.0)
    result = replay_command(stack.settings, "--wait-for-workers", "8")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "workers in consumer group touchstone.journey still hold" in result.stderr
    assert "stop every worker of journey (scale it to 0), then replay" in result.stderr
    assert "journey_before_replay" not in schemas(stack.settings)

    assert stack.services.procs["journey"].poll() is None  # the replay's join left it running
    publish_visits(stack.settings, 4, 30)
    settle(stack.settings, quiet_s=4.0)
    assert unscored_touchpoints(stack.settings) == 0  # and scoring


def test_replay_catches_the_old_state_up_rebuilds_it_identically_and_swaps_it_in(
    stack: LocalStack,
) -> None:
    sent = publish_visits(stack.settings, 5, 300)
    eventually(lambda: counts(stack.settings)["moments"] > 600, "scoring under way")
    stack.services.stop(("journey",))  # mid-stream: records it had not finished wait

    result = replay_command(stack.settings)
    events = identical_and_swapped(result, "journey")
    caught_up = re.search(r"the old state first took ([\d,]+) events", result.stdout)
    assert caught_up and int(caught_up[1].replace(",", "")) > 0
    assert events > 2000  # what contacts had recorded when the replay began (it still records)
    assert "journey_before_replay" not in schemas(stack.settings)

    # journey resumes where its group left off, on the rebuilt state: the rest is scored once
    stack.services.start(("journey",))
    stack.services.wait_until_serving()
    more = publish_visits(stack.settings, 6, 60)
    after = settle(stack.settings)
    assert after["recorded"] >= sent + more
    assert unscored_touchpoints(stack.settings) == 0
    assert after["figures"] == after["moments"]  # no moment counted twice in the map


def test_a_state_that_differs_from_the_log_is_kept_apart_not_swapped(stack: LocalStack) -> None:
    stack.services.stop(("journey",))
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
    assert verdict_of(stack.settings, "journey", tampered) == ("win",)
    assert verdict_of(stack.settings, "journey_replayed", tampered) == ("lose",)

    again = replay_command(stack.settings)
    assert again.returncode == 2
    assert "schema journey_replayed is left from an earlier replay" in again.stderr
    with psycopg.connect(stack.settings.database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA journey_replayed CASCADE")
    fixed = replay_command(stack.settings, "--keep-different")
    assert fixed.returncode == 0, fixed.stderr
    assert verdict_of(stack.settings, "journey", tampered) == ("lose",)


def test_an_interrupted_replay_blocks_the_workers_and_is_put_back_by_the_next(
    stack: LocalStack,
) -> None:
    # as a replay killed mid-rebuild leaves it: the old state aside, a partial one in its place
    with psycopg.connect(stack.settings.database_url, autocommit=True) as conn:
        conn.execute("ALTER SCHEMA journey RENAME TO journey_before_replay")
        conn.execute("CREATE SCHEMA journey")
    worker = subprocess.run(
        [sys.executable, "-m", "touchstone.journey"],
        env={**os.environ, **stack.settings.as_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode != 0
    assert "a replay is rebuilding its state, or was interrupted" in worker.stderr

    result = replay_command(stack.settings)
    identical_and_swapped(result, "journey")
    assert "an interrupted replay had left the old state aside: it was put back first" in (
        result.stdout
    )
    assert "journey_before_replay" not in schemas(stack.settings)


def test_loyalty_replays_identically(stack: LocalStack) -> None:
    stack.services.stop(("loyalty",))
    events = identical_and_swapped(replay_command(stack.settings, service="loyalty"), "loyalty")
    assert events > counts(stack.settings)["moments"]  # moments, touchpoints and profiles
    with psycopg.connect(stack.settings.database_url) as conn:
        valued = conn.execute("SELECT count(*) FROM loyalty.customer_values").fetchone()
    assert valued and valued[0] > 100


def test_an_erased_customer_stays_erased_through_a_replay_of_journey_and_loyalty(
    stack: LocalStack, clients: Clients
) -> None:
    stack.services.start(tuple(n for n in ("journey", "loyalty") if n not in stack.services.procs))
    stack.services.wait_until_serving()
    customer_id, secrets = registered_with_secrets(clients, "Vy")
    _, phone, _, comment = secrets
    ref = CustomerRef(identity=ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=phone))
    visit = supermarket_visit(ref, datetime.now(UTC) - timedelta(hours=2))
    visit[4].feedback.rating, visit[4].feedback.comment = 1, comment
    producer = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap)
    publish_touchpoints(producer, visit, f"phone:{phone}".encode())
    producer.close()
    eventually(lambda: moments_of(clients, customer_id, 6), "the visit scored")
    eventually(lambda: _value(clients, customer_id), "the customer valued")

    assert {"contacts.identities", "contacts.customers"} <= set(
        tables_holding(stack.settings, secrets)
    )  # the searches find what is there: in contacts' tables, and in the producer's bytes
    assert topics_holding(stack.settings, secrets, [TOUCHPOINTS]) == sorted(
        f"{TOUCHPOINTS}: {s}" for s in (phone, comment)
    )

    clients.contacts.EraseCustomer(EraseCustomerRequest(customer_id=customer_id), timeout=5)
    eventually(lambda: _valued(clients, customer_id) is None, "loyalty no longer values them")
    stack.services.stop(("journey", "loyalty"))
    for service in ("journey", "loyalty"):  # every state rebuilt from the log, from offset 0
        identical_and_swapped(replay_command(stack.settings, service=service), service)

    assert tables_holding(stack.settings, secrets) == []
    assert topics_holding(stack.settings, secrets) == []
    stack.services.start(("journey", "loyalty"))
    stack.services.wait_until_serving()
    customer = clients.contacts.GetCustomer(GetCustomerRequest(customer_id=customer_id), timeout=5)
    assert customer.status == CUSTOMER_STATUS_ERASED and not customer.identities
    moments = eventually(lambda: moments_of(clients, customer_id, 6), "their anonymous moments")
    told = b"".join(m.SerializeToString() for m in moments) + customer.SerializeToString()
    assert [s for s in spellings(secrets) if s.encode() in told] == []
    assert _valued(clients, customer_id) is None  # the replayed loyalty values them no more
