"""gRPC (and its HTTP/JSON face): where the servers listen and clients call them, their TLS,
and the limits every caller is held to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.runtime.settings.declared import per_service, setting

DEFAULT_GRPC_PORTS = {"contacts": 50051, "journey": 50052, "loyalty": 50053, "notify": 50054}
DEFAULT_METRICS_PORTS = {"contacts": 9101, "journey": 9102, "loyalty": 9103, "notify": 9104}
DEFAULT_HTTP_PORTS = {"contacts": 8081, "journey": 8082, "loyalty": 8083, "notify": 8084}


@dataclass(frozen=True)
class GrpcSettings:
    """The servers' addresses, ports, TLS and limits (TOUCHSTONE_GRPC_*, ports, rates)."""

    grpc_host: str = setting(
        "TOUCHSTONE_GRPC_HOST", "127.0.0.1", doc="the address the gRPC servers bind"
    )
    grpc_ports: Mapping[str, int] = per_service(
        "TOUCHSTONE_{}_GRPC_PORT", DEFAULT_GRPC_PORTS, high=65_535, doc="gRPC ports"
    )
    metrics_ports: Mapping[str, int] = per_service(
        "TOUCHSTONE_{}_METRICS_PORT",
        DEFAULT_METRICS_PORTS,
        high=65_535,
        doc="Prometheus `/metrics` on `TOUCHSTONE_GRPC_HOST` (`0`: none; a port taken is "
        "logged, not fatal)",
    )
    http_ports: Mapping[str, int] = per_service(
        "TOUCHSTONE_{}_HTTP_PORT",
        DEFAULT_HTTP_PORTS,
        high=65_535,
        doc="the same API as HTTP/JSON (Connect protocol, `docs/openapi.json`) on "
        "`TOUCHSTONE_GRPC_HOST`, HTTPS with the gRPC certificate when it has one (`0`: none; a "
        "port taken stops the service)",
    )
    service_addresses: Mapping[str, str] = per_service(
        "TOUCHSTONE_{}_ADDRESS",
        {},
        shown="`TOUCHSTONE_GRPC_HOST` and the service's port",
        doc="`host:port` where clients (the console, the `touchstone` command) call each "
        "service, when it runs elsewhere (compose: `contacts:50051`; Kubernetes: its Service)",
    )
    grpc_tls_cert: Path | None = setting(
        "TOUCHSTONE_GRPC_TLS_CERT",
        None,
        doc="the servers' certificate (PEM): with it and the key, every gRPC server speaks TLS "
        "only",
    )
    grpc_tls_key: Path | None = setting(
        "TOUCHSTONE_GRPC_TLS_KEY", None, doc="the servers' key (PEM), with the certificate"
    )
    grpc_tls_client_ca: Path | None = setting(
        "TOUCHSTONE_GRPC_TLS_CLIENT_CA",
        None,
        doc="servers: clients must present a certificate from this CA (mutual TLS)",
    )
    grpc_tls_ca: Path | None = setting(
        "TOUCHSTONE_GRPC_TLS_CA",
        None,
        doc="clients (the `touchstone` command, health probes): the CA servers' certificates "
        "chain to (TLS on)",
    )
    grpc_tls_client_cert: Path | None = setting(
        "TOUCHSTONE_GRPC_TLS_CLIENT_CERT",
        None,
        doc="clients: their own certificate, for mutual TLS",
    )
    grpc_tls_client_key: Path | None = setting(
        "TOUCHSTONE_GRPC_TLS_CLIENT_KEY", None, doc="clients: their own key, for mutual TLS"
    )
    grpc_plaintext: bool = setting(
        "TOUCHSTONE_GRPC_PLAINTEXT",
        False,
        doc="allow plaintext gRPC beyond the loopback interface (a service mesh encrypts it); "
        "without TLS or this, a server on a non-loopback address refuses to start",
    )
    grpc_health_port: int = setting(
        "TOUCHSTONE_GRPC_HEALTH_PORT",
        0,
        high=65_535,
        doc="a plaintext port on `TOUCHSTONE_GRPC_HOST` that answers `grpc.health.v1` alone "
        "(for probes that cannot speak TLS; one service a pod); `0`: none",
    )
    rate_ingest_per_s: float = setting(
        "TOUCHSTONE_RATE_INGEST",
        500.0,
        doc="ingest calls a second per caller and worker (burst: twice that; `0`: unlimited)",
    )
    rate_calls_per_s: float = setting(
        "TOUCHSTONE_RATE_CALLS",
        100.0,
        doc="every other call, a second per caller and worker (burst: twice that; `0`: unlimited)",
    )
    max_streams: int = setting(
        "TOUCHSTONE_MAX_STREAMS",
        16,
        doc="streams (server or client) one caller may hold open on a worker (`0`: unlimited)",
    )
    max_call_s: float = setting(
        "TOUCHSTONE_MAX_CALL_S",
        30.0,
        doc="the longest a unary call may run on the server (`0`: no limit of its own)",
    )
    max_request_bytes: int = setting(
        "TOUCHSTONE_MAX_REQUEST_BYTES",
        4 * 1024 * 1024,
        low=1024,
        doc="larger requests end `RESOURCE_EXHAUSTED`",
    )

    def grpc_address(self, service: str) -> str:
        """host:port the named service's gRPC server listens on."""
        return f"{self.grpc_host}:{self.grpc_ports[service]}"

    def service_address(self, service: str) -> str:
        """host:port a client calls the named service at (the console, the CLI)."""
        return self.service_addresses.get(service) or self.grpc_address(service)

    def http_url(self, service: str) -> str:
        """Where the named service answers HTTP/JSON ('' when it does not)."""
        port = self.http_ports.get(service, 0)
        if not port:
            return ""
        scheme = "https" if self.grpc_tls_cert else "http"
        host = f"[{self.grpc_host}]" if ":" in self.grpc_host else self.grpc_host
        return f"{scheme}://{host}:{port}"
