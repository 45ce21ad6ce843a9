"""gRPC clients for the four services, as any front-end would use them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import grpc

from touchstone.contacts.v1 import contacts_service_pb2_grpc as contacts
from touchstone.journey.v1 import journey_service_pb2_grpc as journey
from touchstone.loyalty.v1 import loyalty_service_pb2_grpc as loyalty
from touchstone.notify.v1 import notify_service_pb2_grpc as notify
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.platform.security.bearer import authenticated, may_send_token
from touchstone.platform.security.transport import client_channel
from touchstone.tools.ops.dev_keys import DevKeys, mint

T = TypeVar("T")
MAX_PACE_S = 5.0  # give up once a wait would be longer


class Clients:
    """One channel per service; use as a context manager to close them."""

    def __init__(self, settings: Settings, token: str | None = None, role: str = "admin") -> None:
        """Channels to settings' services, sending the token (by default: token_for the role)."""
        bearer = token_for(settings, role) if token is None else token
        addresses = [settings.service_address(name) for name in SERVICES]
        for address in addresses:
            if bearer and not may_send_token(settings, address):
                raise ValueError(
                    f"{address} is not this machine and TLS is off: set TOUCHSTONE_GRPC_TLS_CA "
                    f"(or TOUCHSTONE_GRPC_PLAINTEXT=1 inside a mesh)"
                )
        self._channels = [client_channel(settings, address) for address in addresses]
        calls = [authenticated(channel, bearer) for channel in self._channels]
        self.contacts = contacts.ContactsServiceStub(calls[0])
        self.journey = journey.JourneyServiceStub(calls[1])
        self.loyalty = loyalty.LoyaltyServiceStub(calls[2])
        self.notify = notify.NotifyServiceStub(calls[3])

    def close(self) -> None:
        """Close every channel."""
        for channel in self._channels:
            channel.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def paced(call: Callable[..., T], request: object, timeout: float = 10.0) -> T:
    """The call's reply, waiting and trying again while the server says the caller's rate limit
    is reached (RESOURCE_EXHAUSTED); any other error is raised."""
    delay = 0.05
    while True:
        try:
            return call(request, timeout=timeout)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or delay > MAX_PACE_S:
                raise
            time.sleep(delay)
            delay *= 2


def token_for(settings: Settings, role: str = "admin", subject: str = "") -> str:
    """The token a client of these settings sends: TOUCHSTONE_TOKEN if set; otherwise, with a
    development signing key, one minted for the role; otherwise none."""
    if settings.token:
        return settings.token
    signing_key = settings.auth_signing_key
    if signing_key is None and settings.embedded:  # `make run`'s, from another shell
        signing_key = DevKeys(settings.state_dir / "keys").signing_key
    if signing_key is None or not signing_key.exists():
        return ""
    return mint(
        signing_key,
        subject=subject or f"dev-{role}",
        roles=[role],
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
    )
