"""The stack both authentication modules call: one for the package, as for the one module they
were. In a package of its own so that it stops when they are done (every stack on the test broker
joins the same consumer groups: one left running would take partitions from the next module's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import running_stack
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack


@pytest.fixture(scope="package")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra) as local:
        yield local
