"""The server side of authentication and authorisation: every call but health and reflection
needs a bearer token, and a role the method's access rule names (access.py).

A call without a valid token ends UNAUTHENTICATED with the reason (never the token); one whose
caller lacks the role ends PERMISSION_DENIED, saying which roles would do. An admitted caller is
known to the servicer for the length of the call (`current_caller()`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from touchstone.platform.security.access import refusal
from touchstone.platform.security.audit import KafkaAuditTrail
from touchstone.platform.security.auth import KeySet, Principal, Unauthenticated
from touchstone.platform.security.call_audit import (
    Audit,
    RefusalBudget,
    Refused,
    Verdict,
    caller_peer,
    peer_address,
)
from touchstone.platform.security.limits import CALLS, MESSAGES_PER_CALL, CallerLimits
from touchstone.platform.security.personal_data import mask, may_see_personal_data
from touchstone.platform.security.site_scope import (
    foreign_site,
    not_found_text,
    prune,
    request_refusal,
)
from touchstone.platform.serving.rpc import Continuation, status_name

log = logging.getLogger(__name__)

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")  # schema only, no data
BEARER = "bearer "
# Calls without a valid token an address may make a second before the rest are refused unread
# (no signature checked: a flood of forged tokens costs the server nothing). Assumption, not from
# the domain: a client whose token expired finds out on its first call, not its twentieth.
UNAUTHENTICATED_PER_S = 10.0
# Signatures checked a second for tokens not verified before, across every address together:
# forged tokens from many addresses cannot buy more CPU than this. Assumption, not from the
# domain: a check (PyJWT, EdDSA, every claim) took 0.37 ms on a busy 2-core machine, so 200/s is
# under 8% of a core; a fresh worker whose 1,000 callers all reconnect has checked them all in
# about 3 s (400 at once, then 200/s), and tokens checked before never wait.
SIGNATURE_CHECKS_PER_S = 200.0
EVERY_ADDRESS = "*"

_caller: ContextVar[Principal | None] = ContextVar("touchstone_caller", default=None)


def current_caller() -> Principal | None:
    """The authenticated caller of the call being served (None outside one)."""
    return _caller.get()


def bearer_token(metadata: Any) -> str:
    """The token of an `authorization: Bearer …` header; Unauthenticated without one."""
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode() if isinstance(value, bytes) else str(value)
            if text.lower().startswith(BEARER):
                return text[len(BEARER) :].strip()
            raise Unauthenticated("the authorization header is not a Bearer token")
    raise Unauthenticated("no bearer token: send the header authorization: Bearer <token>")


@dataclass(frozen=True)
class Call:
    """How one call is watched: its audit, the caller limits, and the longest it may run."""

    audit: Audit
    limits: CallerLimits | None
    max_call_s: float
    judge: Callable[[str], Verdict]  # the peer -> the caller, or why the call is refused
    method: str = ""

    def verdict(self, context: grpc.aio.ServicerContext) -> Verdict:
        """The caller, or why the call is refused, judged where the call comes from."""
        return self.judge(caller_peer(context))

    async def pace(self, caller: Principal) -> None:
        """Wait until the caller's rate allows another call's worth of this method."""
        while self.limits and (wait := self.limits.wait_s(caller.subject, self.method)):
            await asyncio.sleep(wait)


class Authenticate(grpc.aio.ServerInterceptor):
    """Verifies each call's bearer token against the key set, the caller's roles against the
    method's access rule and the caller's limits, before the servicer sees it; audits commands
    and refusals."""

    def __init__(
        self,
        keys: KeySet,
        trail: KafkaAuditTrail | None = None,
        service: str = "",
        limits: CallerLimits | None = None,
        max_call_s: float = 0.0,
    ) -> None:
        self.keys = keys
        self.trail = trail
        self.service = service
        self.limits = limits
        self.max_call_s = max_call_s
        self.refusal_budget = RefusalBudget()
        self.unauthenticated = CallerLimits({CALLS: UNAUTHENTICATED_PER_S}, 0)
        self.signature_checks = CallerLimits({CALLS: SIGNATURE_CHECKS_PER_S}, 0)

    async def intercept_service(
        self,
        continuation: Continuation,
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(OPEN_SERVICES):
            return handler
        method = handler_call_details.method
        audit = Audit(self.trail, self.service, method, self.refusal_budget)

        def judged(peer: str) -> Verdict:
            verdict = self.judge(handler_call_details, peer)
            if isinstance(verdict, Refused):
                log.info("refused %s: %s", method, verdict.reason)
            return verdict

        return _guarded(handler, Call(audit, self.limits, self.max_call_s, judged, method))

    async def close(self) -> None:
        """Flush the audit trail (the server has stopped)."""
        if self.trail is not None:
            await self.trail.close()

    def judge(self, details: grpc.HandlerCallDetails, peer: str = "") -> Verdict:
        """The caller, or why the call is refused. A token verified before goes through at once;
        any other is checked only while its address has not sent too many bad ones (callers
        behind one proxy share an address: a bad client there slows only new tokens), and while
        the server checks fewer than SIGNATURE_CHECKS_PER_S from all addresses together."""
        address = peer_address(peer)
        try:
            token = bearer_token(details.invocation_metadata)
            caller = self.keys.remembered(token)
            if caller is None:
                if pause := self.unauthenticated.waiting_s(address, CALLS):
                    return Refused(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"too many calls without a valid token from {address}; "
                        f"retry in {pause:.2f}s",
                    )
                self.keys.key_for(token)  # cheap refusals first: not a JWT, no such key
                if pause := self.signature_checks.wait_s(EVERY_ADDRESS, CALLS):
                    return Refused(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"too many new tokens to check just now; retry in {pause:.2f}s",
                    )
                caller = self.keys.verify(token)
        except Unauthenticated as refused:
            self.unauthenticated.wait_s(address, CALLS)  # one of the address's failures
            return Refused(grpc.StatusCode.UNAUTHENTICATED, str(refused))
        if denied := refusal(details.method, caller):
            return Refused(grpc.StatusCode.PERMISSION_DENIED, denied, caller)
        if self.limits and (wait := self.limits.refusal(caller.subject, details.method)):
            return Refused(grpc.StatusCode.RESOURCE_EXHAUSTED, wait, caller)
        return caller


async def _admit(verdict: Verdict, context: grpc.aio.ServicerContext) -> None:
    if isinstance(verdict, Refused):
        await context.abort(verdict.code, verdict.reason)
    else:
        _caller.set(verdict)


def _guarded(handler: grpc.RpcMethodHandler, call: Call) -> Any:
    """The same kind of handler, admitting the call first and auditing it after."""
    codec = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(_unary(handler.unary_unary, call), **codec)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(_unary(handler.stream_unary, call), **codec)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(_stream(handler.unary_stream, call), **codec)
    return grpc.stream_stream_rpc_method_handler(_stream(handler.stream_stream, call), **codec)


def _unary(inner: Any, call: Call) -> Any:
    async def admitted(request: Any, context: grpc.aio.ServicerContext) -> Any:
        verdict = call.verdict(context)
        error: BaseException | None = None
        streaming = False
        try:
            await _admit(verdict, context)
            await _check_request(request, verdict, context)
            if not isinstance(request, Message) and isinstance(verdict, Principal):
                await _open_stream(call, verdict, context)  # a client stream counts as one
                streaming = True
                request = _checked_stream(request, verdict, context, call)
            reply = await _within(call.max_call_s, inner(request, context), request, context)
            if isinstance(verdict, Principal) and isinstance(reply, Message):
                if foreign_site(reply, verdict):  # as if there were no such thing
                    await context.abort(grpc.StatusCode.NOT_FOUND, not_found_text(request))
                _fit_for(reply, verdict)
            return reply
        except BaseException as raised:
            error = raised
            raise
        finally:
            if streaming and call.limits and isinstance(verdict, Principal):
                call.limits.close_stream(verdict.subject)
            await call.audit.after(verdict, request, context, error)

    return admitted


def _stream(inner: Any, call: Call) -> Any:
    async def admitted(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        verdict = call.verdict(context)
        try:
            await _admit(verdict, context)
            await _check_request(request, verdict, context)
            await _open_stream(call, verdict, context)
        finally:
            if status_name(context):  # refused before the stream began
                await call.audit.after(verdict, request, context)
        try:
            async for reply in _replies(inner(request, context), verdict):
                yield reply
        finally:
            if call.limits and isinstance(verdict, Principal):
                call.limits.close_stream(verdict.subject)

    return admitted


async def _open_stream(call: Call, verdict: Verdict, context: grpc.aio.ServicerContext) -> None:
    if not (call.limits and isinstance(verdict, Principal)):
        return
    if refused := call.limits.open_stream(verdict.subject):
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, refused)


async def _within(
    limit_s: float, reply: Awaitable[Any], request: Any, context: grpc.aio.ServicerContext
) -> Any:
    """The reply, or DEADLINE_EXCEEDED once the call has run limit_s (0: no limit of its own;
    a client's shorter deadline ends it sooner anyway)."""
    if limit_s <= 0 or not isinstance(request, Message):
        return await reply
    try:
        return await asyncio.wait_for(reply, timeout=limit_s)
    except TimeoutError:
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED, f"the call ran past the server's {limit_s:g}s limit"
        )


