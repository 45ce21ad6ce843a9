"""Signing in to the console with the organisation's account, in headless Chromium: no
development buttons, a click, the identity provider and back, and the map as the services answer
the user's own token."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import expect

from tests.browser.chromium import ARTIFACTS, Browser
from tests.browser.conftest import Seeded
from tests.browser.seeding import SITE
from tests.identity_provider import CLIENT_ID, IdentityProvider
from touchstone.tools.console.exposure import ConsoleSettings
from touchstone.tools.console.oidc import OidcSettings
from touchstone.tools.console.server import Console
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.dev_keys import DevKeys

pytestmark = pytest.mark.e2e


def test_staff_sign_in_with_their_organisations_account_and_see_their_sites_map(
    stack: LocalStack, browser: Browser, seeded: Seeded
) -> None:
    settings = stack.settings
    assert settings.auth_signing_key is not None
    provider = IdentityProvider(  # it signs with the key set the services trust
        DevKeys(settings.auth_signing_key.parent),
        user="minh.tran",
        roles=("manager",),
        sites=(SITE,),
        audience=settings.auth_audience,
        token_issuer=settings.auth_issuer,
    ).start()
    production_like = replace(settings, auth_signing_key=None)  # no development buttons
    chosen = ConsoleSettings(oidc=OidcSettings(provider.issuer, CLIENT_ID))
    console = Console(production_like, port=free_port(), console=chosen).start()
    try:
        context = browser.chromium.new_context(viewport={"width": 1280, "height": 900})
        browser.contexts.append(context)
        page = context.new_page()
        page.goto(f"{console.url}/signin")
        expect(page.locator("#provider")).to_be_visible()
        expect(page.locator("#dev")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "console-sign-in.png"), full_page=True)

        page.click("#provider-link")
        page.wait_for_url(f"{console.url}/map**")
        page.goto(f"{console.url}/map?map=supermarket&site={SITE}")
        page.wait_for_selector("#journey g.stage")  # the services took the user's own token

        expect(page.locator("#who")).to_have_text(f"minh.tran (manager; {SITE})")
        assert provider.refused == []
    finally:
        console.stop()
        provider.stop()
