"""Structured logs: one JSON object a line, for a log pipeline to search.

Each line carries the time, level, logger, message and service, plus among EXTRA_FIELDS what the
line is about: the record a worker is handling or the call a server is answering
(log_context.py: topic, partition, offset, event id, W3C trace context), and what the call site
passed in `extra` (a delivery's id, a case's). Messages name ids, never personal data: that is
the rule every log call in Touchstone keeps.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from touchstone.platform.runtime.log_context import current_fields

EXTRA_FIELDS = (
    "event_id",
    "delivery_id",
    "case_id",
    "topic",
    "partition",
    "offset",
    "traceparent",
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            line["service"] = self.service
        about = current_fields()
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
            elif name in about:
                line[name] = about[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(service: str, level: str) -> dict[str, Any]:
    """A dictConfig that sends every log line, as JSON, to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "service": service}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