async def _replies(replies: Any, verdict: Verdict) -> AsyncIterator[Any]:
    """The servicer's replies fit for the caller: other sites' events left out, data masked."""
    if not inspect.isasyncgen(replies):
        await replies  # a servicer that writes to the context itself
        return
    async for reply in replies:
        if isinstance(verdict, Principal) and isinstance(reply, Message):
            if foreign_site(reply, verdict):
                continue  # another site's event: not this caller's to see
            _fit_for(reply, verdict)
        yield reply


async def _checked_stream(
    requests: AsyncIterator[Any],
    caller: Principal,
    context: grpc.aio.ServicerContext,
    call: Call,
) -> AsyncIterator[Any]:
    """A client stream's messages, each checked as a request is: the stream ends
    PERMISSION_DENIED at the first one carrying a site the caller may not see (those before
    it have been taken). Past the first MESSAGES_PER_CALL, each as many more wait for the
    caller's rate as a call would: the stream slows down (flow control holds the client back),
    nothing is refused or lost."""
    count = 0
    async for request in requests:
        if isinstance(request, Message) and (reason := request_refusal(request, caller)):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, reason)
        count += 1
        if count > MESSAGES_PER_CALL and count % MESSAGES_PER_CALL == 1:
            await call.pace(caller)  # messages 501, 1001, ...: another call's worth
        yield request


def _fit_for(reply: Message, caller: Principal) -> None:
    """Drop other sites' entries, and mask personal data the caller may not see."""
    prune(reply, caller)
    if not may_see_personal_data(caller):
        mask(reply, own=caller.subject)


async def _check_request(request: Any, verdict: Verdict, context: grpc.aio.ServicerContext) -> None:
    """A request for a site the caller may not see ends PERMISSION_DENIED."""
    if not (isinstance(verdict, Principal) and isinstance(request, Message)):
        return
    if reason := request_refusal(request, verdict):
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, reason)
