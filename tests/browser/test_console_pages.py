"""The customer page and the control figures in headless Chromium: each part as its service
answers it, personal data only for the roles that may see it."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.chromium import ARTIFACTS, Browser
from tests.browser.conftest import Seeded
from tests.browser.seeding import SITE
from tests.e2e.test_whole_journey import eventually
from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.contacts.v1.touchpoint_pb2 import IDENTITY_KIND_EMAIL, ExternalIdentity
from touchstone.journey.v1.events_pb2 import Verdict
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest
from touchstone.loyalty.v1.loyalty_service_pb2 import GetCustomerValueRequest
from touchstone.notify.v1.notify_service_pb2 import GetControlFiguresRequest, ListCasesRequest
from touchstone.platform.security.personal_data import MASK
from touchstone.tools.console.server import Console
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e


def test_a_customers_page_draws_their_visits_value_and_cases(
    stack: LocalStack, console: Console, browser: Browser, seeded: Seeded
) -> None:
    customer_id = seeded.customers[0]
    email = f"lan.{uuid.uuid4().hex[:8]}@example.vn"
    register = contacts.RegisterCustomerRequest(
        customer_id=customer_id,
        identities=[ExternalIdentity(kind=IDENTITY_KIND_EMAIL, value=email)],
    )
    register.profile.display_name = "Lan"
    with Clients(stack.settings, role="service") as service:
        service.contacts.RegisterCustomer(register, timeout=10)
    with Clients(stack.settings) as admin:
        moments = admin.journey.ListMoments(
            ListMomentsRequest(customer_id=customer_id), timeout=10
        ).moments
        value = eventually(
            lambda: admin.loyalty.GetCustomerValue(
                GetCustomerValueRequest(customer_id=customer_id), timeout=10
            ),
            "the customer's value",
        )
        cases = admin.notify.ListCases(ListCasesRequest(customer_id=customer_id), timeout=10)

    page = browser.signed_in(console, "admin")
    page.goto(f"{console.url}/customer?id={customer_id}")
    expect(page.locator("#customer")).to_be_visible()
    expect(page.locator("#profile")).to_contain_text(email)  # admins see personal data
    expect(page.locator("#profile")).to_contain_text("Lan")
    strip = page.locator("#visits > li").first
    for moment in moments:
        cell = strip.locator(f'li.cell[data-stage="{moment.stage}"]')
        assert cell.get_attribute("data-verdict") == Verdict.Name(moment.verdict)
    expect(page.locator("#value")).to_contain_text(f"{round(value.churn_risk * 100)}% a year")
    for case in cases.cases:
        expect(page.locator(f'#cases li[data-case-id="{case.case_id}"]')).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "console-customer-admin.png"), full_page=True)

    manager = browser.signed_in(console, "manager")
    manager.goto(f"{console.url}/customer?id={customer_id}")
    expect(manager.locator("#profile")).to_contain_text(MASK)  # masked by contacts for managers
    assert email not in manager.content() and "Lan" not in manager.locator("#profile").inner_text()
    manager.screenshot(path=str(ARTIFACTS / "console-customer-manager.png"), full_page=True)


def test_control_figures_chart_each_sites_rates_as_notify_counts_them(
    stack: LocalStack, console: Console, browser: Browser, seeded: Seeded
) -> None:
    with Clients(stack.settings) as admin:  # today by the site's calendar, as the page shows
        figures = admin.notify.GetControlFigures(GetControlFiguresRequest(site_id=SITE), timeout=10)
    (site,) = figures.sites
    page = browser.signed_in(console, "manager")
    page.goto(f"{console.url}/figures?site={SITE}&days=7")
    section = page.locator(f'section[data-site="{SITE}"]')
    expect(section.locator("figure.small-chart")).to_have_count(4)
    for rate in ("complaint_rate", "omission_rate", "dissatisfaction_rate", "on_time_rate"):
        chart = section.locator(f'figure[data-rate="{rate}"]')
        shown = chart.locator("figcaption strong")
        if not site.HasField(rate):  # nothing to rate today: a dash, never a false 0%
            assert chart.get_attribute("data-latest") == "", rate
            expect(shown).to_have_text("—")
            continue
        latest = float(chart.get_attribute("data-latest") or "nan")
        assert latest == pytest.approx(getattr(site, rate)), rate
        expect(shown).to_have_text(f"{getattr(site, rate) * 100:.1f}%")
    assert section.locator("table.numbers tbody tr").count() == 7
    oldest = section.locator("table.numbers tbody tr").first  # six days ago: nobody came
    expect(oldest.locator("td")).to_have_text(["0", "—", "—", "—", "—"])
    page.screenshot(path=str(ARTIFACTS / "console-figures.png"), full_page=True)
