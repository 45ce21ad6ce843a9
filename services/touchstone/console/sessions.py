"""Who is signed in to the console: the bearer token their browser holds (an HttpOnly cookie),
and the gRPC clients that carry it, one set per token."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie

from touchstone.client import Clients
from touchstone.common.bearer import token_for
from touchstone.common.settings import Settings

COOKIE = "touchstone_token"
KEPT_CLIENTS = 32  # signed-in users whose channels stay open


@dataclass(frozen=True)
class Visitor:
    """What the token says about its holder, for display only: the services verify it."""

    subject: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]


def token_in(cookie_header: str | None) -> str:
    """The token of the console's cookie ('' without one)."""
    if not cookie_header:
        return ""
    try:
        morsel = SimpleCookie(cookie_header).get(COOKIE)
    except CookieError:
        return ""
    return morsel.value if morsel else ""


def session_cookie(token: str) -> str:
    """The Set-Cookie value that signs a browser in (empty token: signs it out)."""
    lifetime = "" if token else "; Max-Age=0"
    return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{lifetime}"


def dev_token(settings: Settings, role: str) -> str:
    """A token for the role signed with the development key set, if there is one ('' in
    production, where tokens come from the identity provider)."""
    return token_for(replace(settings, token=""), role, subject=f"console-{role}")


def visitor_of(token: str) -> Visitor | None:
    """The claims of a JWT, read without verifying it (the services verify every call)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    if not isinstance(claims, dict):
        return None
    return Visitor(
        str(claims.get("sub", "")),
        tuple(str(r) for r in claims.get("roles", []) if isinstance(r, str)),
        tuple(str(s) for s in claims.get("sites", []) if isinstance(s, str)),
    )


class ClientsByToken:
    """gRPC clients per signed-in token, the least recently used closed past KEPT_CLIENTS."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: OrderedDict[str, Clients] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, token: str) -> Clients:
        """The clients that call with this token."""
        with self._lock:
            clients = self._clients.pop(token, None) or Clients(self.settings, token=token)
            self._clients[token] = clients
            while len(self._clients) > KEPT_CLIENTS:
                _, oldest = self._clients.popitem(last=False)
                oldest.close()
            return clients

    def close(self) -> None:
        """Close every channel."""
        with self._lock:
            for clients in self._clients.values():
                clients.close()
            self._clients.clear()
