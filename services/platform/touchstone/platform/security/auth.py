"""Who is calling: bearer tokens (JWT) verified against a configured key set.

A token names its subject, its roles and the sites it may see (`*`: all), and is signed by a
key of the deployment's key set (a JWKS file: public keys only). Expiry, issuer, audience and
lifetime are checked; a token signed by any other key, or by a key with another algorithm than
the key's own, is refused. No network: the key set is a file, so a verifier never waits on an
identity provider; when the file changes (keys rotated) it is read again.

Whatever a token holds, verifying it ends in a Principal or Unauthenticated: never another
exception (a crafted token must not turn into UNKNOWN with a traceback).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

log = logging.getLogger(__name__)

ROLES = ("producer", "staff", "manager", "admin", "auditor", "service")
ALL_SITES = "*"
ALGORITHMS = ["EdDSA", "ES256", "RS256"]
LEEWAY_S = 30  # clocks of issuer and verifier may differ this much
VERIFIED_KEPT = 4096  # tokens remembered as verified (then forgotten all at once)
# The longest a token may be valid (exp - iat), unless the deployment sets its own
# (TOUCHSTONE_AUTH_MAX_TOKEN_HOURS). Assumption, not from the domain: a day covers a shift and
# the development tokens (12 h); a token that leaks is then worth at most a day.
MAX_LIFETIME_S = 24 * 3600.0
RELOAD_EVERY_S = 1.0  # how often the key set file is looked at for a change


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

    def __init__(
        self,
        jwks: dict[str, Any],
        *,
        issuer: str,
        audience: str,
        max_lifetime_s: float = MAX_LIFETIME_S,
    ) -> None:
        self.keys = usable_keys(jwks)
        self.issuer = issuer
        self.audience = audience
        self.max_lifetime_s = max_lifetime_s
        # a caller sends the same token with every call: its signature is checked once (about
        # 0.3 ms), then until it expires the token is looked up
        self._verified: dict[str, tuple[Principal, float]] = {}

    @staticmethod
    def from_file(
        path: Path, *, issuer: str, audience: str, max_lifetime_s: float = MAX_LIFETIME_S
    ) -> KeySet:
        """The key set in a JWKS file, read again whenever the file changes."""
        return KeyFile(path, issuer=issuer, audience=audience, max_lifetime_s=max_lifetime_s)

    def remembered(self, token: str) -> Principal | None:
        """The caller of a token verified before and not expired since (None otherwise)."""
        known = self._verified.get(token)
        if known is not None and time.time() < known[1] + LEEWAY_S:
            return known[0]
        return None

    def verify(self, token: str) -> Principal:
        """The caller the token names; Unauthenticated with the reason otherwise."""
        if (known := self.remembered(token)) is not None:
            return known
        try:
            caller, expires = self._check(token)
        except Unauthenticated:
            raise
        except Exception as error:
            raise Unauthenticated(f"the token is not valid ({type(error).__name__})") from error
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = (caller, expires)
        return caller

    def key_for(self, token: str) -> Any:
        """The key of the key set that must have signed the token, by its unverified header
        (cheap: no signature is checked); Unauthenticated if it names none, or another algorithm
        than the key's."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"not a JWT: {error}") from error
        except Exception as error:
            raise Unauthenticated(f"the token is not valid ({type(error).__name__})") from error
        kid = header.get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated(f"signed by an unknown key (kid {shown(header.get('kid'))})")
        if header.get("alg") != key.algorithm_name:
            raise Unauthenticated(
                f"the token's algorithm {shown(header.get('alg'))} is not its key's "
                f"({key.algorithm_name})"
            )
        return key

    def _check(self, token: str) -> tuple[Principal, float]:
        key = self.key_for(token)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm_name],
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
        if refused := lifetime_refusal(claims, self.max_lifetime_s):
            raise Unauthenticated(refused)
        return principal_of(claims), float(claims["exp"])


class KeyFile(KeySet):
    """A key set kept in step with its JWKS file: keys rotated in the file are in force within
    RELOAD_EVERY_S, without a restart. A file that no longer reads as a key set is logged and
    the keys in force are kept (a half-written file must not lock every caller out)."""

    def __init__(self, path: Path, **checks: Any) -> None:
        self.path = path
        self._seen = path.read_bytes()
        self._looked_at = time.monotonic()
        super().__init__(json.loads(self._seen), **checks)

    def remembered(self, token: str) -> Principal | None:
        """As KeySet's, once the file has been looked at (a key taken out of it forgets the
        tokens it verified)."""
        if time.monotonic() - self._looked_at >= RELOAD_EVERY_S:
            self._reload_if_changed()
        return super().remembered(token)

    def _reload_if_changed(self) -> None:
        """Compares the file's bytes (a key set is a few hundred of them: a rewrite in the same
        clock tick, of the same size, is still seen)."""
        self._looked_at = time.monotonic()
        try:
            content = self.path.read_bytes()
            if content == self._seen:
                return
            keys = usable_keys(json.loads(content))
        except Exception as error:  # whatever the file holds, the keys in force stay
            log.error("key set %s not reloaded, the keys in force stay: %r", self.path, error)
            return
        self._seen = content
        self.keys = keys
        self._verified.clear()  # a token of a key taken out must not stay remembered
        log.info("key set %s reloaded: key ids %s", self.path, ", ".join(sorted(keys)))


def usable_keys(jwks: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The key set's keys by id; ValueError for a key with no id or an algorithm tokens may not
    use (a shared secret among public keys would let anyone who reads the file sign)."""
    if not isinstance(jwks, dict):
        raise ValueError("a key set is a JSON object with a list of keys")
    keys: dict[str, jwt.PyJWK] = {}
    for key in jwt.PyJWKSet.from_dict(jwks).keys:
        if not key.key_id:
            raise ValueError("every key of the key set needs a key id (kid)")
        if key.algorithm_name not in ALGORITHMS:
            raise ValueError(
                f"key {key.key_id}: algorithm {key.algorithm_name} is not one of {ALGORITHMS}"
            )
        keys[key.key_id] = key
    return keys


def lifetime_refusal(claims: dict[str, Any], max_lifetime_s: float) -> str:
    """Why the token is valid for too long ('' when it is not): issued more than the maximum
    lifetime before it expires (an `iat` in the future is refused before this, by PyJWT)."""
    issued, expires = float(claims["iat"]), float(claims["exp"])
    if expires - issued > max_lifetime_s:
        return (
            f"the token is valid for {(expires - issued) / 3600:g} h; "
            f"at most {max_lifetime_s / 3600:g} h is accepted"
        )
    return ""


def principal_of(claims: dict[str, Any]) -> Principal:
    """The caller verified claims name; Unauthenticated if they name no known role."""
    for claim in ("roles", "sites"):
        if not isinstance(claims.get(claim, []), list):
            raise Unauthenticated(f"the token's {claim} claim must be a list")
    roles = frozenset(r for r in claims.get("roles", []) if isinstance(r, str))
    if not roles & set(ROLES):
        raise Unauthenticated(f"the token names no role Touchstone knows ({', '.join(ROLES)})")
    sites = frozenset(s for s in claims.get("sites", []) if isinstance(s, str))
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthenticated("the token's sub claim must name the caller")
    return Principal(subject, roles, sites)


SHOWN_CHARS = 40  # of a value the caller chose, in a refusal's reason (audited, logged)


def shown(value: object) -> str:
    """A value from the token's unverified header as a refusal quotes it: its repr, cut short,
    so a caller cannot write what they like, at any length, into the audit trail and the logs."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
