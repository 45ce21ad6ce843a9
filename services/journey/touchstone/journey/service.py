"""How the journey service is assembled from its parts."""

from pathlib import Path

from touchstone.journey.api import JourneyApi
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.promotion_store import PostgresPromotions
from touchstone.journey.settlement_store import PostgresSettlements
from touchstone.journey.standards import StandardSet, load_standards
from touchstone.journey.store import PostgresJourneyStore
from touchstone.journey.v1 import journey_service_pb2_grpc as pb_grpc
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.platform.messaging.topic_feed import TopicFeed
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    JOURNEY_DLQ,
    JOURNEY_MOMENTS,
    JOURNEY_STANDARDS,
    JOURNEY_VISITS,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import ReplayRules, ServiceSpec
from touchstone.shared_kernel.calendar_file import load_calendars
from touchstone.shared_kernel.journey_maps import load_maps


class PostgresJourney(PostgresJourneyStore, PostgresSettlements, PostgresPromotions):
    """Journey's tables: moments, visits, deadlines, the event clock, standards promoted."""


def standards_in_force(settings: Settings) -> StandardSet:
    """The deployment's standards (TOUCHSTONE_STANDARDS_FILE) or the defaults, over its maps;
    a version promoted since supersedes them (the handler and the API follow promotions)."""
    return load_standards(settings.standards_file, load_maps(settings.maps_dir))


def scorer(store: PostgresJourney, settings: Settings) -> ScoreMoments:
    """The handler, with the deployment's standards and business calendars."""
    standards = standards_in_force(settings).standards
    calendars = load_calendars(settings.calendars_file)
    return ScoreMoments(store, standards, calendars, maps=load_maps(settings.maps_dir))


def moment_feed(settings: Settings) -> TopicFeed[MomentScored]:
    """The live feed of journey's moments, behind WatchMoments."""
    return TopicFeed(settings, JOURNEY_MOMENTS, MomentScored)


SPEC = ServiceSpec(
    name="journey",
    input_topics=(CONTACTS_RECORDED, JOURNEY_STANDARDS),
    dead_letter_topic=JOURNEY_DLQ,
    output_topics=(JOURNEY_MOMENTS, JOURNEY_VISITS, JOURNEY_STANDARDS),  # standards promoted
    migrations=Path(__file__).parent / "migrations",
    store=lambda pool, settings: PostgresJourney(pool),
    handler=scorer,
    servicer=lambda store, settings: JourneyApi(
        store,
        standards_in_force(settings),
        load_maps(settings.maps_dir),
        moment_feed(settings),
        load_calendars(settings.calendars_file),
    ),
    grpc_service="touchstone.journey.v1.JourneyService",
    add_servicer=pb_grpc.add_JourneyServiceServicer_to_server,
    relays_outbox=True,  # lost moments of missed deadlines
    replay=ReplayRules(
        carried_over=("outbox",),  # what the old state had not published yet
        # when journey took them in, and in what order of a sequence retries may skip in
        unchecked={"standards_versions": ("taken_at", "seq")},
    ),
)
