"""docs/domain.md §10's control figures, per site over a run of its calendar days: how often
customers complain, how often a lost moment gets no recovery in time (omission), how often
recovery fails (dissatisfaction), and how often staff keep the promised time (on time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SiteWindow:
    """A site and the span of time its days cover."""

    site_id: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class SiteFigures:
    """The counts behind a site's control figures, and the rates they make."""

    site_id: str
    visits: int = 0
    complaints: int = 0
    cases: int = 0
    cases_due: int = 0
    omitted: int = 0
    recovered: int = 0
    lost: int = 0
    steps_due: int = 0
    steps_on_time: int = 0

    @property
    def complaint_rate(self) -> float | None:
        return rate(self.complaints, self.visits)

    @property
    def omission_rate(self) -> float | None:
        return rate(self.omitted, self.cases_due)

    @property
    def dissatisfaction_rate(self) -> float | None:
        return rate(self.lost, self.recovered + self.lost)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.steps_on_time, self.steps_due)


def rate(part: int, whole: int) -> float | None:
    """part / whole; None when there is no whole: nothing to rate yet (a day with no visits
    has no complaint rate, not a 0% one)."""
    return part / whole if whole else None
