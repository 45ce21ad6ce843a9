"""gRPC health checks, as operators and the local stack use them."""

from __future__ import annotations

import sys
import time
from functools import partial

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from touchstone.platform.runtime.settings import SERVICES, Settings, settings_from_env
from touchstone.platform.security.transport import client_channel


def health_status(
    address: str, service: str = "", timeout: float = 1.0, settings: Settings | None = None
) -> str:
    """SERVING, NOT_SERVING, UNKNOWN, or UNREACHABLE when nothing answers (over TLS when the
    settings name a CA)."""
    channel_to = grpc.insecure_channel if settings is None else partial(client_channel, settings)
    with channel_to(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError:
            return "UNREACHABLE"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def wait_until_serving(address: str, timeout: float) -> None:
    """Block until the server at address reports SERVING, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while (status := health_status(address)) != "SERVING":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address} is {status} after {timeout}s")
        time.sleep(0.2)


def local_address(settings: Settings, service: str) -> str:
    """Where a probe in the service's own container reaches it (a wildcard host is itself)."""
    host = "127.0.0.1" if settings.grpc_host in ("0.0.0.0", "::", "") else settings.grpc_host
    return f"{host}:{settings.grpc_ports[service]}"


def main(argv: list[str] | None = None) -> int:
    """`python -m touchstone.platform.runtime.health SERVICE`: exit 0 when SERVING (container
    probes)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in SERVICES:
        print(f"usage: python -m touchstone.platform.runtime.health {{{','.join(SERVICES)}}}")
        return 2
    settings = settings_from_env()
    status = health_status(local_address(settings, args[0]), timeout=3.0, settings=settings)
    print(status)
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
