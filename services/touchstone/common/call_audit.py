"""What the guard records of a call (audit.py keeps it): commands always, refusals too, at a
rate one caller cannot turn into a flood."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import grpc

from touchstone.common.access import is_command
from touchstone.common.audit import KafkaAuditTrail, audit_record, named_ids
from touchstone.common.auth import Principal
from touchstone.common.limits import CallerLimits
from touchstone.common.rpc import status_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refused:
    """A call that is not let through: its status code and why."""

    code: grpc.StatusCode
    reason: str
    caller: Principal | None = None  # who, when the token was good but the role or site not


Verdict = Principal | Refused


REFUSALS = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED"})
REFUSALS_AUDITED_PER_S = 5.0  # per caller (a token's subject, or the peer without one)


@dataclass(frozen=True)
class Audit:
    """What to record of one call: commands always, any call when it is refused."""

    trail: KafkaAuditTrail | None
    service: str
    method: str
    refusals: CallerLimits | None = None  # how many refusals a second are recorded per caller

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
        peer = context.peer() if hasattr(context, "peer") else ""
        if outcome in REFUSALS and self._flooding(caller.subject if caller else peer):
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

    def _flooding(self, who: str) -> bool:
        """Whether this caller's refusals come faster than they are recorded (the rest are
        logged, not kept forever: an unauthenticated caller cannot fill the audit topic)."""
        if self.refusals is None or not self.refusals.refusal(who, "/audit/refusal"):
            return False
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
