"""What the guard records of a call (audit.py keeps it): commands always, refusals too, at a
rate one caller cannot turn into a flood."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import grpc

from touchstone.platform.security.access import is_command
from touchstone.platform.security.audit import KafkaAuditTrail, audit_record, named_ids
from touchstone.platform.security.auth import Principal
from touchstone.platform.security.limits import CALLS, CallerLimits
from touchstone.platform.serving.rpc import status_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refused:
    """A call that is not let through: its status code and why."""

    code: grpc.StatusCode
    reason: str
    caller: Principal | None = None  # who, when the token was good but the role or site not


Verdict = Principal | Refused


REFUSALS = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED"})
# Refusals recorded a second (then logged only). Assumptions, not from the domain: enough for
# every refusal a person or a misconfigured client causes, too few to fill a topic kept forever.
REFUSALS_AUDITED_PER_S = 5.0  # per caller: a token's subject, or without one its address
UNAUTHENTICATED_AUDITED_PER_S = 20.0  # every caller without a valid token, together
BUDGET = "/audit/refusal"  # the method name the budgets are kept under


# Metadata the HTTP gateway (http_gateway.py) sets: the address its caller called from, after a
# secret this process makes at start. Believed only on a call over a Unix socket (the gateway's
# private one) carrying that secret; anything else is the connection's own peer.
FORWARDED_PEER = "touchstone-http-peer"
_GATEWAY_SECRET = secrets.token_urlsafe(24)


def forwarded_peer(peer: str) -> str:
    """The FORWARDED_PEER value for an HTTP caller at peer (this process's gateway only)."""
    return f"{_GATEWAY_SECRET} {peer}"


def caller_peer(context: Any) -> str:
    """Where a call comes from, as gRPC writes a peer: the connection's own peer, or for a call
    this process's HTTP gateway passes on, its HTTP caller's."""
    peer = str(context.peer() if hasattr(context, "peer") else "")
    if peer.startswith("unix:"):
        for key, value in context.invocation_metadata() or ():
            secret, _, forwarded = str(value).partition(" ")
            if key == FORWARDED_PEER and secrets.compare_digest(secret, _GATEWAY_SECRET):
                return forwarded
    return peer


def peer_address(peer: str) -> str:
    """Where a call comes from, without its port (a new connection is a new port, not a new
    caller): the IPv4 address, the IPv6 /64 (one host's usual share), or the peer's kind."""
    kind, _, rest = unquote(peer).partition(":")
    if kind not in ("ipv4", "ipv6"):
        return kind or peer
    host = rest.rsplit(":", 1)[0].strip("[]")
    if kind == "ipv6":
        try:
            return str(ipaddress.ip_network(f"{host}/64", strict=False))
        except ValueError:
            return host
    return host


@dataclass
class RefusalBudget:
    """How many refusals a second are recorded: per caller with a valid token, per address
    without one, and for everyone without one together (many addresses cannot flood it
    either)."""

    per_caller: CallerLimits = field(
        default_factory=lambda: CallerLimits({CALLS: REFUSALS_AUDITED_PER_S}, 0)
    )
    anonymous: CallerLimits = field(
        default_factory=lambda: CallerLimits({CALLS: UNAUTHENTICATED_AUDITED_PER_S}, 0)
    )

    def admits(self, caller: Principal | None, address: str) -> bool:
        """Whether this refusal is recorded (its token taken)."""
        if caller is not None:
            return not self.per_caller.wait_s(caller.subject, BUDGET)
        if self.per_caller.wait_s(f"address {address}", BUDGET):
            return False
        return not self.anonymous.wait_s("anyone", BUDGET)


@dataclass(frozen=True)
class Audit:
    """What to record of one call: commands always, any call when it is refused."""

    trail: KafkaAuditTrail | None
    service: str
    method: str
    refusals: RefusalBudget | None = None  # how many refusals a second are recorded

    async def after(
        self,
        verdict: Verdict,
        request: Any,
        context: grpc.aio.ServicerContext,
        error: BaseException | None = None,
    ) -> None:
        """Record the call as it ended, if it is a command or was refused."""
        outcome = status_name(context) or _failure(error) or "OK"
        if self.trail is None or not (is_command(self.method) or outcome in REFUSALS):
            return
        refused = verdict.reason if isinstance(verdict, Refused) else _details(context)
        detail = refused if outcome in REFUSALS else named_ids(request)
        caller = verdict if isinstance(verdict, Principal) else verdict.caller
        peer = caller_peer(context)
        if outcome in REFUSALS and self._flooding(caller, peer_address(peer)):
            return
        await self.trail.record(
            audit_record(
                service=self.service,
                method=self.method,
                caller=caller,
                peer=peer,
                outcome=outcome,
                detail=detail,
            )
        )

    def _flooding(self, caller: Principal | None, address: str) -> bool:
        """Whether refusals come faster than they are recorded (the rest are logged, not kept
        forever: no caller, token or not, can fill the audit topic)."""
        if self.refusals is None or self.refusals.admits(caller, address):
            return False
        who = caller.subject if caller else address
        log.info("refusal of %s by %s not audited: too many a second", self.method, who)
        return True


def _failure(error: BaseException | None) -> str:
    """The status a call that raised ends with, when no code was set."""
    if error is None:
        return ""
    return "CANCELLED" if isinstance(error, asyncio.CancelledError) else "UNKNOWN"


def _details(context: grpc.aio.ServicerContext) -> str:
    details = context.details() if hasattr(context, "details") else ""
    return str(details or "")
