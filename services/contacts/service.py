"""How the contacts service is assembled from its parts."""

from pathlib import Path

from contacts.api import ContactsApi
from contacts.dlq_store import PostgresDeadLetters
from contacts.handlers import RecordTouchpoints
from contacts.store import PostgresContactsStore
from touchstone.common.topics import TOUCHPOINTS
from touchstone.common.worker import ServiceSpec
from touchstone.contacts.v1 import contacts_service_pb2_grpc as pb_grpc


class PostgresContacts(PostgresContactsStore, PostgresDeadLetters):
    """Contacts' tables: touchpoints and customers, and the dead letters beside them."""


SPEC = ServiceSpec(
    name="contacts",
    input_topics=(TOUCHPOINTS,),
    migrations=Path(__file__).parent / "migrations",
    store=PostgresContacts,
    handler=lambda store, settings: RecordTouchpoints(store),
    servicer=ContactsApi,
    grpc_service="touchstone.contacts.v1.ContactsService",
    add_servicer=pb_grpc.add_ContactsServiceServicer_to_server,
    relays_outbox=True,
)
