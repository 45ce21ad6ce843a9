"""How the contacts service is assembled from its parts."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from contacts.api import ContactsApi
from contacts.handlers import RecordTouchpoints
from contacts.store import PostgresContactsStore
from touchstone.common.rpc import ServiceBinding
from touchstone.common.settings import Settings
from touchstone.common.topics import TOUCHPOINTS
from touchstone.common.worker import ServiceSpec
from touchstone.contacts.v1 import contacts_service_pb2_grpc as pb_grpc


def make_handler(pool: AsyncConnectionPool, settings: Settings) -> RecordTouchpoints:
    """The batch handler over Postgres."""
    return RecordTouchpoints(PostgresContactsStore(pool))


def make_bindings(pool: AsyncConnectionPool, settings: Settings) -> list[ServiceBinding]:
    """The gRPC services contacts serves."""
    return [
        ServiceBinding(
            "touchstone.contacts.v1.ContactsService",
            ContactsApi(PostgresContactsStore(pool)),
            pb_grpc.add_ContactsServiceServicer_to_server,
        )
    ]


SPEC = ServiceSpec(
    name="contacts",
    input_topics=(TOUCHPOINTS,),
    migrations=Path(__file__).parent / "migrations",
    make_handler=make_handler,
    make_bindings=make_bindings,
)
