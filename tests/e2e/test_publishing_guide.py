"""docs/publishing.md, every example as written, against the real broker and services: each
publishes a touchpoint its own way, and its verdict is read back (a greeting after 45 s is lost
against "greeted within 30 s")."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import running_stack
from tests.e2e.test_whole_journey import eventually
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients, token_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "publishing.md"
EXAMPLE = re.compile(r"<!-- example: ([a-z-]+) -->\n```(\w+)\n(.*?)```", re.DOTALL)
CUSTOMERS = {  # each example's customer, as the guide names it
    "json-over-kafka": "guide-json-kafka",
    "protobuf-over-kafka": "guide-protobuf-kafka",
    "http-json-with-curl": "guide-http",
    "grpc": "guide-grpc",
}


def examples() -> dict[str, tuple[str, str]]:
    """Each example's language and code, by name."""
    return {name: (language, code) for name, language, code in EXAMPLE.findall(GUIDE.read_text())}


@pytest.fixture(scope="module")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra) as local:
        yield local


def as_on_this_stack(code: str, settings: Settings) -> str:
    """The example with make run's addresses replaced by this stack's."""
    addresses = {
        "127.0.0.1:19092": settings.kafka_bootstrap,
        "http://127.0.0.1:8081": settings.http_url("contacts"),
        "http://127.0.0.1:8082": settings.http_url("journey"),
        "127.0.0.1:50051": settings.grpc_address("contacts"),
    }
    for written, actual in addresses.items():
        code = code.replace(written, actual)
    return code


def run_example(name: str, settings: Settings) -> str:
    """Run the named example as a reader would (Python, or a shell with the venv on PATH)."""
    language, code = examples()[name]
    code = as_on_this_stack(code, settings)
    env = {
        **os.environ,
        **settings.as_env(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "services"), os.environ.get("PYTHONPATH", "")]),
        "TOKEN": token_for(settings, "producer"),
    }
    command = [sys.executable, "-c", code] if language == "python" else ["bash", "-ec", code]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def lost_greeting(settings: Settings, customer_id: str) -> MomentScored:
    """The customer's scored greeting, once journey has it."""

    def greeting() -> MomentScored | None:
        with Clients(settings) as clients:
            request = ListMomentsRequest(customer_id=customer_id, stage="enter_store")
            moments = clients.journey.ListMoments(request, timeout=10).moments
        return moments[0] if moments else None

    return eventually(greeting, f"{customer_id}'s greeting scored")


def test_the_guide_shows_each_way_in_and_this_file_runs_them_all() -> None:
    assert set(examples()) == {*CUSTOMERS, "verdict-with-curl"}


@pytest.mark.parametrize("name", ["json-over-kafka", "protobuf-over-kafka", "grpc"])
def test_a_touchpoint_published_as_the_guide_shows_is_judged(name: str, stack: LocalStack) -> None:
    settings = stack.settings
    run_example(name, settings)

    moment = lost_greeting(settings, CUSTOMERS[name])

    assert moment.verdict == VERDICT_LOSE
    assert "greeted within 30 s: 45 (<= 30)" in moment.reason


def test_curl_posts_a_touchpoint_and_reads_its_verdict_back(stack: LocalStack) -> None:
    settings = stack.settings
    reply = json.loads(run_example("http-json-with-curl", settings))
    assert reply["accepted"] == 1, reply
    assert reply["results"][0]["status"] == "INGEST_STATUS_ACCEPTED"

    def verdict() -> dict[str, str] | None:
        moments = json.loads(run_example("verdict-with-curl", settings)).get("moments", [])
        return next((m for m in moments if m["stage"] == "enter_store"), None)

    moment = eventually(verdict, "the verdict over HTTP")
    assert moment["verdict"] == "VERDICT_LOSE"
    assert "greeted within 30 s: 45 (<= 30)" in moment["reason"]
