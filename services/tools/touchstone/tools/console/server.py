"""The console's web server (aiohttp): pages and their assets, a JSON API over the services'
queries, and server-sent events from their streams.

It answers only the host names it is told it serves (loopback by default: a page on another
name that resolves here, DNS rebinding, gets nothing), refuses forms posted from elsewhere, and
keeps the signed-in user's token in an HttpOnly, SameSite=Strict cookie, Secure when the
console's public address is https. The views are the services' own gRPC calls, made with the
user's token in worker threads, so the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from touchstone.platform.runtime.settings import Settings
from touchstone.shared_kernel.calendar_file import load_calendars
from touchstone.shared_kernel.journey_maps import load_maps
from touchstone.tools.console import views
from touchstone.tools.console.customer_view import customer_page
from touchstone.tools.console.exposure import ConsoleSettings, Exposure
from touchstone.tools.console.figures_view import control_figures
from touchstone.tools.console.oidc import OidcSignIn
from touchstone.tools.console.oidc_routes import OidcRoutes
from touchstone.tools.console.sessions import (
    ClientsByToken,
    dev_token,
    session_cookie,
    token_in,
    visitor_of,
)
from touchstone.tools.ops.client import Clients

log = logging.getLogger(__name__)

PAGES = {
    "/map": "map.html",
    "/board": "board.html",
    "/customer": "customer.html",
    "/figures": "figures.html",
    "/signin": "signin.html",
}
ASSETS = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
DEV_ROLES = ("manager", "staff", "auditor", "admin")  # sign-in buttons with a development key
MAX_FORM_BYTES = 16_384
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
    ),
}
Query = Mapping[str, str]
Api = Callable[[Clients, Query], dict[str, Any]]


@dataclass
class ConsoleState:
    """What every request of one console shares."""

    settings: Settings
    clients: ClientsByToken
    stopping: threading.Event
    exposure: Exposure
    api: dict[str, Api] = field(init=False)

    def __post_init__(self) -> None:
        journeys = load_maps(self.settings.maps_dir)  # read once, at start
        calendars = load_calendars(self.settings.calendars_file)  # whose days the map counts
        maps = {"maps": sorted(journeys)}
        self.api = {
            "/api/maps": lambda _clients, _query: maps,
            "/api/map": views.journey_map,
            "/api/vocabulary": views.vocabulary_gaps,
            "/api/lost": lambda clients, query: views.lost_moments(
                clients, query, calendars, datetime.now(UTC)
            ),
            "/api/cases": lambda clients, query: views.open_cases(clients, query, time.time()),
            "/api/case": views.one_case,
            "/api/customer": lambda clients, query: customer_page(clients, query, journeys),
            "/api/figures": control_figures,
        }

    def dev_roles(self) -> list[str]:
        """The roles a development key set can sign in as (none in production)."""
        return [role for role in DEV_ROLES if dev_token(self.settings, role)]


def problem(status: int, code: str, details: str) -> web.Response:
    return web.json_response({"code": code, "details": details}, status=status)


def see_other(where: str, cookie: str = "") -> web.Response:
    response = web.Response(status=303, headers={"Location": where})
    if cookie:
        response.headers["Set-Cookie"] = cookie
    return response


# Threads the services' calls run on (a page asks several at once), and the threads event
# streams wait on (one a watching browser, asleep until a moment or a heartbeat). Two pools: a
# room of open maps never keeps a page from loading. Assumptions, not from the domain: a store's
# staff and managers, not thousands.
CALL_THREADS = 32
WATCH_THREADS = 256


class ConsoleApp:
    """The routes of one console."""

    def __init__(self, state: ConsoleState, oidc: OidcRoutes | None = None) -> None:
        self.state = state
        self.oidc = oidc
        self.calls = ThreadPoolExecutor(CALL_THREADS, thread_name_prefix="console-call")
        self.watches = ThreadPoolExecutor(WATCH_THREADS, thread_name_prefix="console-watch")

    def close(self) -> None:
        self.calls.shutdown(wait=False, cancel_futures=True)
        self.watches.shutdown(wait=False, cancel_futures=True)

    def app(self) -> web.Application:
        app = web.Application(
            middlewares=[self.known_host, self.headers], client_max_size=MAX_FORM_BYTES
        )
        app.router.add_get("/", self.home)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/api/me", self.me)
        app.router.add_get("/events/moments", self.events)
        for path in PAGES:
            app.router.add_get(path, self.page)
        for path in self.state.api:
            app.router.add_get(path, self.answer)
        app.router.add_get("/api/sign-in", self.sign_in_options)
        if self.oidc is not None:
            self.oidc.add_to(app)
        app.router.add_post("/signin", self.sign_in)
        app.router.add_post("/signout", self.sign_out)
        app.router.add_post("/api/step", self.take_step)
        app.router.add_route("*", "/{tail:.*}", self.nothing)
        return app

    @web.middleware
    async def known_host(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/healthz":
            return web.Response(text="ok")  # probes name the pod's address: any host will do
        if not self.state.exposure.serves(request.headers.get("Host", "")):
            return problem(421, "MISDIRECTED", self.state.exposure.misdirected())
        if request.method == "POST" and not same_origin(request):
            return problem(403, "PERMISSION_DENIED", "cross-site request")
        response: web.StreamResponse = await handler(request)
        return response

    @web.middleware
    async def headers(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def home(self, request: web.Request) -> web.Response:
        return see_other("/map" if token_of(request) else "/signin")

    async def page(self, request: web.Request) -> web.Response:
        if request.path != "/signin" and not token_of(request):
            return see_other("/signin")
        return asset(PAGES[request.path])

    async def static(self, request: web.Request) -> web.Response:
        return asset(request.match_info["name"])

    async def me(self, request: web.Request) -> web.Response:
        visitor = visitor_of(token_of(request))
        return web.json_response(visitor.__dict__ if visitor else {"signed_in": False})

    async def sign_in_options(self, request: web.Request) -> web.Response:
        """How one may sign in here: the development roles, and the identity provider."""
        provider = self.oidc.sign_in.settings.issuer if self.oidc else ""
        return web.json_response({"roles": self.state.dev_roles(), "provider": provider})

    async def nothing(self, request: web.Request) -> web.Response:
        return problem(404, "NOT_FOUND", f"no page {request.path}")

    async def answer(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        return await self._answered(request, self.state.api[request.path], query)

    async def _answered(self, request: web.Request, api: Api, query: Query) -> web.Response:
        token = token_of(request)
        if not token:
            return problem(401, "UNAUTHENTICATED", "sign in first")

        def call() -> dict[str, Any]:
            with self.state.clients.lease(token) as clients:
                return api(clients, query)

        try:
            loop = asyncio.get_running_loop()
            return web.json_response(await loop.run_in_executor(self.calls, call))
        except views.ConsoleRefusal as refused:
            return problem(refused.status, refused.code, refused.details)
        except Exception:
            log.exception("console: %s failed", request.path)
            return problem(500, "INTERNAL", "the console failed; see its log")

    async def sign_in(self, request: web.Request) -> web.Response:
        form = await form_of(request)
        if form is None:
            return problem(400, "INVALID_ARGUMENT", "a form of 0 to 16 kB")
        token = form.get("token", "").strip()
        if not token and form.get("role") in self.state.dev_roles():
            token = dev_token(self.state.settings, form["role"])
        if visitor_of(token) is None:  # not a JWT's shape, or no claims: nothing is set
            return see_other("/signin?problem=token")
        return see_other("/map", session_cookie(token, secure=self.state.exposure.secure))

    async def sign_out(self, request: web.Request) -> web.Response:
        return see_other("/signin", session_cookie("", secure=self.state.exposure.secure))

    async def take_step(self, request: web.Request) -> web.Response:
        """A step acknowledged or completed under the signed-in user's own name."""
        visitor = visitor_of(token_of(request))
        if visitor is None:
            return problem(401, "UNAUTHENTICATED", "sign in first")
        form = await form_of(request)
        if form is None:
            return problem(400, "INVALID_ARGUMENT", "a form of 0 to 16 kB")
        by = visitor.subject
        return await self._answered(
            request, lambda clients, _query: views.take_step(clients, form, by), {}
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events from WatchMoments until the browser goes or the console stops."""
        token = token_of(request)
        if not token:
            return problem(401, "UNAUTHENTICATED", "sign in first")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", **SECURITY_HEADERS}
        )
        await response.prepare(request)
        query = dict(request.query)
        gone = threading.Event()  # this browser left: the watch ends at its next heartbeat
        stop = Either(gone, self.state.stopping)
        with self.state.clients.lease(token) as clients:
            watched = views.watched_moments(clients, query, stop)
            try:
                loop = asyncio.get_running_loop()
                while event := await loop.run_in_executor(self.watches, next, watched, None):
                    await response.write(sse(*event))
            except (ConnectionResetError, asyncio.CancelledError):
                pass  # the browser went away
            finally:
                gone.set()
        return response


@dataclass(frozen=True)
class Either:
    """Set when either event is."""

    first: threading.Event
    second: threading.Event

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event (a heartbeat is a comment)."""
    if event == "heartbeat":
        return f": {event}\n\n".encode()
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def token_of(request: web.Request) -> str:
    return token_in(request.headers.get("Cookie"))


def same_origin(request: web.Request) -> bool:
    """A form posted from this console's own pages: Origin (or Referer) must be present and
    name the host the request came to."""
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return bool(origin) and urlsplit(origin).netloc == request.headers.get("Host", "")


async def form_of(request: web.Request) -> dict[str, str] | None:
    """The posted form, or None when it is larger than MAX_FORM_BYTES or unreadable."""
    if (request.content_length or 0) > MAX_FORM_BYTES:
        return None
    try:
        posted = await request.post()
    except (ValueError, web.HTTPRequestEntityTooLarge):
        return None
    return {name: str(value) for name, value in posted.items()}


def asset(name: str) -> web.Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    content_type = "text/html" if suffix == ".html" else ASSETS.get(suffix)
    folder = resources.files("touchstone.tools.console") / "static"
    if content_type is None or "/" in name or not (folder / name).is_file():
        return problem(404, "NOT_FOUND", f"no asset {name}")
    return web.Response(body=(folder / name).read_bytes(), content_type=content_type)


class Console:
    """The console's server on a thread of its own with its own event loop: start(), stop()."""

    def __init__(
        self,
        settings: Settings,
        host: str = "127.0.0.1",
        port: int = 8080,
        console: ConsoleSettings | None = None,
    ) -> None:
        exposure = Exposure.of(settings, host, console)
        self.state = ConsoleState(settings, ClientsByToken(settings), threading.Event(), exposure)
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        chosen = console or ConsoleSettings()
        oidc = None
        if chosen.oidc is not None:
            oidc = OidcRoutes(OidcSignIn(chosen.oidc), exposure)
        self._app = ConsoleApp(self.state, oidc)
        self._runner = web.AppRunner(
            self._app.app(), access_log=None, handler_cancellation=True, shutdown_timeout=1
        )
        self._site: web.TCPSite | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="console", daemon=True)
        self._listen()

    def _listen(self) -> None:
        """Bind now, on the console's own loop and thread (the caller may be running a loop of
        its own), so a port that is taken is an OSError here, as with any server."""
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._bind(), self._loop).result(timeout=30)
        except OSError:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
            raise
        self.port = int(self._runner.addresses[0][1])  # port 0 picks one
        self.state.exposure = self.state.exposure.on_port(self.port)

    async def _bind(self) -> None:
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await self._site.start()
        except OSError:
            await self._runner.cleanup()
            raise

    async def _shutdown(self) -> None:
        """Stop serving, then end what still runs (event streams) before the loop stops."""
        await self._runner.cleanup()
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Console:
        """The console, serving (it serves from the moment it is made: this reads as it does)."""
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
            future.result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()
        self._app.close()
        self.state.clients.close()
