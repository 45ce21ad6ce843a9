"""The customer page's answer: who they are, their visits as journey strips, their value and
churn risk, and their cases, each part from its own service (a part the caller may not see says
so, and the rest still shows)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from google.protobuf.message import Message

from touchstone.contacts.v1.contacts_service_pb2 import GetCustomerRequest
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest, ListMomentsResponse
from touchstone.loyalty.v1.loyalty_service_pb2 import GetCustomerValueRequest
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest, ListCasesResponse
from touchstone.shared_kernel.journey_maps import JourneyMap
from touchstone.tools.console.views import CALL_S, ConsoleRefusal, as_json, asked, paged, refused
from touchstone.tools.ops.client import Clients

MOMENTS_READ = 500  # the customer's latest moments the strips are drawn from
CASES_SHOWN = 50  # their latest cases, newest first
VISITS_SHOWN = 12


def customer_page(
    clients: Clients, query: Mapping[str, str], maps: Mapping[str, JourneyMap]
) -> dict[str, Any]:
    """Every part of the customer page, each an answer or why there is none."""
    customer_id = asked(query, "id")
    if not customer_id:
        raise ConsoleRefusal(400, "INVALID_ARGUMENT", "id: name a customer")
    moments = _part(
        lambda: ListMomentsResponse(
            moments=paged(
                clients.journey.ListMoments,
                ListMomentsRequest(customer_id=customer_id),
                "moments",
                MOMENTS_READ,
            )
        )
    )
    return {
        "customer_id": customer_id,
        "profile": _part(
            lambda: clients.contacts.GetCustomer(
                GetCustomerRequest(customer_id=customer_id), timeout=CALL_S
            )
        ),
        "value": _part(
            lambda: clients.loyalty.GetCustomerValue(
                GetCustomerValueRequest(customer_id=customer_id), timeout=CALL_S
            )
        ),
        "visits": moments if "refused" in moments else {"strips": strips(moments, maps)},
        "cases": _part(
            lambda: ListCasesResponse(
                cases=reversed(
                    paged(
                        clients.notify.ListCases,
                        ListCasesRequest(customer_id=customer_id),
                        "cases",
                        CASES_SHOWN,
                    )
                )
            )
        ),
    }


def strips(moments: Mapping[str, Any], maps: Mapping[str, JourneyMap]) -> list[dict[str, Any]]:
    """The customer's visits, newest first: each stage of its map in journey order, with the
    verdict of the visit's moment there (none where the visit had no moment)."""
    by_visit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for moment in moments.get("moments", []):
        by_visit[moment["visit_id"]].append(moment)
    visits = []
    for visit_id, seen in by_visit.items():
        journey = maps.get(seen[0]["journey_map"])
        verdicts = {m["stage"]: m for m in seen}
        order = [s.id for s in journey.stages] if journey else sorted(verdicts)
        visits.append(
            {
                "visit_id": visit_id,
                "journey_map": seen[0]["journey_map"],
                "site_id": seen[0]["site_id"],
                "started": min(m["occurred_at"] for m in seen),
                "stages": [
                    {
                        "stage": stage,
                        "name": _stage_name(journey, stage),
                        "verdict": verdicts[stage]["verdict"] if stage in verdicts else "",
                        "reason": verdicts[stage].get("reason", "") if stage in verdicts else "",
                    }
                    for stage in order
                ],
            }
        )
    visits.sort(key=lambda v: v["started"], reverse=True)
    return visits[:VISITS_SHOWN]


def _stage_name(journey: JourneyMap | None, stage_id: str) -> str:
    found = journey.stage(stage_id) if journey else None
    return found.name if found else stage_id


def _part(call: Callable[[], Message]) -> dict[str, Any]:
    """The call's answer as JSON, or {"refused": {code, details}}."""
    try:
        return as_json(call())
    except grpc.RpcError as error:
        problem = refused(error)
    except ConsoleRefusal as raised:
        problem = raised
    return {"refused": {"code": problem.code, "details": problem.details}}
