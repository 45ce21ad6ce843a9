"""How the notify service is assembled from its parts."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from notify.api import NotifyApi
from notify.handlers import OpenRecoveryCases
from notify.store import PostgresNotifyStore
from touchstone.common.rpc import ServiceBinding
from touchstone.common.settings import Settings
from touchstone.common.topics import JOURNEY_MOMENTS
from touchstone.common.worker import ServiceSpec
from touchstone.notify.v1 import notify_service_pb2_grpc as pb_grpc


def make_handler(pool: AsyncConnectionPool, settings: Settings) -> OpenRecoveryCases:
    """The batch handler over Postgres."""
    return OpenRecoveryCases(PostgresNotifyStore(pool))


def make_bindings(pool: AsyncConnectionPool, settings: Settings) -> list[ServiceBinding]:
    """The gRPC services notify serves."""
    return [
        ServiceBinding(
            "touchstone.notify.v1.NotifyService",
            NotifyApi(PostgresNotifyStore(pool)),
            pb_grpc.add_NotifyServiceServicer_to_server,
        )
    ]


SPEC = ServiceSpec(
    name="notify",
    input_topics=(JOURNEY_MOMENTS,),
    migrations=Path(__file__).parent / "migrations",
    make_handler=make_handler,
    make_bindings=make_bindings,
)
