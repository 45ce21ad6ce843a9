"""The live summary `touchstone run` prints: touchpoints in, verdicts, open cases, each
service's health and lag, and which are behind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import grpc

from touchstone.contacts.v1.contacts_service_pb2 import GetIngestStatsRequest
from touchstone.journey.v1.journey_service_pb2 import GetScoreStatsRequest
from touchstone.notify.v1.events_pb2 import CASE_STATUS_OPEN
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest
from touchstone.tools.ops.client import Clients
from touchstone.tools.ops.lag import behind


@dataclass(frozen=True)
class Summary:
    """One reading of the whole system's progress."""

    recorded: int = 0
    dead_lettered: int = 0
    wins: int = 0
    losses: int = 0
    unscored: int = 0
    open_cases: int = 0
    vocabulary_gaps: int = 0  # words (or values) recorded touchpoints carried that no stage knows

    def line(self, health: dict[str, str], lags: Mapping[str, int | None] | None = None) -> str:
        """One printable line: the figures, each service's health and lag (records not yet
        taken), and which services are behind."""
        up = " ".join(
            f"{n}:{'up' if s == 'SERVING' else s.lower()}{lag_of(n, lags)}"
            for n, s in health.items()
        )
        late = behind(lags or {})
        return (
            f"touchpoints {self.recorded:>8,} | dead-lettered {self.dead_lettered:>5,} | "
            f"wins {self.wins:>7,} | losses {self.losses:>6,} | unscored {self.unscored:>7,} | "
            f"open cases {self.open_cases:>5,} | unknown words {self.vocabulary_gaps:>5,} "
            f"| {up}" + (f" | BEHIND: {', '.join(late)}" if late else "")
        )


def lag_of(name: str, lags: Mapping[str, int | None] | None) -> str:
    """' lag N' for the service, '' when unknown."""
    lag = (lags or {}).get(name)
    return "" if lag is None else f" lag {lag:,}"


def read_summary(clients: Clients, timeout: float = 2.0) -> Summary:
    """Ask each service over gRPC; a service that does not answer reads as zeros."""
    try:
        ingest = clients.contacts.GetIngestStats(GetIngestStatsRequest(), timeout=timeout)
        scores = clients.journey.GetScoreStats(GetScoreStatsRequest(), timeout=timeout)
        cases = clients.notify.ListCases(
            ListCasesRequest(status=CASE_STATUS_OPEN, page_size=1), timeout=timeout
        )
    except grpc.RpcError:
        return Summary()
    return Summary(
        recorded=ingest.recorded,
        dead_lettered=ingest.dead_lettered,
        wins=scores.wins,
        losses=scores.losses,
        unscored=scores.unscored,
        open_cases=cases.total,
        vocabulary_gaps=sum(g.touchpoints for g in ingest.vocabulary_gaps),
    )
