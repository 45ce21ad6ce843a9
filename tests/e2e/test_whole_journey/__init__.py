"""The whole system over gRPC: four service processes on the real broker and real Postgres, one
stack per consumer kind shared by the package's modules (conftest.py):

- test_scoring: touchpoints scored, valued by loyalty, and opened and recovered as cases;
- test_bad_input: dead letters, and bad requests;
- test_queries_and_erasure: queries, watchers, and an erasure that a replay does not undo.

The helpers other tests import from here live in tests/e2e/journey_support.py."""

from tests.e2e.journey_support import (
    WAIT_S,
    _cases,
    _value,
    _valued,
    eventually,
    moments_of,
    on_topic,
    publish,
    registered_with_secrets,
    supermarket_visit,
)

__all__ = [
    "WAIT_S",
    "_cases",
    "_value",
    "_valued",
    "eventually",
    "moments_of",
    "on_topic",
    "publish",
    "registered_with_secrets",
    "supermarket_visit",
]
