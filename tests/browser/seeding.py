"""What the browser tests put on the stack, and the journey map as journey answers it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from kafka import KafkaProducer

from tests.e2e.test_whole_journey import eventually, publish, supermarket_visit
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef
from touchstone.journey.v1.journey_service_pb2 import GetJourneyMapRequest, JourneyMapView
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

SITE = "hcm-01"
SEEDED_VISITS = 3


def visit_now(producer: KafkaProducer, minutes_ago: float) -> tuple[str, list[str]]:
    """Publish a visit whose greeting took 45 s and whose queue took 10 minutes (both lost, so
    nothing won later recovers its case): its customer and touchpoint ids."""
    customer_id = f"cust-{uuid.uuid4()}"
    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    visit = supermarket_visit(CustomerRef(customer_id=customer_id), start, site_id=SITE)
    (queue,) = (tp for tp in visit if tp.stage == "wait_in_queue")
    queue.measurements["wait_seconds"] = 600
    publish(producer, visit, customer_id.encode())
    return customer_id, [tp.event_id for tp in visit]


def map_view(stack: LocalStack) -> JourneyMapView:
    with Clients(stack.settings) as clients:
        request = GetJourneyMapRequest(journey_map="supermarket", site_id=SITE)
        return clients.journey.GetJourneyMap(request, timeout=10)


def settled_view(stack: LocalStack, at_least: int) -> JourneyMapView:
    """The map once it has at least this many moments and stopped changing (the services also
    work through what earlier tests left on the shared broker)."""
    reads: list[JourneyMapView] = []

    def settled() -> JourneyMapView | None:
        reads.append(map_view(stack))
        last = reads[-3:]
        if len(last) == 3 and last[0] == last[2] and last[2].whole_map.moments >= at_least:
            return last[2]
        time.sleep(0.5)
        return None

    return eventually(settled, f"a settled map of at least {at_least} moments")
