"""gRPC health checks, as operators and the local stack use them."""

from __future__ import annotations

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def health_status(address: str, service: str = "", timeout: float = 1.0) -> str:
    """SERVING, NOT_SERVING, UNKNOWN, or UNREACHABLE when nothing answers."""
    with grpc.insecure_channel(address) as channel:
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
