"""A local SMTP server that keeps every email it receives: the local stack's stand-in for a mail
provider (`touchstone run` writes each to .touchstone/mail/), and the tests' receiving end."""

from __future__ import annotations

import threading
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MailCatcher:
    """aiosmtpd on host:port, keeping messages in memory and, given a folder, as .eml files."""

    def __init__(self, host: str, port: int, folder: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname=host, port=port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        email = message_from_bytes(raw, policy=policy.default)
        assert isinstance(email, EmailMessage)
        with self._lock:
            self.messages.append(email)
            count = len(self.messages)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{count:06d}.eml").write_bytes(raw)
        return "250 Message accepted for delivery"

    def received(self) -> list[EmailMessage]:
        """Every message so far, in arrival order."""
        with self._lock:
            return list(self.messages)

    def by_message_id(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(str(m["Message-ID"]) for m in self.received())

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
