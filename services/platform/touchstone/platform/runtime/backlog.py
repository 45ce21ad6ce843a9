"""How far behind each consumer of this process is, as its last fetches saw it: what ingest
reads to push back on producers before contacts drowns (touchstone_consumer_lag_records is the
same figure, for Prometheus)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Backlog:
    """Records behind, by (service, topic, partition)."""

    behind: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def observe(self, service: str, topic: str, partition: int, records: int) -> None:
        self.behind[(service, topic, partition)] = records

    def of(self, service: str) -> int:
        """The service's records behind, over all its partitions."""
        return sum(n for (name, _, _), n in self.behind.items() if name == service)


BACKLOG = Backlog()  # this process's consumers
