"""The channels the system sends through: email over SMTP, and signed webhooks.

Each attempt carries the delivery id as its idempotency key (the email's Message-ID, the
webhook's webhook-id and Idempotency-Key headers), so a receiver that sees an attempt repeated
after a crash knows it. Webhooks are signed as the Standard Webhooks specification says
(https://www.standardwebhooks.com: HMAC-SHA256 of "id.timestamp.body"), so receivers in any
language verify them with a library of their own; redirects are never followed (a signed body
goes only where the operator said). Failures are Transient (try again later) or Permanent
(dead-letter now).
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib
from standardwebhooks import Webhook

from touchstone.notify.ports import Attempt
from touchstone.platform.security.hosts import is_loopback

WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)
IDEMPOTENCY_HEADER = "Idempotency-Key"
SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 32  # the key HMAC-SHA256 signs with: no shorter than its output
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


@dataclass(frozen=True)
class SmtpSecurity:
    """How notify talks to its mail server: STARTTLS, verified against the system's CAs or
    `tls_ca`, whenever the server is beyond this machine or a CA is given; in clear beyond this
    machine only when the operator says so (`plaintext`); logged in when given a user."""

    tls_ca: Path | None = None
    username: str = ""
    password: str = field(default="", repr=False)
    plaintext: bool = False

    def starts_tls(self, host: str) -> bool:
        """Whether a connection to host must be upgraded with STARTTLS."""
        return self.tls_ca is not None or not (is_loopback(host) or self.plaintext)

    def tls_context(self) -> ssl.SSLContext | None:
        """The context certificates are verified with (None: the system's CAs)."""
        return None if self.tls_ca is None else ssl.create_default_context(cafile=self.tls_ca)


LOOPBACK_SMTP = SmtpSecurity()  # the local stack's mail catcher: in clear on this machine


class EmailChannel:
    """Sends over one SMTP connection, reopened when it drops."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout_s: float = 10.0,
        security: SmtpSecurity = LOOPBACK_SMTP,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s
        self.security = security
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
            security = self.security
            self._smtp = aiosmtplib.SMTP(
                hostname=self.host,
                port=self.port,
                timeout=self.timeout_s,
                start_tls=security.starts_tls(self.host),
                tls_context=security.tls_context(),
                username=security.username or None,
                password=security.password or None,
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


def webhook_refusal(url: str, secret: str) -> str:
    """Why notify may not post webhooks to the URL with the secret ('' when it may): https
    only, but for this machine; a Standard Webhooks secret (whsec_ and the base64 of at least
    32 bytes)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"TOUCHSTONE_WEBHOOK_URL={url!r} is not an http(s) URL"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            f"TOUCHSTONE_WEBHOOK_URL={url!r}: webhooks carry customers' messages, so beyond "
            "this machine only https"
        )
    wanted = (
        f"TOUCHSTONE_WEBHOOK_SECRET must be {SECRET_PREFIX} and the base64 of at least "
        f"{MIN_SECRET_BYTES} random bytes (Standard Webhooks); make one with: python -c "
        "'import base64, os; print(\"whsec_\" + base64.b64encode(os.urandom(32)).decode())'"
    )
    if not secret.startswith(SECRET_PREFIX):
        return f"{wanted}: it does not start with {SECRET_PREFIX}"
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return f"{wanted}: what follows {SECRET_PREFIX} is not base64"
    if len(key) < MIN_SECRET_BYTES:
        return f"{wanted}: it is {len(key)} bytes: at least {MIN_SECRET_BYTES}"
    return ""


class WebhookChannel:
    """POSTs each delivery as JSON, signed with the shared secret (Standard Webhooks)."""

    def __init__(self, url: str, secret: str, timeout_s: float = 10.0) -> None:
        """Without a URL the channel sends nothing: its deliveries are skipped, saying why
        (delivery_store)."""
        if url and (refused := webhook_refusal(url, secret)):
            raise ValueError(refused)
        self.url = url
        self.signer = Webhook(secret) if url else None
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def request(self, attempt: Attempt, now: float) -> tuple[bytes, dict[str, str]]:
        """The body and headers of an attempt: its id (the delivery's, the same for every
        attempt) is signed with the body and the time."""
        if self.signer is None:
            raise Permanent("no webhook endpoint is configured (TOUCHSTONE_WEBHOOK_URL)")
        body = json.dumps(attempt.payload(), ensure_ascii=False, sort_keys=True).encode()
        at = datetime.fromtimestamp(int(now), UTC)
        headers = {
            "Content-Type": "application/json",
            WEBHOOK_ID: attempt.delivery_id,
            WEBHOOK_TIMESTAMP: str(int(now)),
            WEBHOOK_SIGNATURE: self.signer.sign(attempt.delivery_id, at, body),
            IDEMPOTENCY_HEADER: attempt.delivery_id,
            "Touchstone-Attempt": str(attempt.number),
        }
        return body, headers

    async def send(self, attempt: Attempt) -> None:
        body, headers = self.request(attempt, time.time())
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(
                self.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            raise Transient(f"webhook: {type(error).__name__}") from error
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise Permanent(
                f"webhook answered HTTP {status}: redirects are not followed (a signed body "
                "goes only to TOUCHSTONE_WEBHOOK_URL; set it to where the receiver is)"
            )
        failure = Transient if status >= 500 or status in RETRYABLE_HTTP else Permanent
        raise failure(f"webhook answered HTTP {status}")

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
