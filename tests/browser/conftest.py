"""Headless Chromium for the console's browser tests: Debian's chromium, driven by Playwright.

`make test` installs chromium where it can (root with apt-get, as in CI); elsewhere these tests
skip, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from kafka import KafkaProducer

from tests.browser.chromium import ARTIFACTS, CHROMIUM, Browser
from tests.browser.seeding import SEEDED_VISITS, settled_view, visit_now
from tests.conftest import running_stack
from touchstone.journey.v1.journey_service_pb2 import JourneyMapView
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.console.server import Console
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.stack import LocalStack


@dataclass(frozen=True)
class Seeded:
    """The customers of the seeded visits (each lost their greeting), and the map after them."""

    customers: list[str]
    view: JourneyMapView


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Package-scoped, not session-scoped: Playwright's sync API runs an event loop on the main
    thread while it is open, and later tests' asyncio.run() must not find one running."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (make test installs Debian's where it can)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        opened = Browser(chromium, [])
        try:
            yield opened
        finally:
            for context in opened.contexts:
                context.close()
            chromium.close()


@pytest.fixture(scope="package")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra) as local:
        yield local


@pytest.fixture(scope="package")
def producer(stack: LocalStack) -> Iterator[KafkaProducer]:
    p = KafkaProducer(**stack.settings.kafka.client_config(linger_ms=2))
    yield p
    p.close()


@pytest.fixture(scope="package")
def console(stack: LocalStack) -> Iterator[Console]:
    running = Console(stack.settings, port=free_port()).start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
def seeded(stack: LocalStack, producer: KafkaProducer) -> Seeded:
    customers = [visit_now(producer, minutes_ago=60 + 20 * n)[0] for n in range(SEEDED_VISITS)]
    return Seeded(customers, settled_view(stack, 6 * SEEDED_VISITS))
