"""gRPC transport: TLS and mutual TLS on a real grpc.aio server, and plaintext only where it is
allowed (loopback, or a mesh the operator names)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health as health_aio_module
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.pki import Pki, make_pki
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import GrpcService
from touchstone.platform.security.hosts import PlaintextRefused
from touchstone.platform.security.transport import (
    CertificateFiles,
    ServerTls,
    client_channel,
    server_tls,
)
from touchstone.platform.serving.rpc import start_health_server, start_server


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


def test_a_tls_server_can_tell_plaintext_probes_its_health_and_nothing_else(pki: Pki) -> None:
    async def run() -> tuple[str, str, str, str]:
        address, health_address = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        tls = server_tls(Settings(grpc_tls_cert=pki.server_cert, grpc_tls_key=pki.server_key), "")
        assert tls is not None
        server, health = await start_server(address, [], (), tls.credentials(), ready=False)
        probe_server = await start_health_server(health_address, health)
        try:
            plaintext = Settings()
            before = await asyncio.to_thread(_check, plaintext, health_address)
            await health.set("", health_pb2.HealthCheckResponse.SERVING)
            after = await asyncio.to_thread(_check, plaintext, health_address)
            other = await asyncio.to_thread(_reflect, health_address)
            main_in_clear = await asyncio.to_thread(_check, plaintext, address)
            return before, after, other, main_in_clear
        finally:
            await probe_server.stop(None)
            await server.stop(None)

    # the probe sees what the TLS server's health says; nothing else is served in clear
    assert asyncio.run(run()) == ("NOT_SERVING", "SERVING", "UNIMPLEMENTED", "UNAVAILABLE")


def _reflect(address: str) -> str:
    with grpc.insecure_channel(address) as channel:
        list_services = channel.unary_unary(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        )
        try:
            list_services(b"", timeout=3)
        except grpc.RpcError as error:
            return str(error.code().name)
    return "OK"


def test_a_renewed_certificate_is_served_to_the_next_connection_without_a_restart(
    pki: Pki, tmp_path: Path
) -> None:
    (tmp_path / "renewed").mkdir()
    renewed = make_pki(tmp_path / "renewed")  # another CA: only its clients trust the new one
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_bytes(pki.server_cert.read_bytes())
    key.write_bytes(pki.server_key.read_bytes())
    files = CertificateFiles(ServerTls(cert, key), every_s=0.0)

    async def run() -> list[str]:
        address = f"127.0.0.1:{free_port()}"
        credentials = grpc.dynamic_ssl_server_credentials(files.configuration(), files.renewed)
        server, _ = await start_server(address, [], (), credentials)
        old, new = Settings(grpc_tls_ca=pki.ca), Settings(grpc_tls_ca=renewed.ca)
        try:
            seen = [await asyncio.to_thread(_check, old, address)]
            cert.write_bytes(renewed.server_cert.read_bytes())  # as cert-manager renews it
            key.write_bytes(renewed.server_key.read_bytes())
            seen.append(await asyncio.to_thread(_check, new, address))
            seen.append(await asyncio.to_thread(_check, old, address))
            return seen
        finally:
            await server.stop(None)

    assert asyncio.run(run()) == ["SERVING", "SERVING", "UNAVAILABLE"]


def test_a_certificate_that_cannot_be_read_again_keeps_the_current_one(
    pki: Pki, tmp_path: Path
) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_bytes(pki.server_cert.read_bytes())
    key.write_bytes(pki.server_key.read_bytes())
    files = CertificateFiles(ServerTls(cert, key), every_s=0.0)
    assert files.renewed() is None  # unchanged
    key.unlink()
    assert files.renewed() is None  # gone mid-rewrite: keep serving what we have
    assert CertificateFiles(ServerTls(cert, pki.server_key), every_s=3600).renewed() is None


def test_a_workers_grpc_service_opens_the_health_port_beside_its_tls_port(pki: Pki) -> None:
    async def run() -> list[str]:
        address, health_address = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        tls = ServerTls(pki.server_cert, pki.server_key)
        service = GrpcService(address, [], "journey", [], tls, 4 << 20, health_address)
        await service.start()
        try:
            plaintext, trusting = Settings(), Settings(grpc_tls_ca=pki.ca)
            seen = [await asyncio.to_thread(_check, plaintext, health_address)]
            await service.set_ready(True)
            seen.append(await asyncio.to_thread(_check, plaintext, health_address))
            seen.append(await asyncio.to_thread(_check, trusting, address))
            return seen
        finally:
            await service.stop()

    assert asyncio.run(run()) == ["NOT_SERVING", "SERVING", "SERVING"]


def test_a_health_port_already_taken_is_an_error_not_a_shared_port() -> None:
    async def run() -> str:
        address = f"127.0.0.1:{free_port()}"
        health = health_aio_module.aio.HealthServicer()
        first = await start_health_server(address, health)
        try:
            await start_health_server(address, health)
        except OSError as error:
            return str(error)
        finally:
            await first.stop(None)
        return "shared"

    assert asyncio.run(run()).endswith("is the port taken?")
