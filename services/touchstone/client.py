"""gRPC clients for the four services, as any front-end would use them."""

from __future__ import annotations

import grpc

from touchstone.common.settings import Settings
from touchstone.contacts.v1 import contacts_service_pb2_grpc as contacts
from touchstone.journey.v1 import journey_service_pb2_grpc as journey
from touchstone.loyalty.v1 import loyalty_service_pb2_grpc as loyalty
from touchstone.notify.v1 import notify_service_pb2_grpc as notify


class Clients:
    """One channel per service; use as a context manager to close them."""

    def __init__(self, settings: Settings) -> None:
        self._channels = [
            grpc.insecure_channel(settings.grpc_address(name))
            for name in ("contacts", "journey", "loyalty", "notify")
        ]
        self.contacts = contacts.ContactsServiceStub(self._channels[0])
        self.journey = journey.JourneyServiceStub(self._channels[1])
        self.loyalty = loyalty.LoyaltyServiceStub(self._channels[2])
        self.notify = notify.NotifyServiceStub(self._channels[3])

    def close(self) -> None:
        """Close every channel."""
        for channel in self._channels:
            channel.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
