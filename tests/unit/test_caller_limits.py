"""Limits per caller: calls a second (ingest and the rest counted apart), open streams, and how
long a unary call may run."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from touchstone.notify.v1 import notify_service_pb2 as notify
from touchstone.platform.security.auth_interceptor import _within
from touchstone.platform.security.limits import CALLS, INGEST, CallerLimits, kind_of

LIST = "/touchstone.notify.v1.NotifyService/ListCases"
INGEST_RPC = "/touchstone.contacts.v1.ContactsService/IngestBatch"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_caller_has_a_burst_then_the_rate_and_is_told_when_to_retry() -> None:
    clock = Clock()
    limits = CallerLimits({CALLS: 2.0, INGEST: 100.0}, 0, clock)
    assert [limits.refusal("lan", LIST) for _ in range(4)] == ["", "", "", ""]  # burst: 2 x rate
    assert limits.refusal("lan", LIST) == (
        "rate limit: 2 calls a second per caller; retry in 0.50s"
    )
    assert limits.refusal("minh", LIST) == ""  # another caller has their own budget
    assert limits.refusal("lan", INGEST_RPC) == ""  # ingest is counted apart
    clock.now += 0.5
    assert limits.refusal("lan", LIST) == ""  # a token came back
    assert kind_of(INGEST_RPC) == INGEST and kind_of(LIST) == CALLS


def test_a_rate_of_zero_is_unlimited() -> None:
    limits = CallerLimits({CALLS: 0.0}, 0, Clock())
    assert all(limits.refusal("lan", LIST) == "" for _ in range(1000))


def test_a_caller_holds_at_most_so_many_streams_and_closing_one_frees_it() -> None:
    limits = CallerLimits({}, 2, Clock())
    assert limits.open_stream("lan") == "" and limits.open_stream("lan") == ""
    assert limits.open_stream("lan") == "stream limit: at most 2 open streams per caller"
    assert limits.open_stream("minh") == ""
    limits.close_stream("lan")
    assert limits.open_stream("lan") == ""


class AbortingContext:
    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.aborted = (code, details)
        raise RuntimeError("aborted")


def test_a_unary_call_that_runs_past_the_servers_limit_ends_deadline_exceeded() -> None:
    async def slow() -> str:
        await asyncio.sleep(5)
        return "late"

    context = AbortingContext()
    with pytest.raises(RuntimeError, match="aborted"):
        asyncio.run(_within(0.05, slow(), notify.ListCasesRequest(), context))  # type: ignore[arg-type]
    assert context.aborted == (
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "the call ran past the server's 0.05s limit",
    )

    async def quick() -> str:
        return "on time"

    assert asyncio.run(_within(1.0, quick(), notify.ListCasesRequest(), context)) == "on time"  # type: ignore[arg-type]


STREAM_RPC = "/touchstone.contacts.v1.ContactsService/IngestStream"


class FakeContext:
    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise AssertionError(f"aborted {code}: {details}")


def test_a_client_streams_messages_wait_for_the_rate_a_calls_worth_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1 ingest call a second (burst 2): the call took a token; messages 501 and 1001 are another
    call's worth each: the first finds the second token, the next waits a second for its own."""
    from touchstone.platform.security.auth import Principal
    from touchstone.platform.security.auth_interceptor import Call, _checked_stream
    from touchstone.platform.security.call_audit import Audit
    from touchstone.platform.security.limits import MESSAGES_PER_CALL

    clock = Clock()
    limits = CallerLimits({INGEST: 1.0}, 0, clock)
    till = Principal("till-7", frozenset({"producer"}), frozenset({"*"}))
    assert limits.refusal(till.subject, STREAM_RPC) == ""  # the call itself
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr(asyncio, "sleep", sleep)
    call = Call(Audit(None, "contacts", STREAM_RPC), limits, 0.0, lambda peer: till, STREAM_RPC)

    async def messages() -> object:
        for n in range(1, 2 * MESSAGES_PER_CALL + 2):
            yield n

    async def read() -> list[object]:
        stream = _checked_stream(messages(), till, FakeContext(), call)  # type: ignore[arg-type]
        return [m async for m in stream]

    assert asyncio.run(read()) == list(range(1, 2 * MESSAGES_PER_CALL + 2))  # none lost
    assert slept == [1.0]
