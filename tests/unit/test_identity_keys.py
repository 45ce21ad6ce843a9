"""The key ring for keyed identity hashes: what it accepts, what it refuses (naming the variable),
and that contacts will not start beyond the embedded stack without one."""

from __future__ import annotations

import base64

import pytest

from touchstone.contacts.identity_keys import (
    DEVELOPMENT,
    DEVELOPMENT_KEYS,
    BadIdentityKeys,
    IdentityKeys,
    identity_keys_of,
    identity_sha256,
)
from touchstone.contacts.service import SPEC
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import run_service

SECRET = base64.urlsafe_b64encode(b"s" * 32).decode()
STANDARD = base64.b64encode(bytes(range(200, 232))).decode()  # `openssl rand -base64 32`: + and /


def test_a_ring_names_its_current_key_first_and_finds_under_every_key() -> None:
    ring = IdentityKeys.parse(f"k2:{SECRET}, k1:{STANDARD}")
    assert ring.current_id == "k2"
    new, old = ring.digests("phone", "+84901234567")
    assert new == ring.digest("phone", "+84901234567")
    assert old == IdentityKeys.parse(f"k1:{STANDARD}").digest("phone", "+84901234567")
    assert new != old != identity_sha256("phone", "+84901234567")
    assert ring.rekeyed(identity_sha256("phone", "+84901234567")) == new


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "key 1 needs an id"),
        (SECRET, "key 1 needs an id"),
        (f"K1:{SECRET}", "key 1 needs an id"),
        (f"k1:{SECRET},k1:{SECRET}", "key id 'k1' appears twice"),
        ("k1:c2hvcnQ", "key 'k1' has 5 bytes; at least 32"),
        ("k1:!!!", "key 'k1' is not base64url"),
        ("k1:a", "key 'k1' is not base64url"),
    ],
)
def test_a_ring_that_cannot_be_used_is_refused_naming_the_variable(text: str, says: str) -> None:
    with pytest.raises(BadIdentityKeys, match=rf"^TOUCHSTONE_IDENTITY_KEYS: {says}"):
        IdentityKeys.parse(text)


def test_the_public_development_key_serves_the_embedded_stack_alone() -> None:
    assert identity_keys_of("", embedded=True) is DEVELOPMENT_KEYS
    assert identity_keys_of(f"prod:{SECRET}", embedded=True).current_id == "prod"
    with pytest.raises(BadIdentityKeys, match="TOUCHSTONE_IDENTITY_KEYS is not set"):
        identity_keys_of("", embedded=False)


def test_contacts_will_not_start_without_a_ring_beyond_the_embedded_stack() -> None:
    nowhere = Settings(embedded=False, database_url="postgresql://nobody@db.invalid/none")
    with pytest.raises(SystemExit, match=r"^contacts will not start: TOUCHSTONE_IDENTITY_KEYS"):
        run_service(SPEC, nowhere)  # before it looks for its database or the broker


def test_the_development_key_beyond_the_embedded_stack_is_said_out_loud(
    caplog: pytest.LogCaptureFixture,
) -> None:
    identity_keys_of(DEVELOPMENT, embedded=False)  # compose's development default
    assert "public development key" in caplog.text
    caplog.clear()
    identity_keys_of(f"prod:{SECRET}", embedded=False)
    assert not caplog.text


def test_every_part_of_contacts_derives_by_the_settings_ring_not_the_development_one() -> None:
    """The rules take the development ring by default (tests need one); what contacts runs is
    wired from the settings: its store, its stream handler and its API (ingest, redrive)."""
    settings = Settings(embedded=False, identity_keys=f"prod:{SECRET}")
    ring = IdentityKeys.parse(f"prod:{SECRET}")
    store = SPEC.store(None, settings)  # type: ignore[arg-type]  # no pool needed to wire
    handler = SPEC.handler(store, settings)
    servicer = SPEC.servicer(store, settings)
    wired = {store.identity_keys, handler.policy.identity_keys, servicer.policy.identity_keys}
    assert wired == {ring}
