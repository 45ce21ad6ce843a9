"""Crafted tokens: whatever a token holds, verifying it ends in a caller or Unauthenticated,
never another exception; lifetimes are capped, the subject is required, and keys rotated in
the key set file are in force without a restart."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from touchstone.platform.security import auth
from touchstone.platform.security.auth import KeySet, Unauthenticated
from touchstone.tools.ops.dev_keys import KEY_ID, DevKeys, mint

ISSUER, AUDIENCE = "touchstone-test", "touchstone"


@pytest.fixture
def keys(tmp_path: Path) -> DevKeys:
    return DevKeys(tmp_path / "keys").create()


@pytest.fixture
def key_set(keys: DevKeys) -> KeySet:
    return KeySet.from_file(keys.jwks, issuer=ISSUER, audience=AUDIENCE)


def refusal(key_set: KeySet, bearer: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        key_set.verify(bearer)
    return str(refused.value)


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "lan", "roles": ["staff"], "sites": ["*"], "iss": ISSUER, "aud": AUDIENCE}
    return base | {"iat": now, "exp": now + 600} | changes


def signed(keys: DevKeys, body: dict[str, Any]) -> str:
    key = serialization.load_pem_private_key(keys.signing_key.read_bytes(), password=None)
    return jwt.encode(body, key, algorithm="EdDSA", headers={"kid": KEY_ID})  # type: ignore[arg-type]


@pytest.mark.parametrize("alg", ["ES256", "RS256", "HS256", "none", "EdDSA "])
def test_a_header_algorithm_that_is_not_the_keys_is_refused_not_crashed(
    key_set: KeySet, alg: str
) -> None:
    crafted = f"{b64({'alg': alg, 'kid': KEY_ID, 'typ': 'JWT'})}.{b64(claims())}.{b64(b'junk')}"
    assert refusal(key_set, crafted) == (f"the token's algorithm {alg!r} is not its key's (EdDSA)")


@pytest.mark.parametrize(
    "crafted",
    [
        "",
        "...",
        "a.b.c",
        f"{b64({'alg': 'EdDSA', 'kid': ['x']})}.{b64(claims())}.{b64(b'junk')}",
        f"{b64({'alg': 'EdDSA', 'kid': KEY_ID})}.{b64(b'[1, 2]')}.{b64(b'junk')}",
        f"{b64({'alg': 'EdDSA', 'kid': KEY_ID})}.{b64(claims())}.{b64(b'x' * 64)}",
        f"{b64(b'null')}.{b64(claims())}.{b64(b'junk')}",
        "\x00\xff.\n.\t",
    ],
)
def test_any_malformed_token_is_unauthenticated(key_set: KeySet, crafted: str) -> None:
    assert refusal(key_set, crafted)


def test_an_unexpected_failure_inside_verification_is_still_unauthenticated(
    keys: DevKeys, key_set: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    def trips(*args: object, **kwargs: object) -> dict[str, Any]:
        raise TypeError("a key of the wrong type")

    monkeypatch.setattr(auth.jwt, "decode", trips)
    assert refusal(key_set, signed(keys, claims())) == "the token is not valid (TypeError)"


def test_a_token_valid_for_longer_than_the_maximum_lifetime_is_refused(
    keys: DevKeys, key_set: KeySet
) -> None:
    century = signed(keys, claims(exp=int(time.time()) + 100 * 365 * 86400))
    assert refusal(key_set, century).endswith("at most 24 h is accepted")
    day = mint(
        keys.signing_key,
        subject="lan",
        roles=["staff"],
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_s=24 * 3600,
    )
    assert key_set.verify(day).subject == "lan"
    strict = KeySet.from_file(keys.jwks, issuer=ISSUER, audience=AUDIENCE, max_lifetime_s=3600)
    assert refusal(strict, day).endswith("at most 1 h is accepted")


def test_a_token_from_the_future_is_refused(keys: DevKeys, key_set: KeySet) -> None:
    now = int(time.time())
    ahead = signed(keys, claims(iat=now + 3600, exp=now + 7200))  # issued an hour from now
    assert refusal(key_set, ahead).startswith("the token is not valid")


@pytest.mark.parametrize("kid", [None, 7, ["touchstone-dev-1"], {"k": 1}])
def test_a_key_id_that_is_not_a_string_names_no_key(key_set: KeySet, kid: Any) -> None:
    crafted = f"{b64({'alg': 'EdDSA', 'kid': kid})}.{b64(claims())}.{b64(b'junk')}"
    assert refusal(key_set, crafted) in (
        "not a JWT: Key ID header parameter must be a string",  # PyJWT's own check
        f"signed by an unknown key (kid {kid!r})",
    )


@pytest.mark.parametrize("subject", ["", "   ", 7, None])
def test_the_subject_must_name_the_caller(keys: DevKeys, key_set: KeySet, subject: Any) -> None:
    reason = refusal(key_set, signed(keys, claims(sub=subject)))
    assert "sub" in reason.lower()


def test_keys_rotated_in_the_file_are_in_force_without_a_restart(
    keys: DevKeys, key_set: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = mint(keys.signing_key, subject="lan", roles=["staff"], issuer=ISSUER, audience=AUDIENCE)
    assert key_set.verify(old).subject == "lan"
    keys.create()  # a new key pair under the same key id: the old key is gone
    new = mint(keys.signing_key, subject="mai", roles=["staff"], issuer=ISSUER, audience=AUDIENCE)
    monkeypatch.setattr(auth, "RELOAD_EVERY_S", 0.0)
    assert key_set.verify(new).subject == "mai"
    assert refusal(key_set, old) == "the token's signature does not verify"  # not remembered
    keys.create()  # rotated again: a token only ever looked up is forgotten too
    assert key_set.remembered(new) is None


@pytest.mark.parametrize("content", ['{"keys": [', "[]", "null", '{"keys": [{"kty": "x"}]}'])
def test_a_key_set_file_that_no_longer_reads_keeps_the_keys_in_force(
    keys: DevKeys, key_set: KeySet, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    good = mint(keys.signing_key, subject="lan", roles=["staff"], issuer=ISSUER, audience=AUDIENCE)
    other = mint(keys.signing_key, subject="mai", roles=["staff"], issuer=ISSUER, audience=AUDIENCE)
    assert key_set.verify(good).subject == "lan"
    keys.jwks.write_text(content, encoding="utf-8")  # half written, or not a key set
    monkeypatch.setattr(auth, "RELOAD_EVERY_S", 0.0)
    assert key_set.verify(other).subject == "mai"  # checked with the keys in force
    assert isinstance(key_set, auth.KeyFile) and key_set._seen != content.encode()


def test_a_shared_secret_or_a_key_without_an_id_is_not_a_key_set(tmp_path: Path) -> None:
    secret = {"kty": "oct", "k": b64(b"s" * 32), "kid": "shared", "alg": "HS256"}
    with pytest.raises(ValueError, match="algorithm HS256 is not one of"):
        KeySet({"keys": [secret]}, issuer=ISSUER, audience=AUDIENCE)
    public = json.loads(DevKeys(tmp_path).create().jwks.read_text())["keys"][0]
    del public["kid"]
    with pytest.raises(ValueError, match="needs a key id"):
        KeySet({"keys": [public]}, issuer=ISSUER, audience=AUDIENCE)


def test_a_refusal_quotes_what_the_caller_chose_only_briefly(key_set: KeySet) -> None:
    long_kid = "x" * 5_000 + "\n2026-12-05 INFO admin logged in"  # a forged log line, too
    crafted = f"{b64({'alg': 'EdDSA', 'kid': long_kid})}.{b64(claims())}.{b64(b'junk')}"
    reason = refusal(key_set, crafted)
    assert reason == f"signed by an unknown key (kid {repr(long_kid)[:39]}…)"
    assert "\n" not in reason and len(reason) < 100
