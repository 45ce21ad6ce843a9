"""All four services with every Kafka and PostgreSQL connection over TLS, and nothing in clear.

The broker is reachable only through a TLS listener that wants a client certificate (mutual
TLS), and advertises only that listener; PostgreSQL only through one that answers SSLRequest and
cuts plaintext off (tests/tls_terminator.py says why these stand in front of the embedded
servers). A client that ignored the transport settings would get nothing, so a losing visit that
travels every hop (ingest, scoring, value, case, stream, audit) proves each client uses them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.conftest import create_database, with_free_grpc_ports
from tests.e2e.test_whole_journey import _value, eventually, moments_of, supermarket_visit
from tests.pki import Pki, make_pki
from tests.tls_terminator import TlsTerminator, server_context, terminating
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE
from touchstone.journey.v1.journey_service_pb2 import WatchMomentsRequest
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest, StepCommand
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.log_reader import read_log
from touchstone.platform.messaging.topics import ALL_TOPICS, AUDIT
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.tools.dev.embedded import EmbeddedBroker, free_port
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients
from touchstone.tools.ops.publisher import TouchpointPublisher

pytestmark = pytest.mark.e2e
HOUR = timedelta(hours=1)


@dataclass
class Listeners:
    """A broker and the test database, each reachable only through a TLS listener."""

    pki: Pki
    kafka: TlsTerminator
    postgres: TlsTerminator
    settings: Settings  # told to use them, on a database of its own


@dataclass
class Encrypted:
    stack: LocalStack
    listeners: Listeners

    @property
    def settings(self) -> Settings:
        return self.stack.settings


@pytest.fixture(scope="module")
def listeners(infra: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listeners]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    broker_port, kafka_tls_port, postgres_tls_port = free_port(), free_port(), free_port()
    advertised = f"127.0.0.1:{kafka_tls_port}"  # clients are sent back to the TLS listener
    broker = EmbeddedBroker(tmp_path_factory.mktemp("broker"), broker_port, advertised=advertised)
    broker.start()
    database = conninfo_to_dict(infra.database_url)
    postgres_at = (str(database.get("host") or "127.0.0.1"), int(database.get("port") or 5432))
    with (
        terminating(
            kafka_tls_port,
            ("127.0.0.1", broker_port),
            server_context(pki.server_cert, pki.server_key, client_ca=pki.ca),
        ) as kafka_tls,
        terminating(  # wants a client certificate: a client that skipped the settings has none
            postgres_tls_port,
            postgres_at,
            server_context(pki.server_cert, pki.server_key, client_ca=pki.ca),
            postgres=True,
        ) as postgres_tls,
    ):
        plain, drop = create_database(infra)
        settings = replace(
            plain,
            embedded=False,
            kafka_bootstrap=f"127.0.0.1:{kafka_tls_port}",
            kafka_security_protocol="SSL",
            kafka_tls_ca=pki.ca,
            kafka_tls_cert=pki.client_cert,
            kafka_tls_key=pki.client_key,
            database_url=make_conninfo(
                plain.database_url, host="localhost", port=postgres_tls_port
            ),
            database_tls_ca=pki.ca,
            database_tls_cert=pki.client_cert,
            database_tls_key=pki.client_key,
        )
        ensure_topics(settings.kafka, ALL_TOPICS, settings.topic_partitions)
        try:
            yield Listeners(pki, kafka_tls, postgres_tls, settings)
        finally:
            drop()
            broker.stop()


@pytest.fixture(scope="module", params=["aiokafka", "faust"])
def encrypted(listeners: Listeners, request: pytest.FixtureRequest) -> Iterator[Encrypted]:
    """All four services on the listeners, per consumer kind."""
    local = LocalStack(with_free_grpc_ports(replace(listeners.settings, consumer=request.param)))
    local.start(SERVICES)
    try:
        yield Encrypted(local, listeners)
    finally:
        local.stop()


def test_a_losing_visit_travels_every_hop_encrypted(encrypted: Encrypted) -> None:
    settings = encrypted.settings
    customer_id = f"cust-{uuid.uuid4()}"
    with Clients(settings) as clients:
        watch = clients.journey.WatchMoments(
            WatchMomentsRequest(customer_id=customer_id, verdict=VERDICT_LOSE), timeout=60
        )
        assert not next(watch).HasField("moment")  # the watch is live
        visit = supermarket_visit(CustomerRef(customer_id=customer_id), datetime.now(UTC) - HOUR)
        with TouchpointPublisher(settings.kafka) as publisher:
            for touchpoint in visit:
                publisher.publish(touchpoint)
        watched = next(watch)  # journey's feed of its own topic, over TLS
        watch.cancel()
        assert (watched.moment.customer_id, watched.moment.stage) == (customer_id, "enter_store")
        moments = eventually(lambda: moments_of(clients, customer_id, 6), "six scored moments")
        assert len(moments) == 6
        value = eventually(lambda: _value(clients, customer_id), "the customer's value")
        assert value.purchases == 1
        cases = eventually(
            lambda: (
                clients.notify.ListCases(ListCasesRequest(customer_id=customer_id), timeout=5).cases
            ),
            "a recovery case for the lost greeting",
        )
        case_id = cases[0].case_id
        clients.notify.AcknowledgeStep(StepCommand(case_id=case_id, n=1, by="admin"), timeout=10)

    def audited() -> list[str]:
        trail = read_log(settings.kafka, [AUDIT], lambda r: r.value is not None)
        return [r.key.decode() for r in trail if case_id.encode() in (r.value or b"")]

    assert eventually(audited, "the acknowledged step on the audit trail")
    assert encrypted.listeners.kafka.accepted >= len(SERVICES)
    assert encrypted.listeners.postgres.accepted >= len(SERVICES)


def test_the_listeners_refuse_what_is_not_encrypted_as_the_services_were_told(
    listeners: Listeners, tmp_path: Path
) -> None:
    settings, pki = listeners.settings, listeners.pki
    plaintext = KafkaConnection(settings.kafka_bootstrap)
    no_client_certificate = KafkaConnection(
        settings.kafka_bootstrap, security_protocol="SSL", tls_ca=pki.ca
    )
    for connection in (plaintext, no_client_certificate):
        with pytest.raises(KafkaError):
            KafkaAdminClient(**connection.client_config(bootstrap_timeout_ms=3000))
    admin = KafkaAdminClient(**settings.kafka.client_config(bootstrap_timeout_ms=10_000))
    assert AUDIT in admin.list_topics()  # the same listener, with the services' settings
    admin.close()
    for unverified in ("disable", "prefer"):  # plaintext; TLS without a client certificate
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(settings.database_url, sslmode=unverified, connect_timeout=3)
    other_ca = make_pki(tmp_path)  # a server we did not mean to talk to
    with pytest.raises(psycopg.OperationalError, match="SSL error"):
        psycopg.connect(
            make_conninfo(settings.database, sslrootcert=str(other_ca.ca)), connect_timeout=3
        )
    with psycopg.connect(settings.database, connect_timeout=3) as conn:
        assert conn.pgconn.ssl_in_use
