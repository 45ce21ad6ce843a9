"""Notify's gRPC servicer: recovery cases."""

from __future__ import annotations

from datetime import datetime

import grpc

from notify.codec import STATUS_NAMES, case_message
from notify.store import CaseFilter, NotifyStore
from touchstone.common.rpc import (
    InvalidArgument,
    NotFound,
    decode_page_token,
    encode_page_token,
    page_size,
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
        limit = page_size(request.page_size)
        position = decode_page_token(request.page_token, 2)
        after = (datetime.fromisoformat(position[0]), position[1]) if position else None
        rows, total = await self.store.list_cases(where, after, limit)
        response = pb.ListCasesResponse(cases=[case_message(r) for r in rows], total=total)
        if len(rows) == limit:
            last = rows[-1]
            response.next_page_token = encode_page_token(last.opened_at.isoformat(), last.case_id)
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
