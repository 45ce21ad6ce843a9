"""One id, one payload: every event the services publish, under whatever batching and however
often its input is redelivered, carries under its id the same bytes every time (downstream
dedupes by id, so a second payload under an id would be silently dropped)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime

from tests.pipeline import Pipeline, fed, simulated_touchpoints

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def payloads_by_id(pipeline: Pipeline) -> dict[tuple[str, str], set[bytes]]:
    """Each (topic, event id) published, with every payload it came with (dead letters, which
    copy their input's headers, aside)."""
    found: dict[tuple[str, str], set[bytes]] = defaultdict(set)
    for topic in pipeline.topics:
        if topic.endswith(".dlq.v1"):
            continue
        for record in pipeline.records(topic):
            if event_id := record.headers.get("ce_id"):
                found[(topic, event_id.decode())].add(record.value or b"")
    return found


def test_every_event_id_carries_one_payload_whatever_the_batching_and_redelivery() -> None:
    rng = random.Random(7)
    pipeline = fed(Pipeline(), simulated_touchpoints(3, START, visits=200, bad_share=0.02))
    pipeline.run(rng, most=(1, 30))  # small batches, partitions interleaved at random
    pipeline.redeliver()  # a crash before any commit: everything again, in big batches
    pipeline.run(rng, most=(200, 500))

    published = payloads_by_id(pipeline)
    topics = {topic for topic, _ in published}
    assert {"contacts.recorded.v1", "journey.moments.v1", "loyalty.values.v1"} <= topics
    assert "notify.cases.v1" in topics
    twice = {key: len(values) for key, values in published.items() if len(values) > 1}
    assert twice == {}
