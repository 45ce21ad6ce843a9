"""The console's journey map in headless Chromium, against the four services as processes: the
stages and their numbers are the gRPC answers, a stage lists its lost moments, and a new losing
moment appears on the page (measured: publish to shown). Screenshots go to test-artifacts/."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer
from playwright.sync_api import expect

from tests.browser.chromium import ARTIFACTS, Browser
from tests.browser.conftest import Seeded
from tests.browser.seeding import SEEDED_VISITS, SITE, settled_view, visit_now
from tests.e2e.test_whole_journey import eventually, publish, supermarket_visit
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef
from touchstone.journey.v1.events_pb2 import (
    QUADRANT_A_COLD,
    QUADRANT_B_PRODUCTION_LINE,
    QUADRANT_C_FRIENDLY_DISORGANISED,
    QUADRANT_D_QUALITY,
    QUADRANT_UNSPECIFIED,
)
from touchstone.platform.runtime.ids import derived_id
from touchstone.tools.console.server import Console
from touchstone.tools.dev.stack import LocalStack

pytestmark = pytest.mark.e2e
LETTERS = {
    QUADRANT_UNSPECIFIED: "\u2013",  # an en dash: no quadrant
    QUADRANT_A_COLD: "A",
    QUADRANT_B_PRODUCTION_LINE: "B",
    QUADRANT_C_FRIENDLY_DISORGANISED: "C",
    QUADRANT_D_QUALITY: "D",
}


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


def test_every_stage_is_in_view_at_1280_px_with_its_quadrant_letter_and_full_name(
    stack: LocalStack, console: Console, browser: Browser, seeded: Seeded
) -> None:
    view = settled_view(stack, 6 * SEEDED_VISITS)
    page = browser.signed_in(console, "manager")  # a 1280 x 900 window
    page.goto(f"{console.url}/map?map=supermarket&site={SITE}")
    page.wait_for_selector("#journey g.stage")
    assert len(view.stages) == 15
    for stage in view.stages:
        node = page.locator(f'#journey g.stage[data-stage="{stage.stage}"]')
        box = node.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280, stage.stage
        assert node.locator(".badge").text_content() == LETTERS[stage.quadrant], stage.stage
        assert stage.name in (node.locator("title").text_content() or "")  # shown on hover
    paying = next(s for s in view.stages if s.stage == "pay")
    assert paying.quadrant == QUADRANT_D_QUALITY  # thanked and quick: both sides strong
    assert page.locator('#journey g.stage[data-stage="pay"] .badge').text_content() == "D"
    teams = page.locator("#teams tr[data-team]").evaluate_all(
        "rows => rows.map(r => [r.dataset.team, r.querySelector('.quadrant').textContent])"
    )
    assert teams == [[t.stage, LETTERS[t.quadrant]] for t in view.teams]
    checkout = next(t for t in view.teams if t.stage == "checkout")
    assert checkout.quadrant != QUADRANT_UNSPECIFIED  # its till judges both sides
    shown = page.locator("#areas tr[data-label]").evaluate_all(
        "rows => rows.map(r => [r.dataset.label, r.cells[0].textContent])"
    )
    assert [name for name, _ in shown] == [a.name for a in view.whole_map.areas]
    timeliness = next(a for a in view.whole_map.areas if a.name == "timeliness")
    row = page.locator('#areas tr[data-label="timeliness"]')
    assert row.locator("td").first.text_content() == f"{round(timeliness.share * 100)}% met"
    page.screenshot(path=str(ARTIFACTS / "console-map-1280.png"), full_page=False)


def test_a_word_no_stage_knows_is_shown_with_its_producer(
    console: Console, browser: Browser, producer: KafkaProducer, seeded: Seeded
) -> None:
    customer_id = f"cust-{uuid.uuid4()}"
    start = datetime.now(UTC) - timedelta(minutes=15)
    (paid,) = (
        tp
        for tp in supermarket_visit(CustomerRef(customer_id=customer_id), start, site_id=SITE)
        if tp.stage == "pay"
    )
    paid.observations.append("smiled_warmly")  # no stage declares it
    publish(producer, [paid], customer_id.encode())
    page = browser.signed_in(console, "manager")

    def shown() -> bool:
        page.goto(f"{console.url}/map?map=supermarket&site={SITE}")
        page.wait_for_selector("#words tr")
        return page.locator('#words tr[data-word="smiled_warmly"]').count() == 1

    eventually(lambda: shown() or None, "the unknown word on the map page")
    cells = page.locator('#words tr[data-word="smiled_warmly"] td').all_text_contents()
    assert cells[:4] == ["e2e", "pay", "unknown observation", "smiled_warmly"]
    assert int(cells[4]) >= 1


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
