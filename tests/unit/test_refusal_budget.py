"""The audit trail cannot be flooded: refusals are recorded per caller with a valid token, per
address (not per connection) without one, and for everyone without one together; calls
without a valid token past an address's rate are refused before any signature is checked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from tests.fakes.contacts import MemoryContactsStore
from touchstone.contacts.api import ContactsApi
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1 import contacts_service_pb2_grpc as pb_grpc
from touchstone.platform.security.auth import KeySet, Principal
from touchstone.platform.security.auth_interceptor import (
    SIGNATURE_CHECKS_PER_S,
    UNAUTHENTICATED_PER_S,
    Authenticate,
)
from touchstone.platform.security.call_audit import (
    REFUSALS_AUDITED_PER_S,
    UNAUTHENTICATED_AUDITED_PER_S,
    RefusalBudget,
    peer_address,
)
from touchstone.platform.security.limits import CALLS, CallerLimits
from touchstone.platform.serving.rpc import ServiceBinding, start_server
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.ops.dev_keys import DevKeys, mint

FROZEN = 1000.0  # the budgets' clock stands still: no token comes back during the test


class Trail:
    """Keeps what would go to the audit topic."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    async def record(self, record: Any) -> None:
        self.records.append(record)

    async def close(self) -> None:
        """Nothing to flush: the records are kept in memory."""


class CountedKeys(KeySet):
    def __init__(self, keys: KeySet) -> None:
        self.__dict__.update(keys.__dict__)
        self.read = 0  # tokens whose header was looked at
        self.checked = 0  # tokens whose signature was checked

    def key_for(self, token: str) -> Any:
        self.read += 1
        return super().key_for(token)

    def verify(self, token: str) -> Principal:
        self.checked += 1
        return super().verify(token)


def frozen(limits: CallerLimits) -> CallerLimits:
    limits.clock = lambda: FROZEN
    return limits


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        ("ipv4:10.1.2.3:50123", "10.1.2.3"),
        ("ipv6:[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"),
        ("ipv6:%5B2001:db8:1:2:ff::1%5D:50000", "2001:db8:1:2::/64"),
        ("unix:/run/touchstone.sock", "unix"),
        ("", ""),
    ],
)
def test_an_address_is_the_peer_without_its_port(peer: str, address: str) -> None:
    assert peer_address(peer) == address


def test_refusals_are_recorded_per_caller_per_address_and_for_everyone_without_a_token() -> None:
    budget = RefusalBudget(
        frozen(CallerLimits({CALLS: REFUSALS_AUDITED_PER_S}, 0)),
        frozen(CallerLimits({CALLS: UNAUTHENTICATED_AUDITED_PER_S}, 0)),
    )
    burst = int(2 * REFUSALS_AUDITED_PER_S)  # a bucket holds twice its rate
    lan = Principal("lan", frozenset({"staff"}), frozenset({"*"}))
    assert sum(budget.admits(lan, "10.0.0.1") for _ in range(50)) == burst
    assert sum(budget.admits(None, "10.0.0.1") for _ in range(50)) == burst  # apart from lan's
    everyone = int(2 * UNAUTHENTICATED_AUDITED_PER_S)
    many = sum(budget.admits(None, f"10.9.{n // 250}.{n % 250}") for n in range(1000))
    assert many == everyone - burst  # 1,000 addresses share one budget with the first


async def flood(keys: DevKeys, connections: int, calls: int) -> tuple[list, Trail, CountedKeys]:
    """Many connections from one address, each making calls with a forged token."""
    trail = Trail()
    key_set = CountedKeys(KeySet.from_file(keys.jwks, issuer="touchstone", audience="touchstone"))
    guard = Authenticate(key_set, trail, "contacts")  # type: ignore[arg-type]
    frozen(guard.unauthenticated)
    frozen(guard.refusal_budget.per_caller)
    frozen(guard.refusal_budget.anonymous)
    binding = ServiceBinding(
        "touchstone.contacts.v1.ContactsService",
        ContactsApi(MemoryContactsStore()),
        pb_grpc.add_ContactsServiceServicer_to_server,
    )
    address = f"127.0.0.1:{free_port()}"
    server, _ = await start_server(address, [binding], [guard])
    codes: list[grpc.StatusCode] = []
    try:
        for _ in range(connections):
            async with grpc.aio.insecure_channel(address) as channel:  # a new port each time
                stub = pb_grpc.ContactsServiceStub(channel)
                for _ in range(calls):
                    try:
                        await stub.GetCustomer(
                            pb.GetCustomerRequest(customer_id="c-1"),
                            metadata=(("authorization", "Bearer forged.token.here"),),
                            timeout=10,
                        )
                    except grpc.aio.AioRpcError as error:
                        codes.append(error.code())
    finally:
        await server.stop(grace=1)
    return codes, trail, key_set


