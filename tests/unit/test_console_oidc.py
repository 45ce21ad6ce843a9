"""Signing in to the console with an identity provider (OpenID Connect, code flow with PKCE),
against a provider of the tests' own: the browser goes there and back, the console checks the
state, the nonce and the ID token's signature, and keeps the access token the services verify."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.identity_provider import CLIENT_ID, IdentityProvider
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.console.exposure import ConsoleSettings
from touchstone.tools.console.oidc import PENDING_COOKIE, OidcSettings
from touchstone.tools.console.server import Console
from touchstone.tools.console.sessions import COOKIE, token_in, visitor_of
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.ops.dev_keys import DevKeys


@pytest.fixture
def keys(tmp_path: Path) -> DevKeys:
    return DevKeys(tmp_path / "keys").create()


@pytest.fixture
def provider(keys: DevKeys) -> Iterator[IdentityProvider]:
    running = IdentityProvider(keys).start()
    yield running
    running.stop()


@pytest.fixture
def console(provider: IdentityProvider, tmp_path: Path) -> Iterator[Console]:
    chosen = ConsoleSettings(oidc=OidcSettings(provider.issuer, CLIENT_ID))
    running = Console(Settings(state_dir=tmp_path), port=free_port(), console=chosen).start()
    yield running
    running.stop()


def get(url: str, cookie: str = "") -> http.client.HTTPResponse:
    """One GET, redirects not followed, as a browser's first hop."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    connection.request(
        "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers
    )
    return connection.getresponse()


def cookie_value(reply: http.client.HTTPResponse, name: str) -> str:
    for header in reply.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return ""


def test_a_user_signed_in_at_the_provider_is_signed_in_to_the_console(
    console: Console, provider: IdentityProvider
) -> None:
    login = get(f"{console.url}/auth/login")
    assert login.status == 303
    at_provider = login.getheader("Location") or ""
    asked = parse_qs(urlsplit(at_provider).query)
    assert at_provider.startswith(f"{provider.issuer}/authorize?")
    assert asked["code_challenge_method"] == ["S256"] and asked["client_id"] == [CLIENT_ID]
    assert asked["redirect_uri"] == [f"{console.url}/auth/callback"]
    pending = cookie_value(login, PENDING_COOKIE)
    assert pending and "SameSite=Lax" in (login.getheader("Set-Cookie") or "")

    back = get(at_provider)  # the provider answers at once: the user is signed in there
    assert back.status == 302
    callback = get(back.getheader("Location") or "", f"{PENDING_COOKIE}={pending}")

    assert callback.status == 200
    assert 'http-equiv="refresh" content="0;url=/map"' in callback.read().decode()
    token = cookie_value(callback, COOKIE)
    visitor = visitor_of(token)
    assert visitor is not None
    assert (visitor.subject, visitor.roles, visitor.sites) == (
        "lan.nguyen",
        ("manager",),
        ("hcm-01",),
    )
    assert provider.refused == []  # the code, the redirect and the PKCE verifier all matched
    me = get(f"{console.url}/api/me", f"{COOKIE}={token}").read().decode()
    assert '"subject": "lan.nguyen"' in me


def test_a_provider_whose_issuer_ends_in_a_slash_signs_users_in_too(
    provider: IdentityProvider,
) -> None:
    provider.slash = "/"  # as Auth0 writes its issuer; the setting may be given without it
    chosen = ConsoleSettings(oidc=OidcSettings(provider.issuer, CLIENT_ID))
    with_slash = Console(Settings(), port=free_port(), console=chosen).start()
    try:
        login = get(f"{with_slash.url}/auth/login")
        answer = get(login.getheader("Location") or "").getheader("Location") or ""
        callback = get(answer, f"{PENDING_COOKIE}={cookie_value(login, PENDING_COOKIE)}")
        assert callback.status == 200, callback.getheader("Location")
        assert cookie_value(callback, COOKIE)
    finally:
        with_slash.stop()


def test_an_answer_for_another_browsers_sign_in_signs_no_one_in(
    console: Console, provider: IdentityProvider
) -> None:
    mine = get(f"{console.url}/auth/login")
    theirs = get(f"{console.url}/auth/login")  # an attacker's own sign-in, and its answer
    answer = get(theirs.getheader("Location") or "").getheader("Location") or ""

    callback = get(answer, f"{PENDING_COOKIE}={cookie_value(mine, PENDING_COOKIE)}")

    assert callback.status == 303
    assert callback.getheader("Location") == "/signin?problem=provider"
    assert token_in(callback.getheader("Set-Cookie")) == ""


def test_a_verifier_that_is_not_the_one_sent_gets_no_token(
    console: Console, provider: IdentityProvider
) -> None:
    login = get(f"{console.url}/auth/login")
    pending = cookie_value(login, PENDING_COOKIE)
    answer = get(login.getheader("Location") or "").getheader("Location") or ""
    state, nonce, _, began = json.loads(base64.urlsafe_b64decode(pending + "=="))
    forged = (
        base64.urlsafe_b64encode(json.dumps([state, nonce, "another-verifier", began]).encode())
        .decode()
        .rstrip("=")
    )

    callback = get(answer, f"{PENDING_COOKIE}={forged}")

    assert callback.getheader("Location") == "/signin?problem=provider"
    assert provider.refused == ["PKCE verifier does not match"]


def test_the_sign_in_page_offers_the_provider(console: Console, provider: IdentityProvider) -> None:
    reply = get(f"{console.url}/api/sign-in").read().decode()
    assert f'"provider": "{provider.issuer}"' in reply


def test_half_an_identity_provider_is_refused() -> None:
    with pytest.raises(ValueError, match="needed together"):
        OidcSettings.from_env({"TOUCHSTONE_CONSOLE_OIDC_ISSUER": "https://idp.example.com"})
    with pytest.raises(ValueError, match="must include openid"):
        OidcSettings.from_env(
            {
                "TOUCHSTONE_CONSOLE_OIDC_ISSUER": "https://idp.example.com",
                "TOUCHSTONE_CONSOLE_OIDC_CLIENT_ID": "c",
                "TOUCHSTONE_CONSOLE_OIDC_SCOPES": "profile",
            }
        )
