"""The default service standards, each from DOMAIN.md §4. Thresholds not given there are marked."""

from __future__ import annotations

from journey.domain import Standard

DEFAULT_STANDARDS: tuple[Standard, ...] = (
    Standard(
        standard_id="supermarket.enter_store.greeted_within_30s",
        journey_map="supermarket",
        stage="enter_store",
        description="greeted within 30 s",
        area="timeliness",
        dimension="responsiveness",
        side="procedural",
        measurement="greeting_seconds",
        comparator="<=",
        threshold=30,
    ),
    Standard(
        # Tunable assumption: DOMAIN.md names the queue as a moment but gives no figure.
        standard_id="supermarket.wait_in_queue.served_within_5min",
        journey_map="supermarket",
        stage="wait_in_queue",
        description="served within 5 min of joining the queue",
        area="timeliness",
        dimension="responsiveness",
        side="procedural",
        measurement="wait_seconds",
        comparator="<=",
        threshold=300,
    ),
    Standard(
        standard_id="phone.ring.answered_within_3_rings",
        journey_map="phone",
        stage="ring",
        description="answered within 3 rings",
        area="timeliness",
        dimension="responsiveness",
        side="procedural",
        measurement="rings",
        comparator="<=",
        threshold=3,
    ),
    Standard(
        standard_id="phone.greeting.polite_and_named",
        journey_map="phone",
        stage="greeting",
        description="polite greeting, names self, company and department",
        area="communication",
        dimension="courtesy",
        side="personal",
        required_observations=(
            "polite_greeting",
            "named_self",
            "named_company",
            "named_department",
        ),
    ),
)
