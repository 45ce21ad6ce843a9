"""The console's journey map in headless Chromium, against the four services as processes: the
stages and their numbers are the gRPC answers, a stage lists its lost moments, and a new losing
moment appears on the page (measured: publish to shown). Screenshots go to test-artifacts/."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer
from playwright.sync_api import expect

from tests.browser.chromium import ARTIFACTS, Browser
from tests.conftest import running_stack
from tests.e2e.test_whole_journey import eventually, publish, supermarket_visit
from touchstone.client import Clients
from touchstone.common.embedded import free_port
from touchstone.common.ids import derived_id
from touchstone.common.settings import Settings
from touchstone.console.server import Console
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef
from touchstone.journey.v1.journey_service_pb2 import GetJourneyMapRequest, JourneyMapView
from touchstone.stack import LocalStack

pytestmark = pytest.mark.e2e
SITE = "hcm-01"
SEEDED_VISITS = 3


@pytest.fixture(scope="module")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra) as local:
        yield local


@pytest.fixture(scope="module")
def producer(stack: LocalStack) -> Iterator[KafkaProducer]:
    p = KafkaProducer(**stack.settings.kafka.client_config(linger_ms=2))
    yield p
    p.close()


@pytest.fixture(scope="module")
def console(stack: LocalStack) -> Iterator[Console]:
    running = Console(stack.settings, port=free_port()).start()
    yield running
    running.stop()


def visit_now(producer: KafkaProducer, minutes_ago: float) -> list[str]:
    """Publish a visit whose greeting took 45 s (lost); the ids of its touchpoints."""
    customer_id = f"cust-{uuid.uuid4()}"
    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    visit = supermarket_visit(CustomerRef(customer_id=customer_id), start, site_id=SITE)
    publish(producer, visit, customer_id.encode())
    return [tp.event_id for tp in visit]


def map_view(stack: LocalStack) -> JourneyMapView:
    with Clients(stack.settings) as clients:
        request = GetJourneyMapRequest(journey_map="supermarket", site_id=SITE)
        return clients.journey.GetJourneyMap(request, timeout=10)


def settled_view(stack: LocalStack, at_least: int) -> JourneyMapView:
    """The map once it has at least this many moments and stopped changing (the services also
    work through what earlier tests left on the shared broker)."""
    reads: list[JourneyMapView] = []

    def settled() -> JourneyMapView | None:
        reads.append(map_view(stack))
        last = reads[-3:]
        if len(last) == 3 and last[0] == last[2] and last[2].whole_map.moments >= at_least:
            return last[2]
        time.sleep(0.5)
        return None

    return eventually(settled, f"a settled map of at least {at_least} moments")


@pytest.fixture(scope="module")
def seeded(stack: LocalStack, producer: KafkaProducer) -> JourneyMapView:
    for n in range(SEEDED_VISITS):
        visit_now(producer, minutes_ago=60 + 20 * n)
    return settled_view(stack, 6 * SEEDED_VISITS)


def test_the_map_shows_each_stage_as_the_services_answer(
    console: Console, browser: Browser, seeded: JourneyMapView
) -> None:
    page = browser.signed_in(console, "manager")
    page.goto(f"{console.url}/map?map=supermarket&site={SITE}")
    page.wait_for_selector("#journey g.stage")
    for stage in seeded.stages:
        node = page.locator(f'#journey g.stage[data-stage="{stage.stage}"]')
        assert node.get_attribute("data-moments") == str(stage.moments), stage.stage
        assert node.get_attribute("data-losses") == str(stage.losses), stage.stage
        label = node.get_attribute("aria-label") or ""
        assert label.startswith(f"{stage.name}: "), label
        if stage.wins + stage.losses:
            assert f"{round(stage.win_rate * 100)}% won" in label
    greeting = page.locator('#journey g.stage[data-stage="enter_store"]')
    assert "greeted within 30 s" in (greeting.get_attribute("aria-label") or "")
    page.screenshot(path=str(ARTIFACTS / "console-map.png"), full_page=True)

    greeting.focus()
    page.keyboard.press("Enter")  # the keyboard opens a stage as a click does
    page.wait_for_selector("#lost-list li[data-moment-id]")
    lost = page.locator("#lost-list li[data-moment-id]")
    assert lost.count() >= SEEDED_VISITS
    assert "greeted within 30 s: 45 (<= 30)" in lost.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "console-lost-moments.png"), full_page=True)


def test_a_new_losing_moment_shows_on_the_map_as_it_happens(
    console: Console, browser: Browser, producer: KafkaProducer, seeded: JourneyMapView
) -> None:
    page = browser.signed_in(console, "manager")
    page.goto(f"{console.url}/map?map=supermarket&site={SITE}")
    page.wait_for_selector('#live[data-state="live"]')
    greeting = page.locator('#journey g.stage[data-stage="enter_store"]')
    losses_before = int(greeting.get_attribute("data-losses") or 0)

    published = time.monotonic()
    event_ids = visit_now(producer, minutes_ago=1)
    lost_greeting = derived_id("moment", event_ids[1])
    page.wait_for_selector(f'#feed li[data-moment-id="{lost_greeting}"]', timeout=30_000)
    shown_after_s = time.monotonic() - published

    assert "enter_store" in page.locator(f'#feed li[data-moment-id="{lost_greeting}"]').inner_text()
    # the figures are journey's own, asked for again once a moment is heard
    expect(greeting).to_have_attribute("data-losses", str(losses_before + 1), timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "console-live-moment.png"), full_page=True)
    # a figure to quote, not a pass mark (make bench measures speed; these machines are noisy)
    (ARTIFACTS / "console-latency.txt").write_text(f"publish -> shown: {shown_after_s:.3f} s\n")
    print(f"console: a losing moment was shown {shown_after_s:.3f} s after it was published")
