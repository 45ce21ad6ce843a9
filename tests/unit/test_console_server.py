"""The console's server without the services: sign-in and its cookie, what needs a session, and
what it refuses (cross-site posts, unknown assets)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from touchstone.common.dev_keys import DevKeys, mint
from touchstone.common.embedded import free_port
from touchstone.common.settings import Settings
from touchstone.console.server import Console
from touchstone.console.sessions import COOKIE, session_cookie, token_in, visitor_of


@pytest.fixture
def keys(tmp_path: Path) -> DevKeys:
    return DevKeys(tmp_path / "keys").create()


@pytest.fixture
def console(keys: DevKeys, tmp_path: Path) -> Iterator[Console]:
    settings = Settings(
        state_dir=tmp_path, auth_keys_file=keys.jwks, auth_signing_key=keys.signing_key
    )
    running = Console(settings, port=free_port()).start()
    yield running
    running.stop()


def request(
    console: Console, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    host, port = console.httpd.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=5)
    connection.request(method, path, body=body, headers=headers or {})
    return connection.getresponse()


def test_the_token_cookie_is_http_only_and_same_site_and_read_back() -> None:
    cookie = session_cookie("a.b.c")
    assert cookie.startswith(f"{COOKIE}=a.b.c;") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert token_in(f"other=1; {COOKIE}=a.b.c") == "a.b.c"
    assert token_in(None) == token_in("garbage;;=") == ""
    assert "Max-Age=0" in session_cookie("")


def test_what_a_token_says_is_read_for_display_and_nonsense_is_no_one(keys: DevKeys) -> None:
    token = mint(
        keys.signing_key, subject="lan", roles=["staff"], sites=["hcm-01"], issuer="t", audience="t"
    )
    visitor = visitor_of(token)
    assert visitor is not None
    assert (visitor.subject, visitor.roles, visitor.sites) == ("lan", ("staff",), ("hcm-01",))
    assert visitor_of("not-a-jwt") is None and visitor_of("a.%%%.c") is None


def test_pages_and_the_api_want_a_session(console: Console) -> None:
    assert request(console, "GET", "/map").getheader("Location") == "/signin"
    reply = request(console, "GET", "/api/map?map=supermarket")
    assert reply.status == 401 and json.loads(reply.read())["code"] == "UNAUTHENTICATED"
    assert request(console, "GET", "/signin").status == 200


def test_a_development_key_set_offers_roles_and_signs_in(console: Console) -> None:
    roles = json.loads(request(console, "GET", "/api/dev-roles").read())["roles"]
    assert roles == ["manager", "staff", "auditor", "admin"]
    host = "{}:{}".format(*console.httpd.server_address[:2])
    reply = request(
        console,
        "POST",
        "/signin",
        "role=staff",
        {
            "Origin": f"http://{host}",
            "Host": host,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert reply.status == 303 and reply.getheader("Location") == "/map"
    token = token_in(reply.getheader("Set-Cookie"))
    me_reply = request(console, "GET", "/api/me", headers={"Cookie": f"{COOKIE}={token}"})
    me = json.loads(me_reply.read())
    assert (me["subject"], me["roles"]) == ("console-staff", ["staff"])


def test_a_post_from_another_site_is_refused(console: Console) -> None:
    reply = request(console, "POST", "/signin", "role=admin", {"Origin": "http://evil.example"})
    assert reply.status == 403 and reply.getheader("Set-Cookie") is None


def test_only_the_consoles_own_assets_are_served(console: Console) -> None:
    assert request(console, "GET", "/static/map.js").status == 200
    assert request(console, "GET", "/static/map.js").getheader("Content-Security-Policy")
    for path in ("/static/../server.py", "/static/sessions.py", "/static/nope.js"):
        assert request(console, "GET", path).status == 404, path
