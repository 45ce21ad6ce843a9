"""Who is signed in to the console: the bearer token their browser holds (an HttpOnly cookie),
and the gRPC clients that carry it, one set per token."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie

from touchstone.platform.runtime.settings import Settings
from touchstone.tools.ops.client import Clients, token_for

COOKIE = "touchstone_token"
JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
KEPT_CLIENTS = 32  # signed-in users whose channels stay open


@dataclass(frozen=True)
class Visitor:
    """What the token says about its holder, for display only: the services verify it."""

    subject: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]


def is_token_shaped(text: str) -> bool:
    """Whether the text has a JWT's shape (three base64url parts), and nothing else."""
    return JWT_SHAPE.fullmatch(text) is not None


def token_in(cookie_header: str | None) -> str:
    """The token of the console's cookie ('' without one)."""
    if not cookie_header:
        return ""
    try:
        morsel = SimpleCookie(cookie_header).get(COOKIE)
    except CookieError:
        return ""
    return morsel.value if morsel and is_token_shaped(morsel.value) else ""


def session_cookie(token: str, secure: bool = False) -> str:
    """The Set-Cookie value that signs a browser in (empty token: signs it out); Secure when
    browsers reach the console over TLS, so the token never travels in the clear."""
    if token and not is_token_shaped(token):
        raise ValueError("not a token")  # nothing else may reach a header
    lifetime = "" if token else "; Max-Age=0"
    tls = "; Secure" if secure else ""
    return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{tls}{lifetime}"


def dev_token(settings: Settings, role: str) -> str:
    """A token for the role signed with the development key set, if there is one ('' in
    production, where tokens come from the identity provider)."""
    return token_for(replace(settings, token=""), role, subject=f"console-{role}")


def visitor_of(token: str) -> Visitor | None:
    """The claims of a JWT, read without verifying it (the services verify every call)."""
    if not is_token_shaped(token):
        return None
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


@dataclass
class _Kept:
    clients: Clients
    users: int = 0  # requests and event streams using it now


class ClientsByToken:
    """gRPC clients per signed-in token. Past KEPT_CLIENTS, the least recently used that no
    request or stream is using are closed (one in use is never closed under it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def lease(self, token: str) -> Iterator[Clients]:
        """The clients that call with this token, kept open while the block runs."""
        with self._lock:
            kept = self._kept.pop(token, None) or _Kept(Clients(self.settings, token=token))
            self._kept[token] = kept
            kept.users += 1
            self._close_idle()
        try:
            yield kept.clients
        finally:
            with self._lock:
                kept.users -= 1
                self._close_idle()

    def _close_idle(self) -> None:
        while len(self._kept) > KEPT_CLIENTS:
            idle = next((t for t, k in self._kept.items() if not k.users), None)
            if idle is None:
                return  # every one is in use: they are closed once they are not
            self._kept.pop(idle).clients.close()

    def close(self) -> None:
        """Close every channel."""
        with self._lock:
            for kept in self._kept.values():
                kept.clients.close()
            self._kept.clear()
