"""The four services by name: each one's ServiceSpec, imported only when asked for (a service
imports only its own code; the tools that start, replay or measure one find it here)."""

from __future__ import annotations

import importlib

from touchstone.platform.runtime.settings import SERVICES
from touchstone.platform.runtime.worker import ServiceSpec


def service_spec(name: str) -> ServiceSpec:
    """The named service's spec (imported on demand: a service imports only its own code)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    spec: ServiceSpec = importlib.import_module(f"touchstone.{name}.service").SPEC
    return spec
