"""Email beyond this machine goes over STARTTLS, verified, and logged in when given a user; a
server that will not upgrade gets nothing in clear."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.pki import make_pki
from touchstone.notify.channels import EmailChannel, SmtpSecurity, Transient
from touchstone.notify.messages import Message
from touchstone.notify.ports import Attempt
from touchstone.tools.dev.embedded import free_port

ATTEMPT = Attempt(
    "d-1", "email", "case-1", "lan", "hcm-01", "apologise", 1, "lan@example.vn",
    Message("en", "Sorry", "We are sorry."), 1, False,
)  # fmt: skip


class Inbox:
    """Keeps each message with whether it came over TLS and who logged in."""

    def __init__(self) -> None:
        self.received: list[tuple[bool, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.decode() if session.authenticated else ""
        self.received.append((session.ssl is not None, login))
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
    ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (b"notify", b"s3cret")
    return AuthResult(success=ok, auth_data=auth.login if ok else None)


def send(channel: EmailChannel) -> None:
    async def attempt() -> None:
        try:
            await channel.send(ATTEMPT)
        finally:
            await channel.close()

    asyncio.run(attempt())


def test_email_goes_over_starttls_verified_and_logged_in(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    inbox, port = Inbox(), free_port()
    server = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    server.start()
    try:
        security = SmtpSecurity(tls_ca=pki.ca, username="notify", password="s3cret")
        send(EmailChannel("127.0.0.1", port, "care@touchstone.local", security=security))
    finally:
        server.stop()
    assert inbox.received == [(True, "notify")]


def test_a_server_that_will_not_upgrade_gets_nothing_in_clear(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)  # no STARTTLS offered
    server.start()
    try:
        with pytest.raises(Transient):
            send(EmailChannel("127.0.0.1", port, "care@x", security=SmtpSecurity(tls_ca=pki.ca)))
    finally:
        server.stop()
    assert inbox.received == []


@pytest.mark.parametrize(
    ("host", "security", "starts_tls"),
    [
        ("smtp.example.com", SmtpSecurity(), True),  # beyond this machine: always
        ("smtp.example.com", SmtpSecurity(plaintext=True), False),  # the operator said so
        ("127.0.0.1", SmtpSecurity(), False),  # the local mail catcher
        ("127.0.0.1", SmtpSecurity(tls_ca=Path("/ca.pem")), True),  # a CA given: always
    ],
)
def test_starttls_is_the_rule_beyond_this_machine(
    host: str, security: SmtpSecurity, starts_tls: bool
) -> None:
    assert security.starts_tls(host) is starts_tls
