"""Journey's gRPC servicer: moments and visits."""

from __future__ import annotations

import grpc

from journey.codec import VERDICT_NAMES
from journey.store import JourneyStore, MomentFilter
from touchstone.common.rpc import (
    InvalidArgument,
    NotFound,
    PageRequest,
    require,
    rpc_method,
)
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.v1 import journey_service_pb2_grpc as pb_grpc
from touchstone.journey.v1.events_pb2 import VERDICT_UNSPECIFIED, MomentScored


def moment_filter(request: pb.ListMomentsRequest) -> MomentFilter:
    """The store filter a ListMoments request asks for."""
    if request.verdict != VERDICT_UNSPECIFIED and request.verdict not in VERDICT_NAMES:
        raise InvalidArgument(("verdict", f"unknown verdict {request.verdict}"))
    return MomentFilter(
        customer_id=request.customer_id,
        visit_id=request.visit_id,
        site_id=request.site_id,
        verdict=VERDICT_NAMES.get(request.verdict, ""),
    )


class JourneyApi(pb_grpc.JourneyServiceServicer):
    """Answers queries from journey's own tables."""

    def __init__(self, store: JourneyStore) -> None:
        self.store = store

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
        return reply

    @rpc_method
    async def GetScoreStats(
        self, request: pb.GetScoreStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ScoreStats:
        counts = await self.store.verdict_counts()
        return pb.ScoreStats(wins=counts["win"], losses=counts["lose"], unscored=counts["unscored"])
