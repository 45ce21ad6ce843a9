"""How gRPC traffic is protected: TLS (mutual TLS optionally) on every server and client.

Plaintext is allowed only on the loopback interface (the embedded local stack), or where the
operator says a service mesh encrypts the traffic (TOUCHSTONE_GRPC_PLAINTEXT=1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from touchstone.common.hosts import is_loopback
from touchstone.common.settings import Settings


class PlaintextRefused(ValueError):
    """A server would listen unencrypted beyond loopback without being told that is fine."""


@dataclass(frozen=True)
class ServerTls:
    """A server's certificate and key, and the CA its clients' certificates must chain to."""

    cert: Path
    key: Path
    client_ca: Path | None = None  # given: mutual TLS, a client without a certificate is refused

    def credentials(self) -> grpc.ServerCredentials:
        """The gRPC server credentials."""
        return grpc.ssl_server_credentials(
            [(self.key.read_bytes(), self.cert.read_bytes())],
            root_certificates=self.client_ca.read_bytes() if self.client_ca else None,
            require_client_auth=self.client_ca is not None,
        )


def server_tls(settings: Settings, host: str) -> ServerTls | None:
    """The TLS a server on host uses; None for plaintext, which must be allowed there."""
    if settings.grpc_tls_cert and settings.grpc_tls_key:
        return ServerTls(settings.grpc_tls_cert, settings.grpc_tls_key, settings.grpc_tls_client_ca)
    if settings.grpc_plaintext or is_loopback(host):
        return None
    raise PlaintextRefused(
        f"gRPC on {host} would be plaintext: set TOUCHSTONE_GRPC_TLS_CERT and "
        f"TOUCHSTONE_GRPC_TLS_KEY, or TOUCHSTONE_GRPC_PLAINTEXT=1 where a service mesh encrypts it"
    )


def client_channel(settings: Settings, address: str) -> grpc.Channel:
    """A channel to address: TLS when settings name a CA (and a client certificate for mTLS)."""
    if settings.grpc_tls_ca is None:
        return grpc.insecure_channel(address)
    cert = settings.grpc_tls_client_cert
    key = settings.grpc_tls_client_key
    credentials = grpc.ssl_channel_credentials(
        root_certificates=settings.grpc_tls_ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )
    return grpc.secure_channel(address, credentials)
