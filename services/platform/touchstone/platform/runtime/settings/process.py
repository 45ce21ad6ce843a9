"""The process itself: where it keeps state, whether it starts the embedded stack, its logs and
traces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.runtime.settings.declared import setting

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
TRACE_EXPORTERS = ("none", "otlp", "console")


@dataclass(frozen=True)
class ProcessSettings:
    """The process's state folder, embedded stack, log level and traces."""

    embedded: bool = setting(
        "TOUCHSTONE_EMBEDDED",
        True,
        shown="`1` unless `TOUCHSTONE_KAFKA_BOOTSTRAP` or `TOUCHSTONE_DATABASE_URL` is set",
        doc="start the embedded broker and Postgres (`touchstone run`, `bench`)",
    )
    state_dir: Path = setting(
        "TOUCHSTONE_STATE_DIR",
        Path(".touchstone"),
        doc="logs and embedded data (wiped when the embedded stack starts)",
    )
    log_level: str = setting(
        "TOUCHSTONE_LOG_LEVEL", "warning", choices=LOG_LEVELS, doc="the log level"
    )
    traces: str = setting(
        "TOUCHSTONE_TRACES",
        "none",
        choices=TRACE_EXPORTERS,
        doc="where each service's OpenTelemetry spans go: `none`, `otlp` (to "
        "`OTEL_EXPORTER_OTLP_ENDPOINT`), `console` (stderr)",
    )
