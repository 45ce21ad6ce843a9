"""The database or the broker being away: how to tell it from a bug, and how to say so.

An outage is waited out (batches retried whole, loops trying again) and told in one line; a
traceback is for a failure nobody expected.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg_pool import PoolTimeout

DATABASE_AWAY = (psycopg.OperationalError, PoolTimeout)
TRANSIENT = (*DATABASE_AWAY, ConnectionError, TimeoutError)


def is_transient(error: BaseException) -> bool:
    """Whether the failure is the database or the broker being away, worth waiting out."""
    from aiokafka.errors import KafkaError, KafkaTimeoutError

    if isinstance(error, (*TRANSIENT, KafkaTimeoutError)):
        return True
    return isinstance(error, KafkaError) and bool(error.retriable)


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Tell a failed attempt: an outage in one line, anything else with its traceback."""
    if is_transient(error):
        log.warning(
            "%s: %s: %s (the database or broker is away; trying again)",
            what,
            type(error).__name__,
            error,
        )
    else:
        log.error("%s; trying again", what, exc_info=error)
