"""How the loyalty service is assembled from its parts."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from loyalty.api import LoyaltyApi
from loyalty.handlers import FoldPurchases
from loyalty.store import PostgresLoyaltyStore
from touchstone.common.rpc import ServiceBinding
from touchstone.common.settings import Settings
from touchstone.common.topics import CONTACTS_RECORDED
from touchstone.common.worker import ServiceSpec
from touchstone.loyalty.v1 import loyalty_service_pb2_grpc as pb_grpc


def make_handler(pool: AsyncConnectionPool, settings: Settings) -> FoldPurchases:
    """The batch handler over Postgres."""
    return FoldPurchases(PostgresLoyaltyStore(pool))


def make_bindings(pool: AsyncConnectionPool, settings: Settings) -> list[ServiceBinding]:
    """The gRPC services loyalty serves."""
    return [
        ServiceBinding(
            "touchstone.loyalty.v1.LoyaltyService",
            LoyaltyApi(PostgresLoyaltyStore(pool)),
            pb_grpc.add_LoyaltyServiceServicer_to_server,
        )
    ]


SPEC = ServiceSpec(
    name="loyalty",
    input_topics=(CONTACTS_RECORDED,),
    migrations=Path(__file__).parent / "migrations",
    make_handler=make_handler,
    make_bindings=make_bindings,
)
