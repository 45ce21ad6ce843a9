"""Bearer tokens: who a token names, and every reason one is refused."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import authentication
from touchstone.platform.security.auth import KeySet, Principal, Unauthenticated
from touchstone.platform.security.auth_interceptor import bearer_token
from touchstone.tools.ops.client import token_for
from touchstone.tools.ops.dev_keys import DevKeys, mint

ISSUER, AUDIENCE = "touchstone-test", "touchstone"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    return DevKeys(tmp_path_factory.mktemp("keys")).create()


@pytest.fixture(scope="module")
def key_set(keys: DevKeys) -> KeySet:
    return KeySet.from_file(keys.jwks, issuer=ISSUER, audience=AUDIENCE)


def token(signing_key: Path, **changes: object) -> str:
    claims: dict = {
        "subject": "lan",
        "roles": ["staff"],
        "sites": ["hcm-01"],
        "issuer": ISSUER,
        "audience": AUDIENCE,
    }
    claims.update(changes)
    return mint(signing_key, **claims)


def refusal(key_set: KeySet, bearer: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        key_set.verify(bearer)
    return str(refused.value)


def test_a_valid_token_names_its_subject_roles_and_sites(keys: DevKeys, key_set: KeySet) -> None:
    caller = key_set.verify(token(keys.signing_key))
    assert caller == Principal("lan", frozenset({"staff"}), frozenset({"hcm-01"}))
    assert caller.may_see_site("hcm-01") and not caller.may_see_site("hn-02")
    assert key_set.verify(token(keys.signing_key, sites=["*"])).may_see_site("hn-02")


def test_an_expired_token_is_refused(keys: DevKeys, key_set: KeySet) -> None:
    expired = token(keys.signing_key, ttl_s=3600, now=time.time() - 2 * 3600)
    assert refusal(key_set, expired) == "the token has expired"


def test_a_token_for_another_audience_is_refused(keys: DevKeys, key_set: KeySet) -> None:
    other = token(keys.signing_key, audience="billing")
    assert refusal(key_set, other) == "the token is not for audience 'touchstone'"


def test_a_token_from_another_issuer_is_refused(keys: DevKeys, key_set: KeySet) -> None:
    other = token(keys.signing_key, issuer="someone-else")
    assert refusal(key_set, other) == "the token is not issued by 'touchstone-test'"


def test_a_forged_signature_is_refused(key_set: KeySet, tmp_path: Path) -> None:
    forger = DevKeys(tmp_path).create()  # same key id, another key
    assert refusal(key_set, token(forger.signing_key)) == "the token's signature does not verify"


def test_a_tampered_token_is_refused(keys: DevKeys, key_set: KeySet) -> None:
    header, payload, signature = token(keys.signing_key).split(".")
    forged_payload = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    reason = refusal(key_set, f"{header}.{forged_payload}.{signature}")
    assert reason.startswith(("the token's signature does not verify", "the token is not valid"))


def test_a_token_without_a_role_or_not_a_jwt_is_refused(keys: DevKeys, key_set: KeySet) -> None:
    assert refusal(key_set, token(keys.signing_key, roles=["janitor"])).startswith(
        "the token names no role Touchstone knows"
    )
    assert refusal(key_set, "not-a-token").startswith("not a JWT")


def test_the_bearer_header_is_required_and_must_be_bearer() -> None:
    assert bearer_token([("authorization", "Bearer abc.def.ghi")]) == "abc.def.ghi"
    with pytest.raises(Unauthenticated, match="no bearer token"):
        bearer_token([("x-other", "1")])
    with pytest.raises(Unauthenticated, match="not a Bearer token"):
        bearer_token([("authorization", "Basic dXNlcjpwYXNz")])


def test_a_service_will_not_start_with_authentication_on_and_no_key_set() -> None:
    with pytest.raises(SystemExit, match="TOUCHSTONE_AUTH_KEYS must name the JWKS file"):
        authentication(Settings(auth=True, auth_keys_file=None), "journey")
    assert authentication(Settings(auth=False), "journey") == []


def test_local_clients_sign_their_own_token_and_a_given_one_wins(keys: DevKeys) -> None:
    local = Settings(
        auth_keys_file=keys.jwks,
        auth_signing_key=keys.signing_key,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
    )
    key_set = KeySet.from_file(keys.jwks, issuer=ISSUER, audience=AUDIENCE)
    assert key_set.verify(token_for(local, "auditor")).roles == {"auditor"}
    assert token_for(replace(local, token="given")) == "given"
    nowhere = Settings(embedded=False, auth_signing_key=None)
    assert token_for(nowhere) == ""


def test_roles_and_sites_must_be_lists(keys: DevKeys, key_set: KeySet) -> None:
    import jwt as pyjwt
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(keys.signing_key.read_bytes(), password=None)
    now = int(time.time())
    claims = {"sub": "x", "roles": ["staff"], "sites": "hcm-01*", "iss": ISSUER, "aud": AUDIENCE}
    claims |= {"iat": now, "exp": now + 60}
    stringy = pyjwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "touchstone-dev-1"})  # type: ignore[arg-type]
    assert refusal(key_set, stringy) == "the token's sites claim must be a list"


def test_key_and_token_files_are_private_to_their_owner(keys: DevKeys) -> None:
    assert keys.signing_key.stat().st_mode & 0o077 == 0
    assert keys.folder.stat().st_mode & 0o077 == 0


def test_a_verified_token_is_remembered_only_until_it_expires(
    keys: DevKeys, key_set: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from touchstone.platform.security import auth

    short = token(keys.signing_key, ttl_s=60)
    assert key_set.verify(short).subject == "lan"
    assert key_set.verify(short).subject == "lan"  # remembered
    later = time.time() + 3600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    monkeypatch.setattr("jwt.api_jwt.datetime", _frozen_datetime(later))
    assert refusal(key_set, short) == "the token has expired"


def _frozen_datetime(at: float) -> type:
    from datetime import UTC, datetime

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return datetime.fromtimestamp(at, UTC)

    return Frozen
