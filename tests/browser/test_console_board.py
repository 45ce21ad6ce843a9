"""The recovery board in headless Chromium: open cases, overdue first, as notify lists them; a
member of staff acknowledges a step, the page shows it, and notify has it under their name."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer
from playwright.sync_api import expect

from tests.browser.chromium import ARTIFACTS, Browser
from tests.browser.conftest import Seeded
from tests.browser.seeding import SITE, visit_now
from tests.e2e.test_whole_journey import eventually
from touchstone.notify.v1.events_pb2 import CASE_STATUS_OPEN
from touchstone.notify.v1.notify_service_pb2 import Case, GetCaseRequest, ListCasesRequest
from touchstone.tools.console.server import Console
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e
STAFF_OWNED = ("staff", "duty_manager")


def open_case_of(stack: LocalStack, customer_id: str) -> Case | None:
    with Clients(stack.settings) as clients:
        listed = clients.notify.ListCases(
            ListCasesRequest(customer_id=customer_id, status=CASE_STATUS_OPEN), timeout=10
        )
        if not listed.cases:
            return None
        return clients.notify.GetCase(GetCaseRequest(case_id=listed.cases[0].case_id), timeout=10)


def test_staff_acknowledge_a_step_on_the_board_and_notify_has_it(
    stack: LocalStack,
    console: Console,
    browser: Browser,
    seeded: Seeded,
    producer: KafkaProducer,
) -> None:
    case = eventually(
        lambda: next(
            (c for c in map(lambda who: open_case_of(stack, who), seeded.customers) if c), None
        ),
        "an open case for a seeded customer",
    )
    step = next(s for s in case.steps if s.owner in STAFF_OWNED and s.status == "pending")
    newcomer, _ = visit_now(producer, minutes_ago=0)  # its case is not due yet
    eventually(lambda: open_case_of(stack, newcomer), "a case that is not due yet")
    with Clients(stack.settings) as clients:
        listed = clients.notify.ListCases(
            ListCasesRequest(site_id=SITE, status=CASE_STATUS_OPEN, page_size=200), timeout=10
        )

    page = browser.signed_in(console, "staff")
    page.goto(f"{console.url}/board?site={SITE}")
    rows = page.locator("#cases tr[data-case-id]")
    expect(rows).to_have_count(len(listed.cases))
    shown = rows.evaluate_all("rows => rows.map(r => r.dataset.caseId)")
    assert set(shown) == {c.case_id for c in listed.cases}
    order = rows.evaluate_all(
        "rows => rows.map(r => [!r.classList.contains('overdue'), Number(r.dataset.due),"
        " -Number(r.dataset.value)])"
    )
    assert order == sorted(order)  # overdue first, then by due time, then by value at risk
    assert {due_later for due_later, _, _ in order} == {False, True}  # both kinds are shown

    row = page.locator(f'#cases tr[data-case-id="{case.case_id}"]')
    # what went wrong: each lost moment's broken standard and measured value, as notify lists it
    reasons = row.locator("td.reasons .reason").all_text_contents()
    listed_case = next(c for c in listed.cases if c.case_id == case.case_id)
    assert reasons == list(listed_case.reasons) and listed_case.reasons
    assert "greeted within 30 s: 45 (<= 30)" in reasons
    row.get_by_role("button", name="Steps").click()
    item = page.locator(f'#steps-{case.case_id} li[data-step="{step.n}"]')
    expect(item).to_have_attribute("data-status", "pending")
    page.screenshot(path=str(ARTIFACTS / "console-board.png"), full_page=True)
    item.get_by_role("button", name="Acknowledge").click()

    item = page.locator(f'#steps-{case.case_id} li[data-step="{step.n}"]')
    expect(item).to_have_attribute("data-status", "acknowledged")
    expect(item.locator(".status")).to_have_text("acknowledged by console-staff")
    page.screenshot(path=str(ARTIFACTS / "console-board-acknowledged.png"), full_page=True)
    with Clients(stack.settings) as clients:
        after = clients.notify.GetCase(GetCaseRequest(case_id=case.case_id), timeout=10)
    taken = next(s for s in after.steps if s.n == step.n)
    assert (taken.status, taken.taken_by) == ("acknowledged", "console-staff")
