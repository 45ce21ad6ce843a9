"""Headless Chromium for the console's browser tests: Debian's chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from touchstone.tools.console.server import Console

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("TOUCHSTONE_TEST_CHROMIUM") or shutil.which("chromium")


@dataclass
class Browser:
    """A headless Chromium: a fresh context (cookies and all) per page asked for."""

    chromium: Any
    contexts: list[Any]

    def signed_in(self, console: Console, role: str) -> Any:
        """A new page, signed in to the console as the role (the development key set)."""
        context = self.chromium.new_context(viewport={"width": 1280, "height": 900})
        self.contexts.append(context)
        page = context.new_page()
        page.goto(f"{console.url}/signin")
        page.click(f'#dev-roles button[value="{role}"]')
        page.wait_for_url(f"{console.url}/map**")
        return page
