"""The console's web server: pages and their assets, a JSON API over the services' queries, and
server-sent events from their streams. Standard library only; one thread a request."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from touchstone.client import Clients
from touchstone.common.calendar_file import load_calendars
from touchstone.common.hosts import is_loopback
from touchstone.common.journey_maps import load_maps
from touchstone.common.settings import Settings
from touchstone.console import views
from touchstone.console.customer_view import customer_page
from touchstone.console.figures_view import control_figures
from touchstone.console.sessions import (
    ClientsByToken,
    dev_token,
    session_cookie,
    token_in,
    visitor_of,
)

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
Query = Mapping[str, str]
Api = Callable[[Clients, Query], dict[str, Any]]


@dataclass
class ConsoleState:
    """What every request of one console shares."""

    settings: Settings
    clients: ClientsByToken
    stopping: threading.Event
    port: int = 0  # the one the server is bound to
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


class ConsoleHandler(BaseHTTPRequestHandler):
    """One request: a page, an asset, an API answer or an event stream."""

    state: ConsoleState  # set on the subclass the server makes
    server_version = "TouchstoneConsole"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    @property
    def token(self) -> str:
        return token_in(self.headers.get("Cookie"))

    def _known_host(self) -> bool:
        """Whether the request names this console by a loopback name (a page on another name
        that resolves here, DNS rebinding, gets nothing)."""
        port = self.state.port
        names = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        if self.headers.get("Host", "") in names:
            return True
        self._json(421, {"code": "MISDIRECTED", "details": "use 127.0.0.1 or localhost"})
        return False

    def do_GET(self) -> None:
        if not self._known_host():
            return None
        url = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        if url.path == "/":
            return self._redirect("/map" if self.token else "/signin")
        if url.path.startswith("/static/"):
            return self._asset(url.path.removeprefix("/static/"))
        if url.path == "/api/me":
            visitor = visitor_of(self.token)
            return self._json(200, visitor.__dict__ if visitor else {"signed_in": False})
        if url.path == "/api/dev-roles":
            return self._json(200, {"roles": self._dev_roles()})
        if url.path in PAGES:
            if url.path != "/signin" and not self.token:
                return self._redirect("/signin")
            return self._asset(PAGES[url.path])
        api = self.state.api.get(url.path)
        if api is not None:
            return self._answer(api, query)
        if url.path == "/events/moments":
            return self._events(query)
        return self._json(404, {"code": "NOT_FOUND", "details": f"no page {url.path}"})

    def do_POST(self) -> None:
        if not self._known_host():
            return None
        url = urlsplit(self.path)
        if not self._same_origin():
            return self._json(403, {"code": "PERMISSION_DENIED", "details": "cross-site request"})
        if url.path == "/signin":
            return self._sign_in()
        if url.path == "/signout":
            return self._redirect("/signin", session_cookie(""))
        if url.path == "/api/step":
            return self._take_step()
        return self._json(404, {"code": "NOT_FOUND", "details": f"no action {url.path}"})

    def _same_origin(self) -> bool:
        """A form posted from this console's own pages: Origin (or Referer) must be present and
        name the host the request came to."""
        origin = self.headers.get("Origin") or self.headers.get("Referer") or ""
        return bool(origin) and urlsplit(origin).netloc == self.headers.get("Host", "")

    def _form(self) -> dict[str, str] | None:
        """The posted form, or None (answered 400) when its length is not a length."""
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            self._json(400, {"code": "INVALID_ARGUMENT", "details": "a form of 0 to 16 kB"})
            return None
        body = self.rfile.read(int(length)).decode("utf-8", "replace")
        return {name: values[-1] for name, values in parse_qs(body).items()}

    def _sign_in(self) -> None:
        form = self._form()
        if form is None:
            return
        token = form.get("token", "").strip()
        if not token and form.get("role") in self._dev_roles():
            token = dev_token(self.state.settings, form["role"])
        if visitor_of(token) is None:  # not a JWT's shape, or no claims: nothing is set
            return self._redirect("/signin?problem=token")
        self._redirect("/map", session_cookie(token))

    def _take_step(self) -> None:
        """A step acknowledged or completed under the signed-in user's own name."""
        visitor = visitor_of(self.token)
        if visitor is None:
            return self._json(401, {"code": "UNAUTHENTICATED", "details": "sign in first"})
        form = self._form()
        if form is not None:
            by = visitor.subject
            self._answer(lambda clients, _query: views.take_step(clients, form, by), {})

    def _dev_roles(self) -> list[str]:
        """The roles a development key set can sign in as (none in production)."""
        return [role for role in DEV_ROLES if dev_token(self.state.settings, role)]

    def _answer(self, api: Api, query: Query) -> None:
        if not self.token:
            return self._json(401, {"code": "UNAUTHENTICATED", "details": "sign in first"})
        try:
            with self.state.clients.lease(self.token) as clients:
                answer = api(clients, query)
        except views.Refused as problem:
            return self._json(problem.status, {"code": problem.code, "details": problem.details})
        except Exception:
            log.exception("console: %s failed", urlsplit(self.path).path)
            failed = {"code": "INTERNAL", "details": "the console failed; see its log"}
            return self._json(500, failed)
        self._json(200, answer)

    def _events(self, query: Query) -> None:
        """Server-sent events from WatchMoments until the browser goes or the console stops."""
        if not self.token:
            return self._json(401, {"code": "UNAUTHENTICATED", "details": "sign in first"})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            with self.state.clients.lease(self.token) as clients:
                self._send_events(views.watched_moments(clients, query, self.state.stopping))
        except (BrokenPipeError, ConnectionResetError):
            return  # the browser went away: the watch is cancelled on the way out

    def _send_events(self, events: Iterator[tuple[str, dict[str, Any]]]) -> None:
        for event, data in events:
            line = f": {event}\n\n" if event == "heartbeat" else f"event: {event}\n"
            if event != "heartbeat":
                line += f"data: {json.dumps(data)}\n\n"
            self.wfile.write(line.encode())
            self.wfile.flush()

    def _asset(self, name: str) -> None:
        suffix = name[name.rfind(".") :] if "." in name else ""
        content_type = "text/html; charset=utf-8" if suffix == ".html" else ASSETS.get(suffix)
        folder = resources.files("touchstone.console") / "static"
        if content_type is None or "/" in name or not (folder / name).is_file():
            return self._json(404, {"code": "NOT_FOUND", "details": f"no asset {name}"})
        self._send(200, (folder / name).read_bytes(), content_type)

    def _json(self, status: int, body: Mapping[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _redirect(self, where: str, cookie: str = "") -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", where)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
        )
        self.end_headers()
        self.wfile.write(body)


class ConsoleServer(ThreadingHTTPServer):
    """One thread a request; a browser that went away before its answer was written (a page
    left mid-load) is noted at debug level, not printed as a traceback on the operator's
    terminal."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):  # broken pipe, reset by the browser
            log.debug("console: %s went away: %s", client_address, error)
            return
        log.exception("console: a request from %s failed", client_address)


class Console:
    """The console's server, on its own thread: start(), then stop()."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> None:
        if not is_loopback(host):
            raise ValueError(f"the console serves loopback only, not {host}: put a TLS proxy")
        self.state = ConsoleState(settings, ClientsByToken(settings), threading.Event())
        handler = type("Handler", (ConsoleHandler,), {"state": self.state})
        self.httpd = ConsoleServer((host, port), handler)
        self.state.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="console")

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Console:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)
        self.state.clients.close()
