"""Loyalty's gRPC servicer: customers' lifetime values, and what lost moments put at risk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import asdict
from datetime import datetime

import grpc

from loyalty.codec import value_message
from loyalty.store import LoyaltyStore, Valuer
from loyalty.tiers import Tier, load_tiers, rank_range, tier_of
from touchstone.common.prototime import to_datetime, to_timestamp
from touchstone.common.rpc import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    require,
    rich_status,
    rpc_method,
)
from touchstone.common.topic_feed import TopicFeed, live_responses
from touchstone.loyalty.v1 import events_pb2
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.v1 import loyalty_service_pb2_grpc as pb_grpc

DEFAULT_TOP, MAX_TOP = 20, 500


class LoyaltyApi(pb_grpc.LoyaltyServiceServicer):
    """Answers queries from loyalty's own tables."""

    def __init__(
        self,
        store: LoyaltyStore,
        valuer: Valuer,
        tiers: tuple[Tier, ...] | None = None,
        feed: TopicFeed[events_pb2.ValueUpdated] | None = None,
    ) -> None:
        self.store = store
        self.valuer = valuer
        self.tiers = tiers or load_tiers()
        self.feed = feed

    async def WatchValues(
        self, request: pb.WatchValuesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchValuesResponse]:
        if self.feed is None:
            error = FailedPrecondition("this loyalty server has no live feed")
            await context.abort_with_status(rich_status(error))
            return
        wanted = values_wanted(request)
        responses = live_responses(self.feed, wanted, watched_value, pb.WatchValuesResponse)
        async with aclosing(responses):
            async for response in responses:
                yield response

    @rpc_method
    async def GetCustomerValue(
        self, request: pb.GetCustomerValueRequest, context: grpc.aio.ServicerContext
    ) -> events_pb2.CustomerValue:
        customer_id = require("customer_id", request.customer_id)
        valued = await self.store.get_value(customer_id, self.valuer)
        if valued is None or valued.value is None:
            raise NotFound(f"no purchases recorded for customer {customer_id}")
        return value_message(valued.value)

    @rpc_method
    async def ListTopCustomers(
        self, request: pb.ListTopCustomersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTopCustomersResponse:
        site_id = require("site_id", request.site_id)
        if not 0 <= request.n <= MAX_TOP:
            raise InvalidArgument(("n", f"must be 1..{MAX_TOP} (0: {DEFAULT_TOP})"))
        n = request.n or DEFAULT_TOP
        names = [t.name for t in self.tiers]
        if request.tier and request.tier not in names:
            raise InvalidArgument(("tier", f"{request.tier!r} is not one of {', '.join(names)}"))
        total = await self.store.site_customers(site_id)  # tiers are shares of it
        first, last = rank_range(self.tiers, request.tier, total) if request.tier else (1, n)
        last = min(last, first + n - 1)
        ranked = await self.store.ranked(site_id, first - 1, max(0, last - first + 1))
        return pb.ListTopCustomersResponse(
            site_customers=total,
            customers=[
                pb.TopCustomer(
                    customer_id=c.customer_id,
                    rank=first + i,
                    tier=tier_of(self.tiers, first + i, total),
                    currency=c.currency,
                    lifetime_value_minor=c.lifetime_value_minor,
                    churn_risk=float(c.churn_risk),
                )
                for i, c in enumerate(ranked)
            ],
        )

    @rpc_method
    async def GetValueAtRisk(
        self, request: pb.GetValueAtRiskRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetValueAtRiskResponse:
        since, until = period_of(request)
        totals = await self.store.value_at_risk(request.site_id, since, until)
        return pb.GetValueAtRiskResponse(
            totals=[pb.ValueAtRiskTotal(**asdict(total)) for total in totals]
        )


def watched_value(
    update: events_pb2.ValueUpdated, missed: int, at: datetime
) -> pb.WatchValuesResponse:
    """A WatchValues response for one update."""
    return pb.WatchValuesResponse(update=update, missed=missed, published_at=to_timestamp(at))


def values_wanted(request: pb.WatchValuesRequest) -> Callable[[events_pb2.ValueUpdated], bool]:
    """Which value updates a WatchValues call wants."""

    def wanted(update: events_pb2.ValueUpdated) -> bool:
        at_risk = update.HasField("at_risk")
        return (
            (not request.customer_id or update.value.customer_id == request.customer_id)
            and (not request.site_id or (at_risk and update.at_risk.site_id == request.site_id))
            and (not request.at_risk_only or at_risk)
        )

    return wanted


def period_of(request: pb.GetValueAtRiskRequest) -> tuple[datetime, datetime]:
    """The request's [since, until); InvalidArgument naming each field at fault."""
    problems = [(f, "is required") for f in ("since", "until") if not request.HasField(f)]
    if problems:
        raise InvalidArgument(*problems)
    try:
        since, until = to_datetime(request.since), to_datetime(request.until)
    except (ValueError, OverflowError) as error:
        raise InvalidArgument(("since", "is not a valid time")) from error
    if since >= until:
        raise InvalidArgument(("until", "must be after since"))
    return since, until
