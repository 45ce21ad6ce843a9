"""The fault suite's own parts: its spoilt workloads spoil what they say, its comparison counts
what it says, its proxy cuts what it says. (The suite itself runs in tests/e2e/test_faults.py
and as `make faults`.)"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from touchstone.contacts.admission import admit_bytes
from touchstone.contacts.domain import DEFAULT_INGEST_POLICY
from touchstone.platform.messaging.topics import PROTOBUF
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.faults.injections import fault_free
from touchstone.tools.dev.faults.matrix import Plan, planned
from touchstone.tools.dev.faults.outcome import Snapshot, compare
from touchstone.tools.dev.faults.proxy import TcpProxy
from touchstone.tools.dev.faults.workloads import (
    MALFORMED,
    event_ids,
    jittered,
    scrambled,
    shuffled,
    simulated,
    with_malformed,
    with_repeats,
)
from touchstone.tools.ops.publisher import Record

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
BASE = simulated(5, 600)


def admitted(record: Record) -> bool:
    return not isinstance(admit_bytes(record.value, PROTOBUF, NOW, DEFAULT_INGEST_POLICY), list)


def test_the_simulated_touchpoints_are_all_admitted_and_the_same_for_the_same_seed() -> None:
    assert all(admitted(r) for r in BASE.records)
    assert simulated(5, 600) == BASE
    assert len(event_ids(BASE)) == 600


def test_every_malformed_kind_and_the_2_mib_record_are_refused_by_contacts() -> None:
    spoilt = with_malformed(BASE, seed=1, share=0.05)
    added = [r for r in spoilt.records if r not in BASE.records]
    assert len(added) == spoilt.rejects == 30  # 5% of 600
    assert not any(admitted(r) for r in added)
    assert max(len(r.value) for r in added) > 2 << 20  # the 2 MiB record is among them
    assert f"({len(MALFORMED) + 1} kinds)" in spoilt.name
    assert [r for r in spoilt.records if r in BASE.records] == list(BASE.records)  # order kept


def test_repeats_come_after_their_original_and_conflicts_say_something_else() -> None:
    repeated = with_repeats(BASE, seed=2, share=0.10, conflict_share=0.02)
    first_seen: dict[str, int] = {}
    conflicts = 0
    for position, record in enumerate(repeated.records):
        event_id = dict(record.headers)["ce_id"]
        if event_id not in first_seen:
            first_seen[event_id] = position
            continue
        original = repeated.records[first_seen[event_id]]
        assert record.key == original.key  # same partition, so after it there too
        conflicts += record.value != original.value
    assert conflicts == repeated.conflicts == repeated.rejects > 0
    assert 600 + conflicts < len(repeated.records) < 600 * 1.2 + conflicts
    assert event_ids(repeated) == event_ids(BASE)


def test_shuffled_interleaves_customers_and_keeps_each_customers_own_order() -> None:
    mixed = shuffled(BASE, seed=3)
    assert Counter(mixed.records) == Counter(BASE.records) and mixed.records != BASE.records

    def by_key(records: tuple[Record, ...]) -> dict[bytes, list[Record]]:
        out: dict[bytes, list[Record]] = {}
        for record in records:
            out.setdefault(record.key, []).append(record)
        return out

    assert by_key(mixed.records) == by_key(BASE.records)
    late = jittered(with_malformed(BASE, seed=1, share=0.05), seed=3)
    assert len(late.records) == 630 and late.records != BASE.records
    anything = scrambled(BASE, seed=3)
    assert Counter(anything.records) == Counter(BASE.records)
    assert by_key(anything.records) != by_key(BASE.records)  # a customer's own order too


def snap(**tables: dict[str, str]) -> Snapshot:
    return Snapshot({name: Counter(rows.items()) for name, rows in tables.items()})


def test_the_comparison_counts_lost_extra_and_changed_rows_by_key() -> None:
    reference = snap(moments={"m1": "win", "m2": "lose", "m3": "win"}, cases={"c1": "open"})
    observed = snap(moments={"m1": "win", "m2": "win", "m4": "win"}, cases={"c1": "open"})
    difference = compare(reference, observed)
    assert (difference.lost, difference.duplicated, difference.changed) == (1, 1, 1)
    assert difference.tables == ("moments",) and not difference.identical
    assert compare(reference, reference).identical


def test_a_row_held_twice_counts_as_duplicated_and_once_too_few_as_lost() -> None:
    once = Snapshot({"log": Counter({("r", "r"): 1})})
    twice = Snapshot({"log": Counter({("r", "r"): 2})})
    assert compare(once, twice).duplicated == 1 and compare(twice, once).lost == 1
    other = Snapshot({"log": Counter({("r", "s"): 2})})
    assert (compare(once, other).changed, compare(once, other).duplicated) == (1, 0)


def echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


@pytest.fixture
def echo_server() -> int:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return int(server.getsockname()[1])


def echoed(port: int) -> bytes:
    """What came back through the port: nothing when the connection was dropped or reset."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"ping")
            return conn.recv(1024)
    except ConnectionError:
        return b""


