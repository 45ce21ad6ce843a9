"""gRPC transport: TLS and mutual TLS on a real grpc.aio server, and plaintext only where it is
allowed (loopback, or a mesh the operator names)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from touchstone.common.rpc import start_server
from touchstone.common.settings import Settings
from touchstone.common.transport import PlaintextRefused, client_channel, server_tls


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(
    folder: Path, common: str, ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, server: bool
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if server:
        names = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    (folder / f"{common}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{common}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("touchstone-test-ca"))
        .issuer_name(_name("touchstone-test-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _issue(folder, "server", ca_key, ca.subject, server=True)
    _issue(folder, "client", ca_key, ca.subject, server=False)
    return Pki(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "client.pem",
        folder / "client.key",
    )


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
