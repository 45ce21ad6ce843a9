"""Authentication: who may call, by the tokens they carry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.runtime.settings.declared import setting
from touchstone.platform.security.auth import MAX_LIFETIME_S


@dataclass(frozen=True)
class AuthSettings:
    """How calls are authenticated (TOUCHSTONE_AUTH*, TOUCHSTONE_TOKEN)."""

    auth: bool = setting(
        "TOUCHSTONE_AUTH",
        True,
        doc="every gRPC call but health and reflection needs a bearer token (`0` turns that "
        "off, with a warning in the log)",
    )
    auth_keys_file: Path | None = setting(
        "TOUCHSTONE_AUTH_KEYS",
        None,
        shown="the local stack's development key set",
        doc="the JWKS file (public keys, each with a `kid`; EdDSA, ES256 or RS256) tokens are "
        "verified against; a service will not start with authentication on and no key set. "
        "Rotate keys by rewriting the file: it is read again within a second of changing (a "
        "file that does not parse is logged and the keys in force stay)",
    )
    auth_issuer: str = setting(
        "TOUCHSTONE_AUTH_ISSUER", "touchstone", doc="the `iss` every token must carry"
    )
    auth_audience: str = setting(
        "TOUCHSTONE_AUTH_AUDIENCE", "touchstone", doc="the `aud` every token must carry"
    )
    auth_signing_key: Path | None = setting(
        "TOUCHSTONE_AUTH_SIGNING_KEY",
        None,
        shown="the local stack's",
        doc="development only: the private key `touchstone token` and local clients sign "
        "tokens with",
    )
    auth_max_token_hours: float = setting(
        "TOUCHSTONE_AUTH_MAX_TOKEN_HOURS",
        MAX_LIFETIME_S / 3600,
        low=0.01,
        doc="tokens valid for longer (`exp` - `iat`, or `exp` further than that from now) are "
        "refused; `touchstone token --hours` will not mint one",
    )
    token: str = setting(
        "TOUCHSTONE_TOKEN",
        "",
        handed_on=False,
        secret=True,
        doc="the bearer token the `touchstone` command's calls carry (`make run` writes one a "
        "role to `.touchstone/keys/<role>.token`)",
    )
