"""The control figures page's answer: each site's complaint, omission, dissatisfaction and
on-time rates day by day (one GetControlFigures a day), for small charts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import grpc

from touchstone.notify.v1.notify_service_pb2 import GetControlFiguresRequest
from touchstone.tools.console.views import CALL_S, ConsoleRefusal, as_json, asked, refused
from touchstone.tools.ops.client import Clients

DEFAULT_DAYS = 14
MAX_DAYS = 60
RATES = ("complaint_rate", "omission_rate", "dissatisfaction_rate", "on_time_rate")


def control_figures(clients: Clients, query: Mapping[str, str]) -> dict[str, Any]:
    """{days, sites: {site: [the day's SiteControlFigures, one a day]}}, the last day today by
    the sites' calendar, as notify counts days (not by UTC: from 17:00 UTC Ho Chi Minh City's
    today was never asked for). A rate with nothing to rate that day is null, not 0."""
    try:
        count = int(asked(query, "days", str(DEFAULT_DAYS)))
    except ValueError:
        raise ConsoleRefusal(400, "INVALID_ARGUMENT", "days must be a whole number") from None
    if not 1 <= count <= MAX_DAYS:
        raise ConsoleRefusal(400, "INVALID_ARGUMENT", f"days must be 1 to {MAX_DAYS}")
    site = asked(query, "site")
    latest = _figures(clients, GetControlFiguresRequest(site_id=site))  # today, notify's
    today = date.fromisoformat(latest.last_day)
    days = [(today - timedelta(days=back)).isoformat() for back in range(count - 1, -1, -1)]
    by_site: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for day in days:
        request = GetControlFiguresRequest(site_id=site, first_day=day, last_day=day)
        figures = latest if day == latest.last_day else _figures(clients, request)
        for one in figures.sites:
            by_site[one.site_id][day] = {**dict.fromkeys(RATES), **as_json(one)}
    return {
        "days": days,
        "rates": list(RATES),
        "sites": {
            name: [seen.get(day) or _nothing(name) for day in days]
            for name, seen in sorted(by_site.items())
        },
    }


def _nothing(site_id: str) -> dict[str, Any]:
    return {"site_id": site_id, "visits": 0, **dict.fromkeys(RATES)}


def _figures(clients: Clients, request: GetControlFiguresRequest) -> Any:
    try:
        return clients.notify.GetControlFigures(request, timeout=CALL_S)
    except grpc.RpcError as error:
        raise refused(error) from None
