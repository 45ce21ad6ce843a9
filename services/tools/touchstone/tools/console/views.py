"""What the console's pages ask for, as JSON, each answered by one of the services' gRPC calls."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from touchstone.contacts.v1.contacts_service_pb2 import GetIngestStatsRequest
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE
from touchstone.journey.v1.journey_service_pb2 import (
    GetJourneyMapRequest,
    ListMomentsRequest,
    WatchMomentsRequest,
)
from touchstone.notify.v1.events_pb2 import CASE_STATUS_OPEN
from touchstone.notify.v1.notify_service_pb2 import (
    Case,
    GetCaseRequest,
    ListCasesRequest,
    StepCommand,
)
from touchstone.shared_kernel.calendar import Calendars
from touchstone.tools.ops.client import Clients

CALL_S = 10.0
LOST_SHOWN = 20  # a stage's recent lost moments listed at once
BOARD_CASES = 200  # open cases the recovery board lists at once (the first in board order)
PAGE_SIZE = 500  # the services' largest page
MAX_PAGES = 20  # read at most this many pages of one list
STEP_ACTIONS = ("acknowledge", "complete")
HEARTBEAT_S = 15.0  # an idle event stream says it is alive this often
HTTP_STATUS = {  # how a gRPC refusal reads to the browser
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
}


class ConsoleRefusal(Exception):
    """A page's question the services would not answer: the HTTP status and why."""

    def __init__(self, status: int, code: str, details: str) -> None:
        super().__init__(details)
        self.status, self.code, self.details = status, code, details


def as_json(message: Message) -> dict[str, Any]:
    """A reply as the pages read it: proto field names, defaults included."""
    return MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


def asked(query: Mapping[str, str], name: str, default: str = "") -> str:
    """A query parameter's value, stripped."""
    return query.get(name, default).strip()


def refused(error: grpc.RpcError) -> ConsoleRefusal:
    """The browser's side of a refused call."""
    code = error.code()
    details = error.details() or ""
    return ConsoleRefusal(HTTP_STATUS.get(code, 502), code.name, details)


def journey_map(clients: Clients, query: Mapping[str, str]) -> dict[str, Any]:
    """GetJourneyMap for the chosen map, site and period."""
    request = GetJourneyMapRequest(
        journey_map=asked(query, "map", "supermarket"),
        site_id=asked(query, "site"),
        first_day=asked(query, "first"),
        last_day=asked(query, "last"),
    )
    try:
        return as_json(clients.journey.GetJourneyMap(request, timeout=CALL_S))
    except grpc.RpcError as error:
        raise refused(error) from None


def vocabulary_gaps(clients: Clients, query: Mapping[str, str]) -> dict[str, Any]:
    """The words producers sent on the chosen map that its stages do not declare (and values
    outside their plausible range), per producer, as contacts counted them."""
    try:
        stats = clients.contacts.GetIngestStats(GetIngestStatsRequest(), timeout=CALL_S)
    except grpc.RpcError as error:
        raise refused(error) from None
    wanted = asked(query, "map", "supermarket")
    return {"gaps": [as_json(g) for g in stats.vocabulary_gaps if g.journey_map == wanted]}


def paged(call: Callable[..., Any], request: Any, field: str, keep: int) -> list[Any]:
    """The last `keep` entries of a paged list the service gives oldest first, reading at most
    MAX_PAGES pages of PAGE_SIZE."""
    request.page_size = PAGE_SIZE
    kept: deque[Any] = deque(maxlen=keep)
    try:
        for _ in range(MAX_PAGES):
            reply = call(request, timeout=CALL_S)
            kept.extend(getattr(reply, field))
            if not reply.next_page_token:
                break
            request.page_token = reply.next_page_token
    except grpc.RpcError as error:
        raise refused(error) from None
    return list(kept)


def period(
    query: Mapping[str, str], calendars: Calendars, now: datetime
) -> tuple[datetime, datetime]:
    """The span of the map's days (its default week, to the site's today, unless asked), as the
    map counts them: each site's local days (journey's map_view), not UTC's."""
    site = asked(query, "site")
    try:
        last = date.fromisoformat(asked(query, "last") or calendars.today(site, now).isoformat())
        first = date.fromisoformat(asked(query, "first") or (last - timedelta(days=6)).isoformat())
    except ValueError:
        raise ConsoleRefusal(
            400, "INVALID_ARGUMENT", "first and last are days: YYYY-MM-DD"
        ) from None
    return calendars.span(site, first, last)


