"""Settings from environment variables, declared once each, by concern: a class per concern
(Kafka, Postgres, gRPC, authentication, streams, intake, data files, notify's channels, the
process), and Settings, everything a Touchstone process may be told, made of them all. Code
that needs one concern can ask for its class; `docs/configuration.md`'s table is generated from
the declarations (`make generate`) and checked against them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from touchstone.platform.runtime.settings.auth import AuthSettings
from touchstone.platform.runtime.settings.data_files import DataFileSettings
from touchstone.platform.runtime.settings.database import DatabaseSettings
from touchstone.platform.runtime.settings.declared import SERVICES, declared_env, read_declared
from touchstone.platform.runtime.settings.grpc import (
    DEFAULT_GRPC_PORTS,
    DEFAULT_HTTP_PORTS,
    DEFAULT_METRICS_PORTS,
    GrpcSettings,
)
from touchstone.platform.runtime.settings.ingest import IngestSettings
from touchstone.platform.runtime.settings.kafka import KafkaSettings
from touchstone.platform.runtime.settings.notify_channels import NotifyChannelSettings
from touchstone.platform.runtime.settings.process import ProcessSettings
from touchstone.platform.runtime.settings.streams import CONSUMERS, StreamSettings

__all__ = [
    "CONCERNS",
    "CONSUMERS",
    "DEFAULT_GRPC_PORTS",
    "DEFAULT_HTTP_PORTS",
    "DEFAULT_METRICS_PORTS",
    "SERVICES",
    "Settings",
    "settings_from_env",
]

# In the order the configuration guide lists them
CONCERNS: tuple[type, ...] = (
    ProcessSettings,
    KafkaSettings,
    DatabaseSettings,
    GrpcSettings,
    AuthSettings,
    StreamSettings,
    IngestSettings,
    DataFileSettings,
    NotifyChannelSettings,
)


@dataclass(frozen=True)
class Settings(
    NotifyChannelSettings,
    DataFileSettings,
    IngestSettings,
    StreamSettings,
    AuthSettings,
    GrpcSettings,
    DatabaseSettings,
    KafkaSettings,
    ProcessSettings,
):
    """Everything a Touchstone process may be told; defaults run the embedded local stack."""

    def __post_init__(self) -> None:
        for concern in CONCERNS:  # each checks its own (connections as they would be made)
            check = concern.__dict__.get("__post_init__")
            if check is not None:
                check(self)
        if not 1024 <= self.max_touchpoint_bytes <= self.max_record_bytes // 2:
            raise ValueError(
                f"TOUCHSTONE_MAX_TOUCHPOINT_BYTES ({self.max_touchpoint_bytes}) must be at least "
                f"1024 and at most half of TOUCHSTONE_MAX_RECORD_BYTES ({self.max_record_bytes}):"
                " a recorded touchpoint is the touchpoint and more"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read each field's TOUCHSTONE_* variable (its `setting`); an unset variable keeps its
        default. TOUCHSTONE_EMBEDDED defaults to 1 unless Kafka or Postgres are named."""
        env = os.environ if env is None else env
        values = read_declared(cls, env)
        if "TOUCHSTONE_EMBEDDED" not in env:
            named = {"TOUCHSTONE_KAFKA_BOOTSTRAP", "TOUCHSTONE_DATABASE_URL"} & env.keys()
            values["embedded"] = not named
        return cls(**values)

    def as_env(self) -> dict[str, str]:
        """The variables that hand these settings to a child process."""
        return declared_env(self)


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The process's settings, or SystemExit naming the variable that is wrong (no traceback)."""
    try:
        return Settings.from_env(env)
    except ValueError as wrong:
        raise SystemExit(f"touchstone: setting refused: {wrong}") from None
