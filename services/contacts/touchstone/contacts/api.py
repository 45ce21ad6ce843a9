"""Contacts' gRPC servicer: customers and their touchpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

import grpc

from touchstone.contacts.admission import Admitted, admit_many, recorded_event
from touchstone.contacts.dlq_api import DeadLetterMethods
from touchstone.contacts.domain import (
    DEFAULT_INGEST_POLICY,
    IngestPolicy,
    Outcome,
    Violation,
    conflict_violation,
)
from touchstone.contacts.handlers import count_vocabulary_gaps
from touchstone.contacts.ports import DeadLetterStore
from touchstone.contacts.profile_api import ProfileMethods, ProfileTables
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1 import contacts_service_pb2_grpc as pb_grpc
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.platform.runtime.prototime import to_datetime
from touchstone.platform.security.auth_interceptor import current_caller
from touchstone.platform.security.site_scope import sites_counted
from touchstone.platform.serving.rpc import (
    AlreadyExists,
    InvalidArgument,
    Overloaded,
    PageRequest,
    require,
    rpc_method,
)

MAX_BATCH = 1000
STREAM_CHUNK = 500
STATUSES = {
    Outcome.RECORDED: pb.INGEST_STATUS_ACCEPTED,
    Outcome.DUPLICATE: pb.INGEST_STATUS_DUPLICATE,
    Outcome.CONFLICT: pb.INGEST_STATUS_CONFLICT,
}


def rejected(touchpoint: Touchpoint, violations: Sequence[Violation]) -> pb.IngestResult:
    """The result for a touchpoint that failed validation."""
    return pb.IngestResult(
        event_id=touchpoint.event_id,
        status=pb.INGEST_STATUS_REJECTED,
        violations=[pb.FieldViolation(field=v.field, description=v.reason) for v in violations],
    )


def batch_response(results: Sequence[pb.IngestResult]) -> pb.IngestBatchResponse:
    """Every result, and how many of each status."""
    statuses = [r.status for r in results]
    return pb.IngestBatchResponse(
        results=results,
        accepted=statuses.count(pb.INGEST_STATUS_ACCEPTED),
        duplicates=statuses.count(pb.INGEST_STATUS_DUPLICATE),
        rejected=statuses.count(pb.INGEST_STATUS_REJECTED),
        conflicts=statuses.count(pb.INGEST_STATUS_CONFLICT),
    )


class ContactsTables(DeadLetterStore, ProfileTables, Protocol):
    """Every table contacts' API reads or writes."""


class ContactsApi(ProfileMethods, DeadLetterMethods, pb_grpc.ContactsServiceServicer):
    """Records touchpoints from gRPC producers and answers queries from contacts' own tables."""

    store: ContactsTables

    def __init__(
        self,
        store: ContactsTables,
        policy: IngestPolicy = DEFAULT_INGEST_POLICY,
        backlog: Callable[[], int] = lambda: 0,
        max_lag: int = 0,
    ) -> None:
        self.store = store
        self.policy = policy
        self.backlog = backlog  # records contacts' consumer is behind on touchpoints.v1
        self.max_lag = max_lag  # further behind than this, ingest pushes back (0: never)

    def refuse_if_behind(self) -> None:
        """Overloaded (RESOURCE_EXHAUSTED, retry later) while contacts is too far behind: a
        producer that waits loses nothing, one that is taken on now makes the backlog worse."""
        if self.max_lag and (behind := self.backlog()) > self.max_lag:
            raise Overloaded(
                f"contacts is {behind:,} touchpoints behind (more than {self.max_lag:,}, "
                f"TOUCHSTONE_INGEST_MAX_LAG): retry in {Overloaded.retry_after_s} s"
            )

    async def ingest(self, touchpoints: Sequence[Touchpoint]) -> list[pb.IngestResult]:
        """Admit and record the touchpoints in one transaction; their events via the outbox."""
        self.refuse_if_behind()
        received_at = datetime.now(UTC)
        results: list[pb.IngestResult] = []
        admitted: list[tuple[int, Admitted]] = []
        received = [received_at] * len(touchpoints)
        admissions = await admit_many(list(touchpoints), received, self.policy, self.store)
        for touchpoint, admission in zip(touchpoints, admissions, strict=True):
            if isinstance(admission, Admitted):
                admitted.append((len(results), admission))
                results.append(pb.IngestResult(event_id=touchpoint.event_id))
            else:
                results.append(rejected(touchpoint, admission))
        rows = [a.row for _, a in admitted]
        outcomes = await self.store.record(
            rows, [None] * len(rows), [], [recorded_event(a) for _, a in admitted]
        )
        count_vocabulary_gaps(rows, outcomes)
        for (index, a), outcome in zip(admitted, outcomes, strict=True):
            result = results[index]
            result.status = STATUSES[outcome]
            result.customer_id = a.row.customer_id
            if outcome is Outcome.CONFLICT:
                v = conflict_violation(a.row.event_id)
                result.violations.append(pb.FieldViolation(field=v.field, description=v.reason))
        return results

    @rpc_method
    async def Ingest(
        self, request: pb.IngestRequest, context: grpc.aio.ServicerContext
    ) -> pb.IngestResult:
        (result,) = await self.ingest([request.touchpoint])
        if result.status == pb.INGEST_STATUS_REJECTED:
            raise InvalidArgument(
                *((f"touchpoint.{v.field}", v.description) for v in result.violations)
            )
        if result.status == pb.INGEST_STATUS_CONFLICT:
            raise AlreadyExists(result.violations[0].description)
        return result

    @rpc_method
    async def IngestBatch(
        self, request: pb.IngestBatchRequest, context: grpc.aio.ServicerContext
    ) -> pb.IngestBatchResponse:
        if len(request.touchpoints) > MAX_BATCH:
            raise InvalidArgument(("touchpoints", f"at most {MAX_BATCH} per batch"))
        return batch_response(await self.ingest(request.touchpoints))

    @rpc_method
    async def IngestStream(
        self, requests: AsyncIterator[pb.IngestRequest], context: grpc.aio.ServicerContext
    ) -> pb.IngestBatchResponse:
        results: list[pb.IngestResult] = []
        chunk: list[Touchpoint] = []
        async for request in requests:
            chunk.append(request.touchpoint)
            if len(chunk) == STREAM_CHUNK:
                results += await self.ingest(chunk)
                chunk = []
        results += await self.ingest(chunk) if chunk else []
        return batch_response(results)

    @rpc_method
    async def ListTouchpoints(
        self, request: pb.ListTouchpointsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTouchpointsResponse:
        customer_id = require("customer_id", request.customer_id)
        page = PageRequest.of(request.page_size, request.page_token)
        after = page.after
        if after is None and request.HasField("since"):
            after = (to_datetime(request.since), "")
        until = to_datetime(request.until) if request.HasField("until") else None
        rows = await self.store.list_touchpoints(customer_id, after, page.size, until)
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
        sites = sites_counted(current_caller())
        recorded, dead = await self.store.stats(sites)
        gaps = [
            pb.VocabularyGap(
                source=g.source,
                journey_map=g.journey_map,
                stage=g.stage,
                kind=g.kind,
                name=g.name,
                touchpoints=g.touchpoints,
            )
            for g in (await self.store.vocabulary_gaps() if sites is None else [])
        ]  # no site owns a producer's words: only callers who see every site see them
        return pb.IngestStats(recorded=recorded, dead_lettered=dead, vocabulary_gaps=gaps)
