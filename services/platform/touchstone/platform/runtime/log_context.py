"""What a log line is about, known without passing it down: the record a worker is handling
(its topic, partition, offset, event id and W3C trace context) or the call a server is
answering (its trace context). json_logs.py adds these fields to every line written meanwhile;
a call site's own `extra` wins."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from touchstone.platform.messaging.topics import Incoming

TRACEPARENT = "traceparent"  # W3C Trace Context, as a record header and as gRPC metadata
NOTHING: Mapping[str, Any] = MappingProxyType({})
_fields: ContextVar[Mapping[str, Any]] = ContextVar("touchstone_log_fields", default=NOTHING)


def current_fields() -> Mapping[str, Any]:
    """The fields of what is being handled now (empty outside a record or call)."""
    return _fields.get()


@contextmanager
def about(fields: Mapping[str, Any]) -> Iterator[None]:
    """Log lines written inside carry these fields (on top of any already set)."""
    token = _fields.set({**_fields.get(), **fields})
    try:
        yield
    finally:
        with suppress(ValueError):  # a stream's generator closed from another task
            _fields.reset(token)


def record_fields(record: Incoming) -> dict[str, Any]:
    """A record's coordinates, its CloudEvents id and its trace context, where it has them."""
    fields: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }
    for header, field in (("ce_id", "event_id"), (TRACEPARENT, TRACEPARENT)):
        if value := record.headers.get(header):
            fields[field] = value.decode("utf-8", "replace")
    return fields


def batch_fields(batch: Sequence[Incoming]) -> dict[str, Any]:
    """A batch's record's fields when it holds one; its topic and partition when they are one."""
    if len(batch) == 1:
        return record_fields(batch[0])
    if len({r.topic for r in batch}) != 1:
        return {}
    if len({r.partition for r in batch}) != 1:
        return {"topic": batch[0].topic}
    return {"topic": batch[0].topic, "partition": batch[0].partition}


def call_fields(metadata: Iterable[tuple[str, Any]] | None) -> dict[str, Any]:
    """A gRPC call's trace context, from its metadata."""
    for key, value in metadata or ():
        if key == TRACEPARENT:
            return {TRACEPARENT: value.decode() if isinstance(value, bytes) else str(value)}
    return {}
