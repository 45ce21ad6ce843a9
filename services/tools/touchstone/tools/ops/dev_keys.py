"""A development key set: an Ed25519 signing key and its public JWKS, and tokens signed by it.

`make run`, the tests and the benchmark make one under the state folder, so authentication is
on there too; production keeps its signing key with its identity provider and gives Touchstone
only the public JWKS (TOUCHSTONE_AUTH_KEYS).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from touchstone.platform.security.auth import ALL_SITES

KEY_ID = "touchstone-dev-1"
PRIVATE_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"
TOKEN_TTL_S = 12 * 3600


@dataclass(frozen=True)
class DevKeys:
    """Where a development key set lives: its signing key and its public JWKS."""

    folder: Path

    @property
    def jwks(self) -> Path:
        """The public key set services verify tokens against."""
        return self.folder / JWKS_FILE

    @property
    def signing_key(self) -> Path:
        """The private key tokens are signed with (development only)."""
        return self.folder / PRIVATE_FILE

    def create(self) -> DevKeys:
        """Make a new key pair (replacing any): the folder private to its owner."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder.chmod(0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(self.signing_key, pem)
        public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
        public.update({"kid": KEY_ID, "alg": "EdDSA", "use": "sig"})
        self.jwks.write_text(json.dumps({"keys": [public]}, indent=2), encoding="utf-8")
        return self


def write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner may read, from its first byte."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)


def mint(
    signing_key: Path,
    *,
    subject: str,
    roles: Iterable[str],
    sites: Iterable[str] = (ALL_SITES,),
    issuer: str,
    audience: str,
    ttl_s: float = TOKEN_TTL_S,
    now: float | None = None,
) -> str:
    """A token for the subject, signed with the key in the PEM file."""
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": subject,
        "roles": sorted(roles),
        "sites": sorted(sites),
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + int(ttl_s),
    }
    key = serialization.load_pem_private_key(signing_key.read_bytes(), password=None)
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": KEY_ID})  # type: ignore[arg-type]
