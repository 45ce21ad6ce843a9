"""The stack the whole journey's modules share: all four services as their own processes, one
stack per consumer kind for the whole package, and a producer writing to it.

Package-scoped, so the modules together start no more stacks than the one module they were; and
in a package of their own, so the last stack stops when they are done. (A package fixture of
tests/e2e would run on under every later module, and every stack on the test broker joins the
same consumer groups: an idle one would take partitions from the next module's stack.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaProducer

from tests.conftest import running_stack
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack


@pytest.fixture(scope="package", params=["aiokafka", "faust"])
def stack(infra: Settings, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """All four services as their own processes, on a database of their own, per consumer kind."""
    with running_stack(infra, consumer=request.param) as local:
        yield local


@pytest.fixture(scope="package")
def producer(stack: LocalStack) -> Iterator[KafkaProducer]:
    p = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, linger_ms=2)
    yield p
    p.close()
