"""Contacts' gRPC servicer: customers and their touchpoints."""

from __future__ import annotations

import grpc

from contacts.codec import IDENTITY_KIND_NAMES
from contacts.store import ContactsStore
from touchstone.common.prototime import to_timestamp
from touchstone.common.rpc import (
    NotFound,
    PageRequest,
    require,
    rpc_method,
)
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1 import contacts_service_pb2_grpc as pb_grpc
from touchstone.contacts.v1.touchpoint_pb2 import ExternalIdentity, Touchpoint

KIND_BY_NAME = {name: kind for kind, name in IDENTITY_KIND_NAMES.items()}


class ContactsApi(pb_grpc.ContactsServiceServicer):
    """Answers queries from contacts' own tables."""

    def __init__(self, store: ContactsStore) -> None:
        self.store = store

    @rpc_method
    async def GetCustomer(
        self, request: pb.GetCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Customer:
        customer_id = require("customer_id", request.customer_id)
        row = await self.store.get_customer(customer_id)
        if row is None:
            raise NotFound(f"customer {customer_id} not found")
        return pb.Customer(
            customer_id=row.customer_id,
            identities=[ExternalIdentity(kind=KIND_BY_NAME[k], value=v) for k, v in row.identities],
            touchpoint_count=row.touchpoint_count,
            first_seen=to_timestamp(row.first_seen),
            last_seen=to_timestamp(row.last_seen),
        )

    @rpc_method
    async def ListTouchpoints(
        self, request: pb.ListTouchpointsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTouchpointsResponse:
        customer_id = require("customer_id", request.customer_id)
        page = PageRequest.of(request.page_size, request.page_token)
        rows = await self.store.list_touchpoints(customer_id, page.after, page.size)
        response = pb.ListTouchpointsResponse(
            touchpoints=[
                pb.RecordedTouchpoint(
                    touchpoint=Touchpoint.FromString(r.payload),
                    customer_id=r.customer_id,
                    visit_id=r.visit_id,
                )
                for r in rows
            ]
        )
        response.next_page_token = page.next_token(rows, lambda r: (r.occurred_at, r.event_id))
        return response

    @rpc_method
    async def GetIngestStats(
        self, request: pb.GetIngestStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.IngestStats:
        recorded, dead = await self.store.stats()
        return pb.IngestStats(recorded=recorded, dead_lettered=dead)
