"""The console's two sign-in routes for an identity provider: /auth/login sends the browser to
the provider, /auth/callback takes its answer and signs the browser in (oidc.py does the
protocol; this is the HTTP around it)."""

from __future__ import annotations

import html
import logging

import aiohttp
from aiohttp import web

from touchstone.tools.console.exposure import Exposure
from touchstone.tools.console.oidc import (
    PENDING_COOKIE,
    PENDING_S,
    OidcSignIn,
    Pending,
    SignInFailed,
)
from touchstone.tools.console.sessions import session_cookie

log = logging.getLogger(__name__)

CALLBACK = "/auth/callback"


class OidcRoutes:
    """/auth/login and /auth/callback, with one HTTP client for the provider."""

    def __init__(self, sign_in: OidcSignIn, exposure: Exposure) -> None:
        self.sign_in = sign_in
        self.exposure = exposure
        self._http: aiohttp.ClientSession | None = None

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/auth/login", self.login)
        app.router.add_get(CALLBACK, self.callback)
        app.on_cleanup.append(self._close)

    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    async def _close(self, _app: web.Application) -> None:
        if self._http is not None:
            await self._http.close()

    def redirect_uri(self, request: web.Request) -> str:
        """This console's callback as the browser reaches it (its Host was checked)."""
        scheme = "https" if self.exposure.secure else "http"
        return f"{scheme}://{request.host}{CALLBACK}"

    async def login(self, request: web.Request) -> web.Response:
        try:
            where, pending = await self.sign_in.begin(self.http(), self.redirect_uri(request))
        except SignInFailed as failed:
            log.warning("console: sign-in not begun: %s", failed)
            return web.Response(status=303, headers={"Location": "/signin?problem=provider"})
        response = web.Response(status=303, headers={"Location": where})
        response.headers["Set-Cookie"] = self._pending_cookie(pending.cookie_value(), PENDING_S)
        return response

    async def callback(self, request: web.Request) -> web.Response:
        pending = Pending.from_cookie(request.cookies.get(PENDING_COOKIE, ""))
        query = dict(request.query)
        try:
            token = await self.sign_in.finish(
                self.http(), query, pending, self.redirect_uri(request)
            )
        except SignInFailed as failed:
            log.warning("console: sign-in failed: %s", failed)
            response = web.Response(status=303, headers={"Location": "/signin?problem=provider"})
            response.headers["Set-Cookie"] = self._pending_cookie("", 0)
            return response
        # A page, not a redirect: the session cookie is SameSite=Strict, and a navigation that
        # began at the provider would not carry it; the page's own step to /map does.
        page = (
            '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/map">'
            f'<title>Signed in</title><p>Signed in. <a href="{html.escape("/map")}">Continue</a>'
        )
        response = web.Response(text=page, content_type="text/html")
        response.headers.add("Set-Cookie", session_cookie(token, secure=self.exposure.secure))
        response.headers.add("Set-Cookie", self._pending_cookie("", 0))
        return response

    def _pending_cookie(self, value: str, max_age: int) -> str:
        """Lax, not Strict: the provider's redirect back is a navigation from another site."""
        secure = "; Secure" if self.exposure.secure else ""
        return (
            f"{PENDING_COOKIE}={value}; Path=/auth; HttpOnly; SameSite=Lax; "
            f"Max-Age={max_age}{secure}"
        )
