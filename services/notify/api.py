"""Notify's gRPC servicer: recovery cases."""

from __future__ import annotations

import grpc

from notify.codec import STATUS_NAMES, case_message
from notify.store import CaseFilter, NotifyStore
from touchstone.common.rpc import (
    InvalidArgument,
    NotFound,
    PageRequest,
    require,
    rpc_method,
)
from touchstone.notify.v1 import notify_service_pb2 as pb
from touchstone.notify.v1 import notify_service_pb2_grpc as pb_grpc
from touchstone.notify.v1.events_pb2 import CASE_STATUS_UNSPECIFIED


def case_filter(request: pb.ListCasesRequest) -> CaseFilter:
    """The store filter a ListCases request asks for."""
    if request.status != CASE_STATUS_UNSPECIFIED and request.status not in STATUS_NAMES:
        raise InvalidArgument(("status", f"unknown status {request.status}"))
    return CaseFilter(
        customer_id=request.customer_id,
        site_id=request.site_id,
        status=STATUS_NAMES.get(request.status, ""),
    )


class NotifyApi(pb_grpc.NotifyServiceServicer):
    """Answers queries from notify's own tables."""

    def __init__(self, store: NotifyStore) -> None:
        self.store = store

    @rpc_method
    async def ListCases(
        self, request: pb.ListCasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCasesResponse:
        where = case_filter(request)
        page = PageRequest.of(request.page_size, request.page_token)
        rows, total = await self.store.list_cases(where, page.after, page.size)
        response = pb.ListCasesResponse(cases=[case_message(r) for r in rows], total=total)
        response.next_page_token = page.next_token(rows, lambda r: (r.opened_at, r.case_id))
        return response

    @rpc_method
    async def GetCase(
        self, request: pb.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.Case:
        case_id = require("case_id", request.case_id)
        case = await self.store.get_case(case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case_message(case)
