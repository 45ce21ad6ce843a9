"""Sign-in with the organisation's identity provider: OpenID Connect's authorization code flow
with PKCE (RFC 7636), for any provider that publishes a discovery document (Keycloak, Entra ID,
Okta, Auth0, Google, Dex, ...).

The console keeps no sign-in state of its own: what the callback must check (the state, the
nonce, the PKCE verifier) travels in a short-lived HttpOnly cookie, so any replica may answer
the callback. The ID token's signature, issuer, audience and nonce are verified; the access token
is what the console then sends to the services, which verify it themselves (TOUCHSTONE_AUTH_KEYS
must be the provider's JWKS, TOUCHSTONE_AUTH_ISSUER and _AUDIENCE what its access tokens carry,
with the `roles` and `sites` claims: docs/security.md).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt

from touchstone.platform.runtime.settings.declared import env_names, setting

PENDING_COOKIE = "touchstone_oidc"
PENDING_S = 600  # the longest a sign-in at the provider may take
DISCOVERY = "/.well-known/openid-configuration"
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]


class SignInFailed(Exception):
    """Why a sign-in at the provider did not end in a token (said to the user, logged)."""


@dataclass(frozen=True)
class OidcSettings:
    """TOUCHSTONE_CONSOLE_OIDC_*: the provider and this console's registration with it."""

    issuer: str = setting(
        "TOUCHSTONE_CONSOLE_OIDC_ISSUER",
        "",
        doc="sign-in at your identity provider (OpenID Connect, code flow with PKCE): its "
        "issuer URL, with `TOUCHSTONE_CONSOLE_OIDC_CLIENT_ID`",
    )
    client_id: str = setting(
        "TOUCHSTONE_CONSOLE_OIDC_CLIENT_ID",
        "",
        doc="the console's client id at the provider, with the issuer",
    )
    client_secret: str = setting(
        "TOUCHSTONE_CONSOLE_OIDC_CLIENT_SECRET",
        "",
        secret=True,
        doc="the console's client secret, for a confidential client (from a Secret); none: a "
        "public client (PKCE alone)",
    )
    scopes: str = setting(
        "TOUCHSTONE_CONSOLE_OIDC_SCOPES",
        "openid profile",
        doc="the scopes asked for (must include `openid`)",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OidcSettings | None:
        named = env_names(cls)
        issuer = env.get(named["issuer"], "").strip().rstrip("/")
        client_id = env.get(named["client_id"], "").strip()
        if not issuer and not client_id:
            return None
        if not (issuer.startswith(("https://", "http://")) and client_id):
            raise ValueError(
                "TOUCHSTONE_CONSOLE_OIDC_ISSUER (the provider's https:// issuer) and "
                "TOUCHSTONE_CONSOLE_OIDC_CLIENT_ID are needed together"
            )
        scopes = env.get(named["scopes"], "").strip() or cls.scopes
        if "openid" not in scopes.split():
            raise ValueError(f"{named['scopes']}={scopes!r} must include openid")
        secret = env.get(named["client_secret"], "")
        return cls(issuer, client_id, secret, scopes)


@dataclass(frozen=True)
class Pending:
    """A sign-in begun at the provider, as its cookie carries it."""

    state: str
    nonce: str
    verifier: str
    began: float

    def cookie_value(self) -> str:
        data = json.dumps([self.state, self.nonce, self.verifier, self.began]).encode()
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    @classmethod
    def from_cookie(cls, value: str) -> Pending | None:
        try:
            data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            state, nonce, verifier, began = data
            return cls(str(state), str(nonce), str(verifier), float(began))
        except (ValueError, TypeError):
            return None


def challenge(verifier: str) -> str:
    """PKCE's S256 code challenge for the verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class OidcSignIn:
    """Begins a sign-in (the provider's authorization address) and finishes it (the token)."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._provider: dict[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None
        self._issuer = settings.issuer

    async def provider(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        """The provider's discovery document (read once)."""
        if self._provider is None:
            document = await _json(http.get(self.settings.issuer + DISCOVERY))
            if document.get("issuer", "").rstrip("/") != self.settings.issuer:
                raise SignInFailed(
                    f"the provider's discovery document names issuer {document.get('issuer')!r}, "
                    f"not {self.settings.issuer!r}"
                )
            self._provider = document
            self._issuer = str(document["issuer"])
            self._keys = jwt.PyJWKClient(document["jwks_uri"], cache_keys=True)
        return self._provider

    async def begin(self, http: aiohttp.ClientSession, redirect_uri: str) -> tuple[str, Pending]:
        """Where to send the browser, and what the callback (at redirect_uri) will check."""
        provider = await self.provider(http)
        pending = Pending(
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(48),
            time.time(),
        )
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
        return f"{provider['authorization_endpoint']}?{urlencode(query)}", pending

    async def finish(
        self,
        http: aiohttp.ClientSession,
        query: Mapping[str, str],
        pending: Pending | None,
        redirect_uri: str,
    ) -> str:
        """The access token for the callback's code; SignInFailed saying why not."""
        if "error" in query:
            raise SignInFailed(
                f"the provider said {query['error']}: {query.get('error_description', '')}"
            )
        if pending is None or time.time() - pending.began > PENDING_S:
            raise SignInFailed("the sign-in took too long or was not begun here: try again")
        if not secrets.compare_digest(query.get("state", ""), pending.state):
            raise SignInFailed("the answer is not for the sign-in this browser began")
        provider = await self.provider(http)
        form = {
            "grant_type": "authorization_code",
            "code": query.get("code", ""),
            "redirect_uri": redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": pending.verifier,
        }
        if self.settings.client_secret:
            form["client_secret"] = self.settings.client_secret
        tokens = await _json(http.post(provider["token_endpoint"], data=form))
        if "error" in tokens:
            raise SignInFailed(f"the provider refused the code: {tokens['error']}")
        id_token = str(tokens.get("id_token", ""))
        await asyncio.to_thread(self._verify_id_token, id_token, pending.nonce)  # fetches keys
        access = str(tokens.get("access_token", ""))
        if access.count(".") != 2:
            raise SignInFailed(
                "the provider's access token is not a JWT: configure it to issue JWT access "
                "tokens for the services' audience (TOUCHSTONE_AUTH_AUDIENCE)"
            )
        return access

    def _verify_id_token(self, id_token: str, nonce: str) -> None:
        if not id_token or self._keys is None:
            raise SignInFailed("the provider sent no ID token")
        try:
            key = self._keys.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=ID_TOKEN_ALGORITHMS,
                audience=self.settings.client_id,
                issuer=self._issuer,  # as the provider writes it (Auth0's ends in "/")
            )
        except jwt.PyJWTError as error:
            raise SignInFailed(f"the ID token does not verify: {error}") from error
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInFailed("the ID token is not for this sign-in (nonce)")


async def _json(request: Any) -> dict[str, Any]:
    """A provider's JSON answer; SignInFailed when it cannot be had."""
    try:
        async with request as reply:
            answer = await reply.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise SignInFailed(f"the identity provider did not answer: {error}") from error
    if not isinstance(answer, dict):
        raise SignInFailed("the identity provider's answer is not a JSON object")
    return answer
