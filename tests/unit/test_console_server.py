"""The console's server without the services: sign-in and its cookie, what needs a session, and
what it refuses (cross-site posts, unknown assets)."""

from __future__ import annotations

import http.client
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from touchstone.platform.runtime.env_reader import SettingError
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.console.exposure import ConsoleSettings
from touchstone.tools.console.server import Console
from touchstone.tools.console.sessions import COOKIE, session_cookie, token_in, visitor_of
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.ops.dev_keys import DevKeys, mint


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
    host, port = console.address
    connection = http.client.HTTPConnection(str(host), int(port), timeout=5)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    sent = {"Host": f"{host}:{port}", "Content-Length": str(len(body.encode()))}
    for name, value in (sent | (headers or {})).items():
        connection.putheader(name, value)
    connection.endheaders(body.encode() if body else None)
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
    roles = json.loads(request(console, "GET", "/api/sign-in").read())["roles"]
    assert roles == ["manager", "staff", "auditor", "admin"]
    host = "{}:{}".format(*console.address)
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


def here(console: Console) -> str:
    return f"127.0.0.1:{console.port}"


@pytest.mark.parametrize("path", ["/signin", "/api/step"])
@pytest.mark.parametrize(
    "origin",
    [{"Origin": "http://evil.example"}, {}, {"Referer": "http://evil.example/board"}],
)
def test_a_post_from_another_site_or_from_nowhere_is_refused(
    console: Console, path: str, origin: dict[str, str]
) -> None:
    reply = request(console, "POST", path, "role=admin&case_id=c&n=1&do=complete", origin)
    assert reply.status == 403 and reply.getheader("Set-Cookie") is None


def test_a_request_by_any_other_host_name_gets_nothing(console: Console) -> None:
    """A page on a name that resolves here (DNS rebinding) may not sign in, nor read."""
    port = console.port
    rebound = {
        "Host": f"rebind.evil.example:{port}",
        "Origin": f"http://rebind.evil.example:{port}",
    }
    assert request(console, "POST", "/signin", "role=admin", rebound).status == 421
    assert request(console, "GET", "/api/sign-in", headers=rebound).status == 421
    assert request(console, "GET", "/api/sign-in", headers={"Host": here(console)}).status == 200


def test_a_sign_in_with_what_is_not_a_token_sets_nothing(console: Console) -> None:
    headers = {"Origin": f"http://{here(console)}", "Host": here(console)}
    for token in ("x", "a.b.c%0D%0ASet-Cookie:%20injected=1", "a.%%%.c"):
        reply = request(console, "POST", "/signin", f"token={token}", headers)
        assert reply.status == 303 and reply.getheader("Location") == "/signin?problem=token"
        assert reply.getheader("Set-Cookie") is None, token
    with pytest.raises(ValueError):
        session_cookie("a.b.c\r\nSet-Cookie: injected=1")


def test_a_form_whose_length_is_not_a_length_is_a_clear_400(console: Console) -> None:
    headers = {"Origin": f"http://{here(console)}", "Host": here(console)}
    for length in ("-1", "x", "99999999"):
        reply = request(console, "POST", "/signin", "", headers | {"Content-Length": length})
        assert reply.status == 400, length


def test_the_console_will_not_serve_a_token_cookie_in_plaintext_beyond_loopback(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="in plaintext, its cookie a bearer token"):
        Console(Settings(state_dir=tmp_path), host="0.0.0.0", port=free_port())


def test_behind_tls_it_answers_its_public_name_and_its_cookie_is_secure(
    keys: DevKeys, tmp_path: Path
) -> None:
    settings = Settings(
        state_dir=tmp_path, auth_keys_file=keys.jwks, auth_signing_key=keys.signing_key
    )
    public = ConsoleSettings.from_env(
        {
            "TOUCHSTONE_CONSOLE_URL": "https://console.example.com",
            "TOUCHSTONE_CONSOLE_ALLOWED_HOSTS": "console.internal:8080",
        }
    )
    running = Console(settings, "0.0.0.0", free_port(), public).start()
    try:
        name = {
            "Host": "console.example.com",
            "Origin": "https://console.example.com",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        reply = request(running, "POST", "/signin", "role=staff", name)
        assert reply.status == 303 and reply.getheader("Location") == "/map"
        cookie = reply.getheader("Set-Cookie") or ""
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        internal = {"Host": "console.internal:8080"}
        assert request(running, "GET", "/api/sign-in", headers=internal).status == 200
        loopback = {"Host": f"127.0.0.1:{running.port}"}  # not its name beyond loopback
        assert request(running, "GET", "/api/sign-in", headers=loopback).status == 421
        assert request(running, "GET", "/healthz", headers=loopback).status == 200  # probes
    finally:
        running.stop()


def test_a_console_address_that_is_no_address_is_refused() -> None:
    with pytest.raises(SettingError, match="TOUCHSTONE_CONSOLE_URL"):
        ConsoleSettings.from_env({"TOUCHSTONE_CONSOLE_URL": "console.example.com"})


def test_only_the_consoles_own_assets_are_served(console: Console) -> None:
    assert request(console, "GET", "/static/map.js").status == 200
    assert request(console, "GET", "/static/map.js").getheader("Content-Security-Policy")
    for path in ("/static/../static/map.js", "/static/sessions.py", "/static/nope.js"):
        assert request(console, "GET", path).status == 404, path


def test_clients_in_use_are_never_closed_to_make_room(tmp_path: Path) -> None:
    from touchstone.tools.console.sessions import KEPT_CLIENTS, ClientsByToken

    kept = ClientsByToken(Settings(state_dir=tmp_path))
    with kept.lease("a.b.c") as streaming:
        for n in range(KEPT_CLIENTS + 5):
            with kept.lease(f"t{n}.b.c") as other:
                assert other is not streaming  # a token has clients of its own
        assert kept._kept["a.b.c"].clients is streaming  # still open: the stream is using it
    assert len(kept._kept) <= KEPT_CLIENTS
    kept.close()


def test_a_browser_gone_before_its_answer_is_not_an_error(
    console: Console, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A page left mid-load closes its requests before their answers are read: that was once
    a 25-line traceback on `touchstone run`'s terminal. Nothing is printed or logged as an
    error, and the console answers on."""
    caplog.set_level(logging.DEBUG)
    for _ in range(20):
        with socket.create_connection(console.address, timeout=5) as gone:
            gone.sendall(f"GET /static/map.js HTTP/1.1\r\nHost: {here(console)}\r\n\r\n".encode())
    assert request(console, "GET", "/signin").status == 200
    assert capsys.readouterr().err == ""
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
