"""How the notify service is assembled from its parts."""

from pathlib import Path

from notify.api import NotifyApi
from notify.handlers import OpenRecoveryCases
from notify.playbooks import load_playbooks
from notify.store import PostgresNotifyStore
from notify.sweeper import Sweeper
from touchstone.common.calendar_file import load_calendars
from touchstone.common.topic_feed import TopicFeed
from touchstone.common.topics import (
    JOURNEY_MOMENTS,
    LOYALTY_VALUES,
    NOTIFY_CASES,
    NOTIFY_DLQ,
    NOTIFY_TASKS,
)
from touchstone.common.worker import ServiceSpec
from touchstone.notify.v1 import notify_service_pb2_grpc as pb_grpc
from touchstone.notify.v1.events_pb2 import CaseEvent, TaskEvent

SPEC = ServiceSpec(
    name="notify",
    input_topics=(JOURNEY_MOMENTS, LOYALTY_VALUES),
    dead_letter_topic=NOTIFY_DLQ,
    migrations=Path(__file__).parent / "migrations",
    store=lambda pool, settings: PostgresNotifyStore(pool),
    handler=lambda store, settings: OpenRecoveryCases(
        store,
        playbooks=load_playbooks(settings.playbooks_file),
        calendars=load_calendars(settings.calendars_file),
    ),
    servicer=lambda store, settings: NotifyApi(
        store,
        case_feed=TopicFeed(settings, NOTIFY_CASES, CaseEvent),
        task_feed=TopicFeed(settings, NOTIFY_TASKS, TaskEvent),
    ),
    background=lambda store, settings: [
        Sweeper(store, load_playbooks(settings.playbooks_file).policy, settings.sweep_every_s)
    ],
    grpc_service="touchstone.notify.v1.NotifyService",
    relays_outbox=True,  # staff commands' events
    add_servicer=pb_grpc.add_NotifyServiceServicer_to_server,
)
