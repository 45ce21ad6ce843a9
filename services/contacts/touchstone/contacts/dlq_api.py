"""The dead-letter part of contacts' gRPC service: list, show and redrive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from touchstone.contacts.admission import Admitted, admit_bytes
from touchstone.contacts.domain import DEFAULT_INGEST_POLICY, IngestPolicy
from touchstone.contacts.ports import DeadLetterQuery, DeadLetterStore, StoredDeadLetter, parse_id
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.platform.messaging.topics import content_type_of
from touchstone.platform.runtime.prototime import to_datetime, to_timestamp
from touchstone.platform.security.auth_interceptor import current_caller
from touchstone.platform.security.site_scope import limited
from touchstone.platform.serving.rpc import (
    InvalidArgument,
    NotFound,
    PageRequest,
    PermissionDenied,
    require,
    rpc_method,
)


def dead_letter_query(given: pb.DeadLetterFilter, ids: tuple[str, ...] = ()) -> DeadLetterQuery:
    """The store query for a request's filter (or explicit ids)."""
    for value in ids:
        if parse_id(value) is None:
            raise InvalidArgument(("ids", f"{value!r} is not topic/partition/offset"))
    return DeadLetterQuery(
        reason_contains=given.reason_contains,
        field=given.field,
        source=given.source,
        since=to_datetime(given.since) if given.HasField("since") else None,
        until=to_datetime(given.until) if given.HasField("until") else None,
        include_redriven=given.include_redriven,
        ids=ids,
    )


def dead_letter_message(letter: StoredDeadLetter, *, with_bytes: bool) -> pb.DeadLetter:
    """A dead letter as a contract message; the original bytes only when asked for."""
    a = letter.arrival
    message = pb.DeadLetter(
        id=letter.id,
        topic=a.topic,
        partition=a.partition,
        offset=a.offset,
        reason=letter.reason,
        field=letter.field,
        source=a.source,
        received_at=to_timestamp(a.received_at),
    )
    if letter.redriven_at is not None:
        message.redriven_at.CopyFrom(to_timestamp(letter.redriven_at))
    if with_bytes:
        message.key, message.value = a.key, a.value
        message.headers.extend(pb.Header(name=n, value=v) for n, v in a.headers)
    return message


def redrivable(
    valid: Callable[[StoredDeadLetter], bool],
) -> Callable[[StoredDeadLetter], bool]:
    """Which dead letters a redrive sends again: those that still have their bytes (erasure and
    age take them away: there is nothing left to send) and are `valid`."""
    return lambda letter: letter.has_bytes and valid(letter)


def valid_at(now: datetime, policy: IngestPolicy) -> Callable[[StoredDeadLetter], bool]:
    """Whether a dead letter would be admitted if it arrived at `now` (fixed since)."""

    def check(letter: StoredDeadLetter) -> bool:
        a = letter.arrival
        content_type = content_type_of(dict(a.headers))
        return isinstance(admit_bytes(a.value, content_type, now, policy), Admitted)

    return check


def every_site_only() -> None:
    """PermissionDenied for a caller limited to some sites: a dead letter belongs to no site
    (many cannot even be read), so only callers who see every site may read or redrive them."""
    if limited(current_caller()):
        raise PermissionDenied(
            "dead letters belong to no site: only callers who see every site may use them"
        )


class DeadLetterMethods:
    """gRPC methods over the dead letters; mixed into the contacts servicer."""

    store: DeadLetterStore
    policy: IngestPolicy = DEFAULT_INGEST_POLICY

    @rpc_method
    async def ListDeadLetters(
        self, request: pb.ListDeadLettersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDeadLettersResponse:
        every_site_only()
        page = PageRequest.of(request.page_size, request.page_token)
        query = dead_letter_query(request.filter)
        letters, total, counts = await self.store.list_dead_letters(query, page.after, page.size)
        return pb.ListDeadLettersResponse(
            dead_letters=[dead_letter_message(d, with_bytes=False) for d in letters],
            next_page_token=page.next_token(letters, lambda d: (d.arrival.received_at, d.id)),
            total=total,
            counts=[pb.DeadLetterCount(field=f, source=s, count=c) for f, s, c in counts],
        )

    @rpc_method
    async def GetDeadLetter(
        self, request: pb.GetDeadLetterRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeadLetter:
        every_site_only()
        dead_letter_id = require("id", request.id)
        if parse_id(dead_letter_id) is None:
            raise InvalidArgument(("id", "is not topic/partition/offset"))
        letter = await self.store.get_dead_letter(dead_letter_id)
        if letter is None:
            raise NotFound(f"dead letter {dead_letter_id} not found")
        return dead_letter_message(letter, with_bytes=True)

    @rpc_method
    async def RedriveDeadLetters(
        self, request: pb.RedriveDeadLettersRequest, context: grpc.aio.ServicerContext
    ) -> pb.RedriveDeadLettersResponse:
        every_site_only()
        query = dead_letter_query(request.filter, tuple(request.ids))
        now = datetime.now(UTC)
        valid = valid_at(now, self.policy) if request.only_valid_now else (lambda _: True)
        redriven, skipped = await self.store.redrive(query, redrivable(valid), request.dry_run)
        return pb.RedriveDeadLettersResponse(redriven=redriven, still_invalid=skipped)
