"""The container probe: `python -m touchstone.platform.runtime.health SERVICE` exits 0 only
when SERVING."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from touchstone.platform.runtime.health import local_address, main
from touchstone.platform.runtime.settings import Settings


@pytest.fixture
def health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    servicer = health.HealthServicer()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port, servicer
    server.stop(None)


def test_a_wildcard_host_is_probed_on_loopback() -> None:
    settings = Settings(grpc_host="0.0.0.0", grpc_ports={"journey": 50052})
    assert local_address(settings, "journey") == "127.0.0.1:50052"
    assert local_address(Settings(grpc_host="10.0.0.5"), "notify") == "10.0.0.5:50054"


def test_serving_exits_zero_and_not_serving_exits_one(
    health_server: tuple[int, health.HealthServicer], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, servicer = health_server
    monkeypatch.setenv("TOUCHSTONE_GRPC_HOST", "0.0.0.0")
    monkeypatch.setenv("TOUCHSTONE_JOURNEY_GRPC_PORT", str(port))
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert main(["journey"]) == 0
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert main(["journey"]) == 1


def test_nothing_listening_exits_one(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setenv("TOUCHSTONE_LOYALTY_GRPC_PORT", str(free))
    assert main(["loyalty"]) == 1


def test_an_unknown_service_is_a_usage_error() -> None:
    assert main(["billing"]) == 2
    assert main([]) == 2
