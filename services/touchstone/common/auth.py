"""Who is calling: bearer tokens (JWT) verified against a configured key set.

A token names its subject, its roles and the sites it may see (`*`: all), and is signed by a
key of the deployment's key set (a JWKS file: public keys only). Expiry, issuer and audience
are checked; a token signed by any other key is refused. No network: the key set is a file, so
a verifier never waits on an identity provider.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

ROLES = ("producer", "staff", "manager", "admin", "auditor", "service")
ALL_SITES = "*"
ALGORITHMS = ["EdDSA", "ES256", "RS256"]
LEEWAY_S = 30  # clocks of issuer and verifier may differ this much
VERIFIED_KEPT = 4096  # tokens remembered as verified (then forgotten all at once)


class Unauthenticated(Exception):
    """The token is missing or cannot be trusted; the message says why (never the token)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    subject: str
    roles: frozenset[str]
    sites: frozenset[str]  # the sites it may see; ALL_SITES among them: every site

    def may_see_site(self, site_id: str) -> bool:
        """Whether the caller's sites include this one."""
        return ALL_SITES in self.sites or site_id in self.sites

    def has_any(self, roles: Iterable[str]) -> bool:
        """Whether the caller holds one of the roles."""
        return not self.roles.isdisjoint(roles)


class KeySet:
    """The public keys tokens must be signed with, by key id."""

    def __init__(self, jwks: dict[str, Any], *, issuer: str, audience: str) -> None:
        self.keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks).keys}
        self.issuer = issuer
        self.audience = audience
        # a caller sends the same token with every call: its signature is checked once (about
        # 0.3 ms), then until it expires the token is looked up
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_file(cls, path: Path, *, issuer: str, audience: str) -> KeySet:
        """The key set in a JWKS file."""
        return cls(json.loads(path.read_text(encoding="utf-8")), issuer=issuer, audience=audience)

    def verify(self, token: str) -> Principal:
        """The caller the token names; Unauthenticated with the reason otherwise."""
        known = self._verified.get(token)
        if known is not None and time.time() < known[1] + LEEWAY_S:
            return known[0]
        caller, expires = self._check(token)
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = (caller, expires)
        return caller

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"not a JWT: {error}") from error
        key = self.keys.get(header.get("kid"))
        if key is None:
            raise Unauthenticated(f"signed by an unknown key (kid {header.get('kid')!r})")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired") from error
        except jwt.InvalidAudienceError as error:
            raise Unauthenticated(f"the token is not for audience {self.audience!r}") from error
        except jwt.InvalidIssuerError as error:
            raise Unauthenticated(f"the token is not issued by {self.issuer!r}") from error
        except jwt.InvalidSignatureError as error:
            raise Unauthenticated("the token's signature does not verify") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid: {error}") from error
        return principal_of(claims), float(claims["exp"])


def principal_of(claims: dict[str, Any]) -> Principal:
    """The caller verified claims name; Unauthenticated if they name no known role."""
    for claim in ("roles", "sites"):
        if not isinstance(claims.get(claim, []), list):
            raise Unauthenticated(f"the token's {claim} claim must be a list")
    roles = frozenset(r for r in claims.get("roles", []) if isinstance(r, str))
    if not roles & set(ROLES):
        raise Unauthenticated(f"the token names no role Touchstone knows ({', '.join(ROLES)})")
    sites = frozenset(s for s in claims.get("sites", []) if isinstance(s, str))
    return Principal(str(claims["sub"]), roles, sites)
