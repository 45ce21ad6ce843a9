"""How the notify service is assembled from its parts."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from touchstone.notify.api import NotifyApi
from touchstone.notify.channels import Channel, EmailChannel, SmtpSecurity, WebhookChannel
from touchstone.notify.control_figures_store import PostgresControlFigures
from touchstone.notify.deliveries import DEFAULT_DELIVERY_POLICY
from touchstone.notify.delivery_store import PostgresDeliveries
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.messages import load_templates
from touchstone.notify.playbooks import load_playbooks
from touchstone.notify.sender import Sender
from touchstone.notify.store import PostgresNotifyStore
from touchstone.notify.sweeper import Sweeper
from touchstone.notify.v1 import notify_service_pb2_grpc as pb_grpc
from touchstone.notify.v1.events_pb2 import CaseEvent, TaskEvent
from touchstone.platform.messaging.topic_feed import TopicFeed
from touchstone.platform.messaging.topics import (
    CONTACTS_KEYS,
    CONTACTS_PROFILES,
    CONTACTS_RECORDED,
    JOURNEY_MOMENTS,
    JOURNEY_VISITS,
    LOYALTY_VALUES,
    NOTIFY_CASES,
    NOTIFY_DLQ,
    NOTIFY_TASKS,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import ReplayRules, ServiceSpec
from touchstone.shared_kernel.calendar_file import load_calendars


def sender(store: PostgresNotifyStore, settings: Settings) -> Sender:
    """The sender over notify's delivery outbox, with the channels the settings configure;
    refuses to start if a playbook's system step sends a message no template writes."""
    templates = load_templates(settings.messages_dir)
    templates.check_covers(load_playbooks(settings.playbooks_file))
    policy = replace(
        DEFAULT_DELIVERY_POLICY,
        lease=timedelta(seconds=settings.delivery_lease_s),
        messages_per_day=settings.messages_per_day,
    )
    deliveries = PostgresDeliveries(
        store.pool,
        templates,
        load_calendars(settings.calendars_file),
        policy,
        webhook_configured=bool(settings.webhook_url),
    )
    channels: dict[str, Channel] = {
        "email": EmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            security=SmtpSecurity(
                settings.smtp_tls_ca,
                settings.smtp_username,
                settings.smtp_password,
                settings.smtp_plaintext,
            ),
        )
    }
    try:
        channels["webhook"] = WebhookChannel(settings.webhook_url, settings.webhook_secret)
    except ValueError as refused:  # a URL or secret the channel will not send with
        raise SystemExit(f"notify: {refused}") from None
    return Sender(deliveries, channels)


SPEC = ServiceSpec(
    name="notify",
    input_topics=(
        JOURNEY_MOMENTS,
        JOURNEY_VISITS,
        LOYALTY_VALUES,
        CONTACTS_PROFILES,
        CONTACTS_KEYS,
        CONTACTS_RECORDED,
    ),
    dead_letter_topic=NOTIFY_DLQ,
    output_topics=(NOTIFY_CASES, NOTIFY_TASKS),
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
        figures=PostgresControlFigures(store.pool),
        calendars=load_calendars(settings.calendars_file),
    ),
    background=lambda store, settings: [
        Sweeper(store, load_playbooks(settings.playbooks_file).policy, settings.sweep_every_s),
        sender(store, settings),
    ],
    grpc_service="touchstone.notify.v1.NotifyService",
    follows_merges=False,  # reads contacts.profiles.v1 itself: merges, and how to reach people
    relays_outbox=True,  # staff commands' events
    add_servicer=pb_grpc.add_NotifyServiceServicer_to_server,
    replay=ReplayRules(
        refused="notify's clock (steps due, escalations, lost cases), staff commands and "
        "deliveries made are decisions kept only in its own tables, not in its input topics: "
        "back up its schema instead"
    ),
)