def lost_moments(
    clients: Clients, query: Mapping[str, str], calendars: Calendars, now: datetime
) -> dict[str, Any]:
    """A stage's most recent lost moments in the map's days, newest first, with their reasons."""
    since, until = period(query, calendars, now)
    request = ListMomentsRequest(
        journey_map=asked(query, "map", "supermarket"),
        site_id=asked(query, "site"),
        stage=asked(query, "stage"),
        verdict=VERDICT_LOSE,
    )
    request.since.FromDatetime(since)
    request.until.FromDatetime(until)
    moments = paged(clients.journey.ListMoments, request, "moments", LOST_SHOWN)
    return {"moments": [as_json(m) for m in reversed(moments)]}


def board_order(case: Case, now: float) -> tuple[bool, float, int]:
    """Overdue cases first, then by due time, then by value at risk (highest first)."""
    due = case.due_at.seconds + case.due_at.nanos / 1e9
    return (due >= now, due, -case.value_at_risk_minor)


def open_cases(clients: Clients, query: Mapping[str, str], now: float) -> dict[str, Any]:
    """The open cases of a site (or every site the caller sees), in board order."""
    request = ListCasesRequest(site_id=asked(query, "site"), status=CASE_STATUS_OPEN)
    every = paged(clients.notify.ListCases, request, "cases", PAGE_SIZE * MAX_PAGES)
    cases = sorted(every, key=lambda c: board_order(c, now))[:BOARD_CASES]
    return {"cases": [as_json(c) for c in cases], "total": len(every), "now": now}


def one_case(clients: Clients, query: Mapping[str, str]) -> dict[str, Any]:
    """A case with its steps."""
    try:
        found = clients.notify.GetCase(GetCaseRequest(case_id=asked(query, "id")), timeout=CALL_S)
    except grpc.RpcError as error:
        raise refused(error) from None
    return as_json(found)


def take_step(clients: Clients, form: Mapping[str, str], by: str) -> dict[str, Any]:
    """Acknowledge or complete a step of a case, as the signed-in user; the case after it."""
    what = asked(form, "do")
    if what not in STEP_ACTIONS:
        raise ConsoleRefusal(
            400, "INVALID_ARGUMENT", f"do must be one of {', '.join(STEP_ACTIONS)}"
        )
    try:
        number = int(asked(form, "n"))
    except ValueError:
        raise ConsoleRefusal(400, "INVALID_ARGUMENT", "n must be the step's number") from None
    command = StepCommand(case_id=asked(form, "case_id"), n=number, by=by)
    act = clients.notify.AcknowledgeStep if what == "acknowledge" else clients.notify.CompleteStep
    try:
        return as_json(act(command, timeout=CALL_S))
    except grpc.RpcError as error:
        raise refused(error) from None


class Stop(Protocol):
    """Something that says when to stop (a threading.Event, say)."""

    def is_set(self) -> bool: ...


def watched_moments(
    clients: Clients, query: Mapping[str, str], stop: Stop
) -> Generator[tuple[str, dict[str, Any]], None, None]:
    """WatchMoments as (event, data) pairs: `live` once the watch is live, `moment` for each
    scored moment, `missed` when the server dropped some for this watcher, and `heartbeat` when
    nothing came for HEARTBEAT_S (so a closed browser is noticed). Ends when stop is set."""
    request = WatchMomentsRequest(
        journey_map=asked(query, "map", "supermarket"), site_id=asked(query, "site")
    )
    stream = clients.journey.WatchMoments(request)
    replies: queue.Queue[Any] = queue.Queue()

    def pump() -> None:
        try:
            for reply in stream:
                replies.put(reply)
        except grpc.RpcError as error:
            replies.put(error)
        replies.put(None)

    threading.Thread(target=pump, name="console-watch", daemon=True).start()
    try:
        while not stop.is_set():
            try:
                reply = replies.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                yield "heartbeat", {}
                continue
            if reply is None:
                return
            if isinstance(reply, grpc.RpcError):
                problem = refused(reply)
                yield "refused", {"code": problem.code, "details": problem.details}
                return
            if reply.missed:
                yield "missed", {"missed": reply.missed}
            yield ("moment", as_json(reply.moment)) if reply.HasField("moment") else ("live", {})
    finally:
        stream.cancel()
