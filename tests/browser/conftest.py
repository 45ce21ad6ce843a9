"""Headless Chromium for the console's browser tests: Debian's chromium, driven by Playwright.

`make test` installs chromium where it can (root with apt-get, as in CI); elsewhere these tests
skip, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.chromium import ARTIFACTS, CHROMIUM, Browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
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
