"""Where personal data or secrets could leak out of the services besides their tables and topics:
their logs and their metrics."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable

from touchstone.common.settings import Settings


def found_in_logs_or_metrics(settings: Settings, secrets: Iterable[str]) -> list[str]:
    """Where any secret shows in the services' logs or /metrics."""
    places = {
        str(p): p.read_text(errors="replace") for p in (settings.state_dir / "logs").glob("*")
    }
    for name, port in settings.metrics_ports.items():
        with urllib.request.urlopen(f"http://{settings.grpc_host}:{port}/metrics") as page:
            places[f"{name} /metrics"] = page.read().decode()
    assert len(places) > len(settings.metrics_ports)  # logs were read too
    return [f"{where}: {s}" for where, text in places.items() for s in secrets if s in text]
