"""How gRPC traffic is protected: TLS (mutual TLS optionally) on every server and client.

Plaintext is allowed only on the loopback interface (the embedded local stack), or where the
operator says a service mesh encrypts the traffic (TOUCHSTONE_GRPC_PLAINTEXT=1).
"""

from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.hosts import PlaintextRefused, is_loopback

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerTls:
    """A server's certificate and key, and the CA its clients' certificates must chain to."""

    cert: Path
    key: Path
    client_ca: Path | None = None  # given: mutual TLS, a client without a certificate is refused

    def credentials(self) -> grpc.ServerCredentials:
        """The gRPC server credentials. A renewed certificate (cert-manager rewrites the files
        before the old one expires) is taken up by the next connection, without a restart."""
        files = CertificateFiles(self)
        return grpc.dynamic_ssl_server_credentials(
            files.configuration(),
            files.renewed,
            require_client_authentication=self.client_ca is not None,
        )


class CertificateFiles:
    """A server's certificate files, read again when they change. gRPC asks `renewed` as each
    connection arrives; the files are looked at at most once every `every_s`."""

    def __init__(self, tls: ServerTls, every_s: float = 1.0) -> None:
        self.tls = tls
        self.every_s = every_s
        self._looked_at = time.monotonic()
        self._seen = self._stamp()

    def configuration(self) -> Any:
        """The certificate configuration the files hold now."""
        tls = self.tls
        return grpc.ssl_server_certificate_configuration(
            [(tls.key.read_bytes(), tls.cert.read_bytes())],
            root_certificates=tls.client_ca.read_bytes() if tls.client_ca else None,
        )

    def renewed(self) -> Any:
        """The new configuration if the files changed since they were last read, else None."""
        if not self.changed():
            return None
        try:
            return self.configuration()
        except OSError as error:  # mid-rewrite, or gone: keep serving the certificate we have
            log.warning("certificate files not read again (%s); keeping the current", error)
            self._seen = ()  # read them again at the next look
            return None

    def changed(self) -> bool:
        """Whether the files changed since this was last true (looked at once every every_s);
        a file that cannot be read is no change: the server keeps the certificate it has."""
        now = time.monotonic()
        if now - self._looked_at < self.every_s:
            return False
        self._looked_at = now
        try:
            stamp = self._stamp()
        except OSError as error:
            log.warning("certificate files not read again (%s); keeping the current", error)
            return False
        if stamp == self._seen:
            return False
        self._seen = stamp
        log.info("certificate files changed: new connections get the renewed certificate")
        return True

    def ssl_context(self) -> ssl.SSLContext:
        """The same certificate (and client CA) for an HTTPS server."""
        tls = self.tls
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert, tls.key)
        if tls.client_ca is not None:
            context.load_verify_locations(cafile=str(tls.client_ca))
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def _stamp(self) -> tuple[tuple[int, int], ...]:
        paths = [self.tls.cert, self.tls.key, *([self.tls.client_ca] if self.tls.client_ca else [])]
        return tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in paths)


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


def channel_credentials(settings: Settings) -> grpc.ChannelCredentials | None:
    """A client's TLS credentials when settings name a CA (with a client certificate for mTLS);
    None for plaintext."""
    if settings.grpc_tls_ca is None:
        return None
    cert = settings.grpc_tls_client_cert
    key = settings.grpc_tls_client_key
    return grpc.ssl_channel_credentials(
        root_certificates=settings.grpc_tls_ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )


def client_channel(settings: Settings, address: str) -> grpc.Channel:
    """A channel to address: TLS when settings name a CA (and a client certificate for mTLS)."""
    credentials = channel_credentials(settings)
    if credentials is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, credentials)


def async_client_channel(settings: Settings, address: str) -> grpc.aio.Channel:
    """client_channel for asyncio callers."""
    credentials = channel_credentials(settings)
    if credentials is None:
        return grpc.aio.insecure_channel(address)
    return grpc.aio.secure_channel(address, credentials)
