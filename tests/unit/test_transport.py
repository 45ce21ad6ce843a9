"""gRPC transport: TLS and mutual TLS on a real grpc.aio server, and plaintext only where it is
allowed (loopback, or a mesh the operator names)."""

from __future__ import annotations

import asyncio
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.pki import Pki, make_pki
from touchstone.common.rpc import start_server
from touchstone.common.settings import Settings
from touchstone.common.transport import PlaintextRefused, client_channel, server_tls


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def health_over(server_settings: Settings, client_settings: Settings) -> str:
    """SERVING, or the status code name a client with these settings gets from the server."""

    async def run() -> str:
        address = f"127.0.0.1:{free_port()}"
        tls = server_tls(server_settings, "127.0.0.1")
        server, _ = await start_server(address, [], (), tls.credentials() if tls else None)
        try:
            return await asyncio.to_thread(_check, client_settings, address)
        finally:
            await server.stop(None)

    return asyncio.run(run())


def _check(settings: Settings, address: str) -> str:
    with client_channel(settings, address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=3
            )
        except grpc.RpcError as error:
            return str(error.code().name)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def test_a_tls_server_answers_a_client_that_trusts_its_ca_and_not_a_plaintext_one(pki: Pki) -> None:
    server = Settings(grpc_tls_cert=pki.server_cert, grpc_tls_key=pki.server_key)
    assert health_over(server, Settings(grpc_tls_ca=pki.ca)) == "SERVING"
    assert health_over(server, Settings()) == "UNAVAILABLE"


def test_mutual_tls_refuses_a_client_without_a_certificate(pki: Pki) -> None:
    server = Settings(
        grpc_tls_cert=pki.server_cert, grpc_tls_key=pki.server_key, grpc_tls_client_ca=pki.ca
    )
    with_cert = Settings(
        grpc_tls_ca=pki.ca, grpc_tls_client_cert=pki.client_cert, grpc_tls_client_key=pki.client_key
    )
    assert health_over(server, with_cert) == "SERVING"
    assert health_over(server, Settings(grpc_tls_ca=pki.ca)) == "UNAVAILABLE"


def test_plaintext_only_on_loopback_or_where_a_mesh_encrypts() -> None:
    assert server_tls(Settings(), "127.0.0.1") is None
    assert server_tls(Settings(), "::1") is None
    with pytest.raises(PlaintextRefused, match="TOUCHSTONE_GRPC_TLS_CERT"):
        server_tls(Settings(), "0.0.0.0")
    assert server_tls(Settings(grpc_plaintext=True), "0.0.0.0") is None
