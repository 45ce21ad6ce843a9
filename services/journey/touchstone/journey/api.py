"""Journey's gRPC servicer: moments, visits, the journey map, standards."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from datetime import datetime

import grpc
from google.protobuf.message import Message

from touchstone.journey.codec import VERDICT_NAMES
from touchstone.journey.map_view import MapMethods
from touchstone.journey.ports import JourneyStore, MomentFilter, MomentRow, VisitFilter, VisitRow
from touchstone.journey.standards import StandardSet
from touchstone.journey.standards_api import StandardsMethods
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.v1 import journey_service_pb2_grpc as pb_grpc
from touchstone.journey.v1.events_pb2 import VERDICT_UNSPECIFIED, MomentScored
from touchstone.platform.messaging.topic_feed import TopicFeed, watch_stream
from touchstone.platform.runtime.prototime import to_datetime, to_timestamp
from touchstone.platform.runtime.time_bounds import BEGINNING
from touchstone.platform.security.auth_interceptor import current_caller
from touchstone.platform.security.site_scope import sites_counted
from touchstone.platform.serving.rpc import (
    InvalidArgument,
    NotFound,
    PageRequest,
    require,
    rpc_method,
)
from touchstone.shared_kernel.calendar import Calendars
from touchstone.shared_kernel.calendar_file import load_calendars
from touchstone.shared_kernel.journey_maps import JourneyMap


def moment_filter(request: pb.ListMomentsRequest) -> MomentFilter:
    """The store filter a ListMoments request asks for."""
    if request.verdict != VERDICT_UNSPECIFIED and request.verdict not in VERDICT_NAMES:
        raise InvalidArgument(("verdict", f"unknown verdict {request.verdict}"))
    return MomentFilter(
        customer_id=request.customer_id,
        visit_id=request.visit_id,
        site_id=request.site_id,
        verdict=VERDICT_NAMES.get(request.verdict, ""),
        journey_map=request.journey_map,
        stage=request.stage,
        since=time_or_none(request, "since"),
        until=time_or_none(request, "until"),
    )


def time_or_none(request: Message, field: str) -> datetime | None:
    """A Timestamp field as a datetime when set; InvalidArgument if it cannot be one."""
    if not request.HasField(field):
        return None
    try:
        return to_datetime(getattr(request, field))
    except (ValueError, OverflowError) as error:
        raise InvalidArgument((field, "is not a valid time")) from error


def visit_message(visit: VisitRow, moments: Sequence[MomentRow] = ()) -> pb.Visit:
    """A visit as a contract message (with its moments when given)."""
    reply = pb.Visit(
        visit_id=visit.visit_id,
        customer_id=visit.customer_id,
        site_id=visit.site_id,
        journey_map=visit.journey_map,
        moments=[MomentScored.FromString(m.payload) for m in moments],
        wins=visit.wins,
        losses=visit.losses,
    )
    if visit.completion:
        reply.completion.ParseFromString(visit.completion)
    if visit.first_at and visit.last_at:
        reply.first_at.CopyFrom(to_timestamp(visit.first_at))
        reply.last_at.CopyFrom(to_timestamp(visit.last_at))
    return reply


def watch_filter(request: pb.WatchMomentsRequest) -> Callable[[MomentScored], bool]:
    """Which moments a WatchMoments call wants; InvalidArgument for an unknown verdict."""
    if request.verdict != VERDICT_UNSPECIFIED and request.verdict not in VERDICT_NAMES:
        raise InvalidArgument(("verdict", f"unknown verdict {request.verdict}"))
    wanted = {
        name: getattr(request, name)
        for name in ("customer_id", "site_id", "journey_map", "stage", "verdict")
        if getattr(request, name)
    }
    return lambda moment: all(getattr(moment, k) == v for k, v in wanted.items())


def watched_moment(moment: MomentScored, missed: int, at: datetime) -> pb.WatchMomentsResponse:
    """A WatchMoments response for one moment."""
    return pb.WatchMomentsResponse(moment=moment, missed=missed, published_at=to_timestamp(at))


class JourneyApi(StandardsMethods, MapMethods, pb_grpc.JourneyServiceServicer):
    """Answers queries from journey's own tables and the standards in force."""

    store: JourneyStore

    def __init__(
        self,
        store: JourneyStore,
        standards: StandardSet,
        maps: Mapping[str, JourneyMap],
        feed: TopicFeed[MomentScored] | None = None,
        calendars: Calendars | None = None,
    ) -> None:
        self.store = store
        self.standards = standards
        self.maps = maps
        self.feed = feed
        self.calendars = calendars or load_calendars()

    async def WatchMoments(
        self, request: pb.WatchMomentsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchMomentsResponse]:
        live = pb.WatchMomentsResponse
        choose = functools.partial(watch_filter, request)
        responses = watch_stream(self.feed, choose, watched_moment, live, context)
        async with aclosing(responses):
            async for response in responses:
                yield response

    @rpc_method
    async def ListMoments(
        self, request: pb.ListMomentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMomentsResponse:
        where = moment_filter(request)
        page = PageRequest.of(request.page_size, request.page_token)
        rows = await self.store.list_moments(where, page.after, page.size)
        response = pb.ListMomentsResponse(
            moments=[MomentScored.FromString(r.payload) for r in rows]
        )
        response.next_page_token = page.next_token(rows, lambda r: (r.occurred_at, r.moment_id))
        return response

    @rpc_method
    async def GetVisit(
        self, request: pb.GetVisitRequest, context: grpc.aio.ServicerContext
    ) -> pb.Visit:
        visit_id = require("visit_id", request.visit_id)
        found = await self.store.get_visit(visit_id)
        if found is None:
            raise NotFound(f"visit {visit_id} not found")
        visit, moments = found
        return visit_message(visit, moments)

    @rpc_method
    async def ListVisits(
        self, request: pb.ListVisitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVisitsResponse:
        where = VisitFilter(request.customer_id, request.site_id, request.completed_only)
        page = PageRequest.of(request.page_size, request.page_token)
        rows = await self.store.list_visits(where, page.after, page.size)
        response = pb.ListVisitsResponse(visits=[visit_message(v) for v in rows])
        response.next_page_token = page.next_token(
            rows, lambda v: (v.last_at or BEGINNING, v.visit_id)
        )
        return response

    @rpc_method
    async def GetScoreStats(
        self, request: pb.GetScoreStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ScoreStats:
        counts = await self.store.verdict_counts(sites_counted(current_caller()))
        return pb.ScoreStats(wins=counts["win"], losses=counts["lose"], unscored=counts["unscored"])
