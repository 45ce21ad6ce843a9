"""Loyalty's gRPC servicer: customers' lifetime values."""

from __future__ import annotations

import grpc

from loyalty.codec import value_message
from loyalty.store import LoyaltyStore, Valuer
from touchstone.common.rpc import NotFound, require, rpc_method
from touchstone.loyalty.v1 import events_pb2
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.v1 import loyalty_service_pb2_grpc as pb_grpc


class LoyaltyApi(pb_grpc.LoyaltyServiceServicer):
    """Answers queries from loyalty's own tables."""

    def __init__(self, store: LoyaltyStore, valuer: Valuer) -> None:
        self.store = store
        self.valuer = valuer

    @rpc_method
    async def GetCustomerValue(
        self, request: pb.GetCustomerValueRequest, context: grpc.aio.ServicerContext
    ) -> events_pb2.CustomerValue:
        customer_id = require("customer_id", request.customer_id)
        valued = await self.store.get_value(customer_id, self.valuer)
        if valued is None or valued.value is None:
            raise NotFound(f"no purchases recorded for customer {customer_id}")
        return value_message(valued.value)
