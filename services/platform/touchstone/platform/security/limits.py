"""Limits per caller, so that no one caller can crowd out the others: calls per second (ingest and
everything else counted apart), and streams open at once. Each worker keeps its own counts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

INGEST, CALLS = "ingest", "calls"
MAX_TRACKED = 10_000  # buckets kept before idle ones are forgotten
# a client stream's messages cost what calls carrying this many each would: its first this many
# came with the call, each this many more take another token (contacts ingests a stream in
# chunks of 500)
MESSAGES_PER_CALL = 500


def kind_of(method: str) -> str:
    """Which budget a method spends: ingest, or every other call."""
    return INGEST if method.rsplit("/", 1)[-1].startswith("Ingest") else CALLS


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up."""

    rate: float
    burst: float
    tokens: float
    at: float

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise the seconds until one is there."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class CallerLimits:
    """Each caller's buckets by kind, and their open streams."""

    rates: dict[str, float]  # kind -> calls a second per caller (0: unlimited)
    max_streams: int  # open server streams per caller (0: unlimited)
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    _streams: dict[str, int] = field(default_factory=dict)

    def refusal(self, subject: str, method: str) -> str:
        """Why the caller must wait before this call ('' when it may go ahead)."""
        if not (wait := self.wait_s(subject, method)):
            return ""
        kind = kind_of(method)
        what = "ingest calls" if kind == INGEST else "calls"
        return f"rate limit: {self.rates[kind]:g} {what} a second per caller; retry in {wait:.2f}s"

    def waiting_s(self, subject: str, method: str) -> float:
        """The seconds until the caller's bucket for the method has a token (0: it has one);
        nothing is taken."""
        bucket = self._buckets.get((subject, kind_of(method)))
        if bucket is None:
            return 0.0
        filled = bucket.tokens + (self.clock() - bucket.at) * bucket.rate
        return 0.0 if filled >= 1 else (1 - filled) / bucket.rate

    def wait_s(self, subject: str, method: str) -> float:
        """0 when the caller's bucket had a token for the method (taken); otherwise the seconds
        until it will have one."""
        kind = kind_of(method)
        rate = self.rates.get(kind, 0.0)
        if rate <= 0:
            return 0.0
        now = self.clock()
        bucket = self._buckets.get((subject, kind))
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_idle(now)
            bucket = self._buckets[(subject, kind)] = TokenBucket(rate, 2 * rate, 2 * rate, now)
        return bucket.take(now)

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have filled up again: their callers are as if new."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * bucket.rate >= bucket.burst:
                del self._buckets[key]

    def open_stream(self, subject: str) -> str:
        """Count a stream the caller opens; why it may not ('' when it may)."""
        open_now = self._streams.get(subject, 0)
        if self.max_streams and open_now >= self.max_streams:
            return f"stream limit: at most {self.max_streams} open streams per caller"
        self._streams[subject] = open_now + 1
        return ""

    def close_stream(self, subject: str) -> None:
        """Count a stream the caller closed."""
        left = self._streams.get(subject, 1) - 1
        if left > 0:
            self._streams[subject] = left
        else:
            self._streams.pop(subject, None)
