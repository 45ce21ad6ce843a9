"""How the journey service is assembled from its parts."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from journey.api import JourneyApi
from journey.handlers import ScoreMoments
from journey.standards import DEFAULT_STANDARDS
from journey.store import PostgresJourneyStore
from touchstone.common.rpc import ServiceBinding
from touchstone.common.settings import Settings
from touchstone.common.topics import CONTACTS_RECORDED
from touchstone.common.worker import ServiceSpec
from touchstone.journey.v1 import journey_service_pb2_grpc as pb_grpc


def make_handler(pool: AsyncConnectionPool, settings: Settings) -> ScoreMoments:
    """The batch handler over Postgres with the default standards."""
    return ScoreMoments(PostgresJourneyStore(pool), DEFAULT_STANDARDS)


def make_bindings(pool: AsyncConnectionPool, settings: Settings) -> list[ServiceBinding]:
    """The gRPC services journey serves."""
    return [
        ServiceBinding(
            "touchstone.journey.v1.JourneyService",
            JourneyApi(PostgresJourneyStore(pool)),
            pb_grpc.add_JourneyServiceServicer_to_server,
        )
    ]


SPEC = ServiceSpec(
    name="journey",
    input_topics=(CONTACTS_RECORDED,),
    migrations=Path(__file__).parent / "migrations",
    make_handler=make_handler,
    make_bindings=make_bindings,
)
