"""The channels the system sends through: email over SMTP, and signed webhooks.

Each attempt carries the delivery id as its idempotency key (the email's Message-ID, the
webhook's Idempotency-Key header), so a receiver that sees an attempt repeated after a crash
knows it. Failures are Transient (try again later) or Permanent (dead-letter now).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from email.message import EmailMessage
from typing import Protocol

import aiohttp
import aiosmtplib

from notify.delivery_store import Attempt

SIGNATURE_HEADER = "Touchstone-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_HTTP = frozenset({408, 425, 429})


class Channel(Protocol):
    """Where attempts go."""

    async def send(self, attempt: Attempt) -> None:
        """Deliver it, or raise Transient or Permanent."""

    async def close(self) -> None:
        """Let go of connections."""


class DeliveryFailed(Exception):
    """An attempt that did not reach the receiver."""

    permanent = False


class Transient(DeliveryFailed):
    """Worth trying again later: the receiver was down, slow or busy."""


class Permanent(DeliveryFailed):
    """Trying again will not help: the receiver refused this delivery."""

    permanent = True


class EmailChannel:
    """Sends over one SMTP connection, reopened when it drops."""

    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s
        self._smtp: aiosmtplib.SMTP | None = None

    def message(self, attempt: Attempt) -> EmailMessage:
        """The email an attempt sends; its Message-ID is the delivery id."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = attempt.address
        email["Subject"] = attempt.message.subject
        email["Message-ID"] = f"<{attempt.delivery_id}@touchstone>"
        email["X-Touchstone-Case"] = attempt.case_id
        email.set_content(attempt.message.body)
        email["Content-Language"] = attempt.message.language  # set_content clears Content-*
        return email

    async def send(self, attempt: Attempt) -> None:
        try:
            smtp = await self._connected()
            await smtp.send_message(self.message(attempt))
        # The reasons name codes and error kinds only: servers repeat the address in their
        # text, and a reason goes to logs, GetCase and the dead-letter topic.
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = ",".join(sorted({str(r.code) for r in error.recipients}))
            raise Permanent(f"SMTP {codes}: the recipient was refused") from error
        except aiosmtplib.SMTPResponseException as error:
            await self.close()
            failure = Permanent if 500 <= error.code < 600 else Transient
            raise failure(f"SMTP {error.code}: the server refused the message") from error
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as error:
            await self.close()
            raise Transient(f"SMTP: {type(error).__name__}") from error

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            self._smtp = aiosmtplib.SMTP(
                hostname=self.host, port=self.port, timeout=self.timeout_s, start_tls=False
            )
            await self._smtp.connect()
        return self._smtp

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The Touchstone-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: bytes, header: str, body: bytes, now: float, tolerance_s: float = 300
) -> bool:
    """Whether a webhook's signature is ours and fresh (receivers call this)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    fresh = abs(now - timestamp) <= tolerance_s
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookChannel:
    """POSTs each delivery as JSON, signed with the shared secret."""

    def __init__(self, url: str, secret: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self.secret = secret.encode()
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def request(self, attempt: Attempt, now: float) -> tuple[bytes, dict[str, str]]:
        """The body and headers of an attempt."""
        body = json.dumps(attempt.payload(), ensure_ascii=False, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: attempt.delivery_id,
            SIGNATURE_HEADER: signature(self.secret, int(now), body),
            "Touchstone-Attempt": str(attempt.number),
        }
        return body, headers

    async def send(self, attempt: Attempt) -> None:
        body, headers = self.request(attempt, time.time())
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            raise Transient(f"webhook: {type(error).__name__}") from error
        if 200 <= status < 300:
            return
        failure = Transient if status >= 500 or status in RETRYABLE_HTTP else Permanent
        raise failure(f"webhook answered HTTP {status}")

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
