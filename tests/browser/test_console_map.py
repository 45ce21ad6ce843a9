"""The console's journey map in headless Chromium, against the four services as processes: the
stages and their numbers are the gRPC answers, a stage lists its lost moments, and a new losing
moment appears on the page (measured: publish to shown). Screenshots go to test-artifacts/."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaProducer
from playwright.sync_api import expect

from tests.browser.chromium import ARTIFACTS, Browser
from tests.browser.conftest import Seeded
from tests.browser.seeding import SEEDED_VISITS, SITE, settled_view, visit_now
from touchstone.common.ids import derived_id
from touchstone.console.server import Console
from touchstone.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_the_map_shows_each_stage_as_the_services_answer(
    stack: LocalStack, console: Console, browser: Browser, seeded: Seeded
) -> None:
    view = settled_view(stack, 6 * SEEDED_VISITS)  # other tests add visits too
    page = browser.signed_in(console, "manager")
    page.goto(f"{console.url}/map?map=supermarket&site={SITE}")
    page.wait_for_selector("#journey g.stage")
    for stage in view.stages:
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
    console: Console, browser: Browser, producer: KafkaProducer, seeded: Seeded
) -> None:
    page = browser.signed_in(console, "manager")
    page.goto(f"{console.url}/map?map=supermarket&site={SITE}")
    page.wait_for_selector('#live[data-state="live"]')
    greeting = page.locator('#journey g.stage[data-stage="enter_store"]')
    losses_before = int(greeting.get_attribute("data-losses") or 0)

    published = time.monotonic()
    _, event_ids = visit_now(producer, minutes_ago=1)
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
