"""How the contacts service is assembled from its parts."""

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import mode

from touchstone.contacts.api import ContactsApi
from touchstone.contacts.dead_letter_retention import ForgetOldDeadLetterBytes
from touchstone.contacts.dlq_store import PostgresDeadLetters
from touchstone.contacts.domain import IngestPolicy
from touchstone.contacts.erasure_store import PostgresErasure
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.identity_keys import IdentityKeys, identity_keys_of
from touchstone.contacts.merge_store import PostgresMerges
from touchstone.contacts.profile_store import PostgresProfiles
from touchstone.contacts.store import PostgresContactsStore
from touchstone.contacts.v1 import contacts_service_pb2_grpc as pb_grpc
from touchstone.platform.messaging.topics import (
    CONTACTS_KEYS,
    CONTACTS_PROFILES,
    CONTACTS_RECORDED,
    TOUCHPOINTS,
    TOUCHPOINTS_DLQ,
)
from touchstone.platform.runtime.backlog import BACKLOG
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import ReplayRules, ServiceSpec
from touchstone.shared_kernel.calendar_file import load_calendars
from touchstone.shared_kernel.journey_maps import load_maps

log = logging.getLogger(__name__)


def ingest_policy(settings: Settings) -> IngestPolicy:
    """The ingest policy, knowing every journey map's stages and their vocabulary."""
    maps = load_maps(settings.maps_dir)
    stages = {
        m.id: {stage.id: dict(stage.measurements) for stage in m.stages} for m in maps.values()
    }
    vocabulary = {(m.id, stage.id): stage for m in maps.values() for stage in m.stages}
    calendars = load_calendars(settings.calendars_file)
    return IngestPolicy(
        stages=stages,
        vocabulary=vocabulary,
        calendars=calendars,
        max_bytes=settings.max_touchpoint_bytes,
        identity_keys=identity_keys(settings),
    )


def identity_keys(settings: Settings) -> IdentityKeys:
    """The key ring for keyed identity hashes; BadIdentityKeys if there is none to use."""
    return identity_keys_of(settings.identity_keys, settings.embedded)


class RekeyErasedIdentities(mode.Service):
    """At start, keys the erased identities remembered before migration 009 (once: none are
    left after)."""

    def __init__(self, store: PostgresErasure, **kwargs: Any) -> None:
        self.store = store
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        if rekeyed := await self.store.rekey_erased():
            log.info("contacts: %d erased identities rekeyed", rekeyed)


class PostgresContacts(
    PostgresContactsStore, PostgresDeadLetters, PostgresProfiles, PostgresMerges, PostgresErasure
):
    """Contacts' tables: touchpoints, customers, their profiles and merges, the dead letters."""


SPEC = ServiceSpec(
    name="contacts",
    input_topics=(TOUCHPOINTS,),
    dead_letter_topic=TOUCHPOINTS_DLQ,
    # touchpoints.v1: a redriven dead letter goes back through admission
    output_topics=(TOUCHPOINTS, CONTACTS_RECORDED, CONTACTS_PROFILES, CONTACTS_KEYS),
    migrations=Path(__file__).parent / "migrations",
    preflight=identity_keys,
    store=lambda pool, settings: PostgresContacts(pool, identity_keys(settings)),
    background=lambda store, settings: [
        RekeyErasedIdentities(store),
        ForgetOldDeadLetterBytes(store, timedelta(days=settings.dead_letter_bytes_days)),
    ],
    handler=lambda store, settings: RecordTouchpoints(store, ingest_policy(settings)),
    servicer=lambda store, settings: ContactsApi(
        store,
        ingest_policy(settings),
        backlog=lambda: BACKLOG.of("contacts"),
        max_lag=settings.ingest_max_lag,
    ),
    grpc_service="touchstone.contacts.v1.ContactsService",
    add_servicer=pb_grpc.add_ContactsServiceServicer_to_server,
    relays_outbox=True,
    reports_progress=True,
    follows_merges=False,
    replay=ReplayRules(
        refused="contacts keeps the customers registered, changed, merged and erased over gRPC "
        "only in its own tables (and publishes them), not in its input topic touchpoints.v1: "
        "back up its schema instead"
    ),
)
