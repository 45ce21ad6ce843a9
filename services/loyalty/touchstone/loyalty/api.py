"""Loyalty's gRPC servicer: customers' lifetime values, and what lost moments put at risk."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict
from datetime import datetime

import grpc

from touchstone.loyalty.churn import LostMoment, load_model
from touchstone.loyalty.codec import at_risk_message, change_message, value_message
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.history import ValueChange, value_history
from touchstone.loyalty.ports import LoyaltyStore, Valuer
from touchstone.loyalty.tiers import Tier, load_tiers, rank_range, tier_of
from touchstone.loyalty.v1 import events_pb2
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.v1 import loyalty_service_pb2_grpc as pb_grpc
from touchstone.loyalty.valued import valued_history
from touchstone.platform.messaging.topic_feed import TopicFeed, watch_stream
from touchstone.platform.runtime.prototime import to_datetime, to_timestamp
from touchstone.platform.security.auth_interceptor import current_caller
from touchstone.platform.security.site_scope import limited
from touchstone.platform.serving.rpc import (
    InvalidArgument,
    NotFound,
    require,
    rpc_method,
)

DEFAULT_TOP, MAX_TOP = 20, 500
DEFAULT_HISTORY, MAX_HISTORY = 20, 200

Historian = Callable[[Sequence[Purchase], Sequence[LostMoment], int], list[ValueChange]]


def default_historian() -> Historian:
    """The latest changes of a customer's value under the default churn model."""
    model = load_model()
    return lambda purchases, lost, limit: value_history(purchases, lost, model, limit)


class LoyaltyApi(pb_grpc.LoyaltyServiceServicer):
    """Answers queries from loyalty's own tables."""

    def __init__(
        self,
        store: LoyaltyStore,
        valuer: Valuer,
        tiers: tuple[Tier, ...] | None = None,
        feed: TopicFeed[events_pb2.ValueUpdated] | None = None,
        historian: Historian | None = None,
    ) -> None:
        self.store = store
        self.valuer = valuer
        self.historian = historian or default_historian()
        self.tiers = tiers or load_tiers()
        self.feed = feed

    async def WatchValues(
        self, request: pb.WatchValuesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchValuesResponse]:
        live = pb.WatchValuesResponse
        choose = functools.partial(values_wanted, request)
        responses = watch_stream(self.feed, choose, watched_value, live, context)
        async with aclosing(responses):
            async for response in responses:
                yield response

    @rpc_method
    async def GetCustomerValue(
        self, request: pb.GetCustomerValueRequest, context: grpc.aio.ServicerContext
    ) -> events_pb2.CustomerValue:
        customer_id = require("customer_id", request.customer_id)
        if not 0 <= request.history_limit <= MAX_HISTORY:
            limits = f"must be 1..{MAX_HISTORY} (0: {DEFAULT_HISTORY})"
            raise InvalidArgument(("history_limit", limits))
        if await self.store.is_erased(customer_id):
            if limited(current_caller()):  # as for any customer of another site
                raise NotFound(f"customer {customer_id} not found")
            raise NotFound(f"customer {customer_id} was erased: only anonymous amounts are kept")
        history = await self.store.get_history(customer_id)
        valued = valued_history(history, self.valuer)
        if history is None or valued is None:
            raise NotFound(f"customer {customer_id} not found")  # the guard's answer too
        limit = request.history_limit or DEFAULT_HISTORY
        if valued.value is not None:
            explained = value_message(valued.value)
        else:
            explained = events_pb2.CustomerValue(customer_id=history.customer_id)
        explained.at_risk.extend(at_risk_message(r) for r in reversed(valued.at_risk))
        changes = self.historian(history.purchases, history.lost, limit)
        explained.history.extend(change_message(c) for c in changes)
        standing = await self.store.standing(history.customer_id)
        if standing is not None:
            explained.rank, explained.site_customers = standing.rank, standing.site_customers
            explained.tier = tier_of(self.tiers, standing.rank, standing.site_customers)
        return explained

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
            and (not request.site_id or site_of(update) == request.site_id)
            and (not request.at_risk_only or at_risk)
        )

    return wanted


def site_of(update: events_pb2.ValueUpdated) -> str:
    """The site an update is about: the lost moment's, the tier change's, or the home site."""
    if update.HasField("at_risk"):
        return update.at_risk.site_id
    if update.HasField("tier_change"):
        return update.tier_change.site_id
    return update.value.site_id


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