def test_the_proxy_forwards_and_while_cut_drops_and_refuses_connections(echo_server: int) -> None:
    proxy = TcpProxy(free_port(), ("127.0.0.1", echo_server)).start()
    try:
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        held.sendall(b"ping")
        assert held.recv(1024) == b"ping" and echoed(proxy.port) == b"ping"
        proxy.cut()
        assert held.recv(1024) == b""  # dropped
        assert echoed(proxy.port) == b""  # refused: accepted and closed at once
        proxy.restore()
        assert echoed(proxy.port) == b"ping"
    finally:
        proxy.stop()


def test_a_row_whose_harm_failed_or_struck_nothing_in_flight_does_not_pass() -> None:
    from touchstone.tools.dev.faults.injections import killed
    from touchstone.tools.dev.faults.runner import Observed, Row, RowVerdict

    nothing = Snapshot({})

    def verdict(inject: object, in_flight: list[int], failed: str = "") -> RowVerdict:
        row = Row("fault", BASE, inject)  # type: ignore[arg-type]
        observed = Observed(row, nothing, in_flight, 1.0, 1.0, harm_failed=failed)
        return RowVerdict(observed, compare(nothing, nothing))

    assert verdict(killed("journey"), [120, 80, 5]).passed
    assert not verdict(killed("journey"), [120, 0, 5]).passed  # one kill after the work
    assert not verdict(killed("journey"), []).passed  # never struck
    assert not verdict(killed("journey"), [120], "RuntimeError: no Postgres").passed
    assert verdict(fault_free, []).passed


def test_each_row_is_judged_against_its_own_reference_and_the_overload_can_run_alone() -> None:
    small = Plan(events=50, overload_per_s=10.0, overload_s=3.0)
    (reference, judged_rows), (backlog, [loaded]) = planned(small)
    assert reference.inject is fault_free and len(judged_rows) == 7 + len(small.services)
    assert judged_rows[0].workload == reference.workload  # the same touchpoints, seed and all
    assert backlog.workload == loaded.workload and len(loaded.workload.records) == 30
    assert backlog.offered_per_s is None and loaded.offered_per_s == 10.0
    assert planned(replace(small, matrix=False)) == [(backlog, [loaded])]
    assert [ref for ref, _ in planned(replace(small, overload_s=0))] == [reference]


class _Readings:
    """contacts' lag, one reading after another (the last one repeated)."""

    def __init__(self, *lags: int | None) -> None:
        self.lags = list(lags)
        self.read = 0

    def lag_of(self, name: str) -> int | None:
        self.read += 1
        return self.lags.pop(0) if len(self.lags) > 1 else self.lags[0]


@pytest.mark.parametrize(
    ("readings", "read"),
    [
        ((None, 3_000, 3_000, 2_400), 4),  # falls below the first reading: flowing
        ((None, 0), 2),  # a small backlog gone before the first answer: flowing, not stuck
        ((0,), 1),
    ],
)
def test_the_harm_strikes_once_contacts_has_taken_some_or_all_of_the_backlog(
    readings: tuple[int | None, ...], read: int
) -> None:
    from touchstone.tools.dev.faults.injections import Harm

    lags = _Readings(*readings)
    harm = Harm(stack=None, proxy=None, lags=lags)  # type: ignore[arg-type]
    harm.under_way()
    assert lags.read == read
