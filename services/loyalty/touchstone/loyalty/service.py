"""How the loyalty service is assembled from its parts."""

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from touchstone.loyalty.api import LoyaltyApi
from touchstone.loyalty.churn import load_model
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.store import PostgresLoyaltyStore
from touchstone.loyalty.tiers import load_tiers
from touchstone.loyalty.v1 import loyalty_service_pb2_grpc as pb_grpc
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.platform.messaging.topic_feed import TopicFeed
from touchstone.platform.messaging.topics import (
    CONTACTS_PROFILES,
    CONTACTS_RECORDED,
    JOURNEY_MOMENTS,
    LOYALTY_DLQ,
    LOYALTY_VALUES,
    NOTIFY_CASES,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import ReplayRules, ServiceSpec


def loyalty_store(pool: AsyncConnectionPool, settings: Settings) -> PostgresLoyaltyStore:
    """The store, cutting tiers as the settings' tiers file says."""
    return PostgresLoyaltyStore(pool, load_tiers(settings.tiers_file))


def value_customers(store: PostgresLoyaltyStore, settings: Settings) -> ValueCustomers:
    """The handler, under the settings' churn model."""
    return ValueCustomers(store, load_model(settings.churn_model_file))


def loyalty_api(store: PostgresLoyaltyStore, settings: Settings) -> LoyaltyApi:
    """The gRPC servicer, valuing and tiering customers as the handler and store do."""
    valuer = value_customers(store, settings)
    feed = TopicFeed(settings, LOYALTY_VALUES, ValueUpdated)
    return LoyaltyApi(store, valuer.value, store.tiers, feed=feed, historian=valuer.history)


SPEC = ServiceSpec(
    name="loyalty",
    input_topics=(CONTACTS_RECORDED, CONTACTS_PROFILES, JOURNEY_MOMENTS, NOTIFY_CASES),
    follows_merges=False,  # it folds merges and erasures itself, with the values they change
    dead_letter_topic=LOYALTY_DLQ,
    output_topics=(LOYALTY_VALUES,),
    relays_outbox=True,  # what a batch changed is told from the transaction that changed it
    migrations=Path(__file__).parent / "migrations",
    store=loyalty_store,
    handler=value_customers,
    servicer=lambda store, settings: loyalty_api(store, settings),
    grpc_service="touchstone.loyalty.v1.LoyaltyService",
    add_servicer=pb_grpc.add_LoyaltyServiceServicer_to_server,
    replay=ReplayRules(
        carried_over=("outbox",),  # what the old state had not published yet: a rebuild's own
        # news is history already told
    ),
)
