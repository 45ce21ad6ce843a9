"""What end-to-end modules share: gRPC clients of the `stack` fixture the module sees, its own
or its package's (test_whole_journey/ and test_authentication/ share one stack per package)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients


@pytest.fixture(scope="module")
def clients(stack: LocalStack) -> Iterator[Clients]:
    """Clients of every service the module's stack runs."""
    with Clients(stack.settings) as c:
        yield c
