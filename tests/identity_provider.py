"""An OpenID Connect provider for tests: discovery, an authorization endpoint for a user who is
already signed in there (it answers at once with a code), a token endpoint that checks the code,
the redirect and the PKCE verifier, and the JWKS. Tokens are signed with a development key set,
so the services accept its access tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization

from tests.local_servers import ThreadedApp
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.ops.dev_keys import KEY_ID, DevKeys, mint

CLIENT_ID = "touchstone-console"


@dataclass
class IdentityProvider:
    """Serves on 127.0.0.1 from a thread of its own: start(), stop()."""

    keys: DevKeys
    user: str = "lan.nguyen"
    roles: tuple[str, ...] = ("manager",)
    sites: tuple[str, ...] = ("hcm-01",)
    audience: str = "touchstone"  # the services' TOUCHSTONE_AUTH_AUDIENCE
    token_issuer: str = "touchstone"  # the services' TOUCHSTONE_AUTH_ISSUER
    port: int = field(default_factory=free_port)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # why token requests were refused
    slash: str = ""  # "/": the issuer as Auth0 writes it, ending in a slash

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> IdentityProvider:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        app.router.add_get("/jwks", self.jwks)
        self._server = ThreadedApp(app, self.port)
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer + self.slash,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def authorize(self, request: web.Request) -> web.Response:
        query = request.query
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "client_id": query["client_id"],
            "redirect_uri": query["redirect_uri"],
            "nonce": query["nonce"],
            "challenge": query["code_challenge"],
        }
        back = urlencode({"code": code, "state": query["state"]})
        return web.Response(status=302, headers={"Location": f"{query['redirect_uri']}?{back}"})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        asked = self.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        for wrong, why in (
            (asked is None, "unknown code"),
            (asked and asked["redirect_uri"] != form.get("redirect_uri"), "redirect_uri differs"),
            (asked and asked["client_id"] != form.get("client_id"), "client_id differs"),
            (asked and asked["challenge"] != challenge, "PKCE verifier does not match"),
        ):
            if wrong:
                self.refused.append(why)
                return web.json_response({"error": "invalid_grant"}, status=400)
        assert asked is not None
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3600,
                "id_token": self._id_token(asked["nonce"]),
                "access_token": mint(
                    self.keys.signing_key,
                    subject=self.user,
                    roles=self.roles,
                    sites=self.sites,
                    issuer=self.token_issuer,
                    audience=self.audience,
                ),
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response(json.loads(self.keys.jwks.read_text()))

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer + self.slash,
            "sub": self.user,
            "aud": CLIENT_ID,
            "nonce": nonce,
            "iat": now,
            "exp": now + 300,
        }
        key = serialization.load_pem_private_key(self.keys.signing_key.read_bytes(), None)
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": KEY_ID})  # type: ignore[arg-type]