def test_a_token_verified_before_goes_through_while_its_address_is_over_budget(
    tmp_path: Path,
) -> None:
    """Callers behind one proxy share an address: one bad client must not lock the rest out."""
    keys = DevKeys(tmp_path / "keys").create()
    guard = Authenticate(KeySet.from_file(keys.jwks, issuer="touchstone", audience="touchstone"))
    frozen(guard.unauthenticated)
    good = mint(keys.signing_key, subject="till-1", roles=["producer"], issuer="touchstone",
                audience="touchstone")  # fmt: skip
    method = "/touchstone.contacts.v1.ContactsService/Ingest"

    def details(token: str) -> Any:
        return SimpleNamespace(
            method=method, invocation_metadata=(("authorization", f"Bearer {token}"),)
        )

    peer = "ipv4:10.0.0.9:4000"
    assert isinstance(guard.judge(details(good), peer), Principal)  # verified once
    codes = [guard.judge(details("forged.token.x"), peer) for _ in range(40)]
    assert codes[-1].code == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[union-attr]
    assert isinstance(guard.judge(details(good), peer), Principal)  # still let through
    other = mint(keys.signing_key, subject="till-2", roles=["producer"], issuer="touchstone",
                 audience="touchstone")  # fmt: skip
    assert guard.judge(details(other), peer).code == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[union-attr]


def test_fifty_connections_from_one_address_cannot_flood_the_audit_topic(tmp_path: Path) -> None:
    keys = DevKeys(tmp_path / "keys").create()
    codes, trail, key_set = asyncio.run(flood(keys, connections=50, calls=10))
    failures = int(2 * UNAUTHENTICATED_PER_S)
    assert codes.count(grpc.StatusCode.UNAUTHENTICATED) == failures
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 500 - failures
    assert key_set.read == failures  # the rest refused unread
    assert len(trail.records) == int(2 * REFUSALS_AUDITED_PER_S)  # not 500
    assert {r.outcome for r in trail.records} == {"UNAUTHENTICATED"}


def test_forged_tokens_from_many_addresses_buy_only_so_many_signature_checks(
    tmp_path: Path,
) -> None:
    keys = DevKeys(tmp_path / "keys").create()
    key_set = CountedKeys(KeySet.from_file(keys.jwks, issuer="touchstone", audience="touchstone"))
    guard = Authenticate(key_set)
    frozen(guard.unauthenticated)
    frozen(guard.signature_checks)
    good = mint(keys.signing_key, subject="till-1", roles=["producer"], issuer="touchstone",
                audience="touchstone")  # fmt: skip

    def details(token: str) -> Any:
        return SimpleNamespace(
            method="/touchstone.contacts.v1.ContactsService/Ingest",
            invocation_metadata=(("authorization", f"Bearer {token}"),),
        )

    assert isinstance(guard.judge(details(good), "ipv4:10.0.0.1:1"), Principal)
    # a botnet: one forged token from each of 2,000 addresses, each within its own budget, each
    # naming the real key (junk that names no key is refused before any signature is checked)
    header = good.split(".")[0]
    peers = [f"ipv4:10.1.{n // 250}.{n % 250}:9" for n in range(2_000)]
    junk = [guard.judge(details(f"junk.{n}.x"), peer) for n, peer in enumerate(peers)]
    assert {v.code for v in junk} == {grpc.StatusCode.UNAUTHENTICATED}  # type: ignore[union-attr]
    assert key_set.checked == 1  # none of the junk cost a signature check
    forged = f"{header}.e30.eHh4eHh4"  # the real key's header, a signature of junk
    verdicts = [guard.judge(details(forged), peer) for peer in peers]
    checks = int(2 * SIGNATURE_CHECKS_PER_S)  # the burst, then nothing while the clock stands
    assert key_set.checked == checks  # the good token spent one of the burst
    codes = [v.code for v in verdicts]  # type: ignore[union-attr]
    assert codes.count(grpc.StatusCode.UNAUTHENTICATED) == checks - 1
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 2_000 - (checks - 1)
    assert isinstance(guard.judge(details(good), "ipv4:10.0.0.2:1"), Principal)  # known: no check
