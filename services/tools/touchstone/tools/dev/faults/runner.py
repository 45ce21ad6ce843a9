"""Runs the fault matrix: each row on a fresh embedded stack, compared with a fault-free run.

A row publishes its workload, starts the four services (or, for overload, keeps publishing at a
rate above what they can handle), does its harm, waits until the system has settled (every lag
0 and no table changing for QUIET_S) and takes a snapshot of every table. Its verdicts, cases
and values must be the reference's row for row: nothing lost, nothing twice, nothing otherwise.
The table's last line is one JSON object.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
from kafka import KafkaProducer

from touchstone.platform.messaging.topics import TOUCHPOINTS
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.tools.dev.embedded import PG_DATABASE, PG_SUPERUSER, free_port
from touchstone.tools.dev.faults.injections import Harm, Injection, fault_free
from touchstone.tools.dev.faults.outcome import SKIPPED, Difference, Snapshot, compare, snapshot
from touchstone.tools.dev.faults.proxy import TcpProxy
from touchstone.tools.dev.faults.workloads import Workload
from touchstone.tools.dev.simulator import Pacer
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.lag import LagReader
from touchstone.tools.ops.publisher import Record
from touchstone.tools.ops.service_specs import service_spec
from touchstone.tools.ops.state_checksum import state_checksum

SKIPPED_HERE = {  # outcome.SKIPPED by schema: tables the wall clock moves never settle
    name: tuple(t.partition(".")[2] for t in SKIPPED if t.startswith(f"{name}."))
    for name in SERVICES
}
QUIET_S = 15.0  # settled: every lag 0 and no table changed for this long (progress every 5 s)
POLL_S = 1.0
CARELESS_PRODUCER_BYTES = 4 << 20  # the suite publishes what a careless producer would


@dataclass(frozen=True)
class Row:
    """One fault on one workload."""

    fault: str
    workload: Workload
    inject: Injection = fault_free
    offered_per_s: float | None = None  # None: the workload waits as a backlog; else offered
    # at this rate while the services run (overload)
    behind: tuple[str, ...] = ()  # services the injection starts itself, once contacts has
    # handled the backlog: a fast service is then killed with a backlog of its own, not after
    # it kept up with a small one


@dataclass
class Observed:
    """What one row did and left."""

    row: Row
    snapshot: Snapshot
    in_flight: list[int]
    drained_s: float  # services started → last change
    recover_s: float | None  # the harm over → last change
    peak_lag: dict[str, int] = field(default_factory=dict)
    harm_failed: str = ""  # why the injection did not do its harm ('' when it did)


@dataclass(frozen=True)
class RowVerdict:
    """A row's observation against its reference."""

    observed: Observed
    difference: Difference

    @property
    def expected_counts(self) -> dict[str, int]:
        workload = self.observed.row.workload
        return {"contacts.dead_letters": workload.rejects, "contacts.conflicts": workload.conflicts}

    @property
    def counts(self) -> dict[str, int]:
        return {t: self.observed.snapshot.counted.get(t, 0) for t in self.expected_counts}

    @property
    def struck(self) -> bool:
        """Whether the harm was done, each time while the harmed part had records in flight (a
        fault that lands after the work is done proves nothing)."""
        o = self.observed
        if o.harm_failed or (o.row.inject is not fault_free and not o.in_flight):
            return False
        return all(n > 0 for n in o.in_flight)

    @property
    def passed(self) -> bool:
        return self.difference.identical and self.counts == self.expected_counts and self.struck

    def line(self) -> dict[str, object]:
        o = self.observed
        return {
            "fault": o.row.fault,
            "workload": o.row.workload.name,
            "records": len(o.row.workload.records),
            "lost": self.difference.lost,
            "duplicated": self.difference.duplicated,
            "changed": self.difference.changed,
            "tables_differing": list(self.difference.tables),
            "counted": self.counts,
            "counted_expected": self.expected_counts,
            "in_flight_at_fault": o.in_flight,
            "drained_s": round(o.drained_s, 1),
            "recover_s": None if o.recover_s is None else round(o.recover_s, 1),
            "peak_lag": o.peak_lag,
            "harm_failed": o.harm_failed,
            "passed": self.passed,
        }


def isolated(settings: Settings, state_dir: Path) -> tuple[Settings, int]:
    """Settings for a stack of its own on free ports (a `make run` may be up beside it), the
    broker behind the suite's proxy; and the port the broker itself listens on."""
    settings = replace(
        settings,
        embedded=True,
        state_dir=state_dir,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",  # the proxy's
        database_url=f"postgresql://{PG_SUPERUSER}@127.0.0.1:{free_port()}/{PG_DATABASE}",
        grpc_ports={name: free_port() for name in SERVICES},
        metrics_ports={name: free_port() for name in SERVICES},
        http_ports={name: free_port() for name in SERVICES},
        smtp_port=free_port(),
        log_level="warning",
    )
    return settings, free_port()


def run_row(
    settings: Settings,
    row: Row,
    say: Callable[[str], None] = print,
    timeout_s: float = 1_800.0,
    quiet_s: float = QUIET_S,
) -> Observed:
    """Run one row on a fresh stack; what it left once settled."""
    settings, broker_port = isolated(settings, settings.state_dir)
    host, port = settings.kafka_bootstrap.rsplit(":", 1)
    proxy = TcpProxy(int(port), (host, broker_port)).start()
    stack = LocalStack(settings, broker_port=broker_port)
    try:
        live = stack.start(services=())
        publisher = Publisher(live, row.workload.records, row.offered_per_s)
        publisher.start()
        if row.offered_per_s is None:
            publisher.join()
        else:
            time.sleep(2.0)  # a backlog first: the services start behind, as under overload
        publisher.raise_failures()
        started = time.monotonic()
        stack.services.start(tuple(name for name in SERVICES if name not in row.behind))
        inputs = {name: service_spec(name).consumed_topics for name in SERVICES}
        lags = LagReader(live.kafka, inputs, live.consumer)
        harm = Harm(stack, proxy, lags)
        harmed: list[float] = []
        failed: list[str] = []

        def inject() -> None:
            try:
                row.inject(harm)
            except Exception as error:  # the row fails, saying why; the suite goes on
                failed.append(f"{type(error).__name__}: {error}")
                raise
            if row.inject is not fault_free:
                harmed.append(time.monotonic())

        # watching from the services' start: 3,000 records may all be handled by the time all
        # four serve, and a kill then strikes nothing in flight
        injector = threading.Thread(target=inject, name="fault-injector", daemon=True)
        injector.start()
        try:
            stack.services.wait_until_serving(timeout=120)
            peak: dict[str, int] = {}
            busy = [injector, publisher]
            settled_at = wait_settled(live, lags, busy, peak, say, timeout_s, quiet_s)
        finally:
            harm.stop.set()
            injector.join(180)
            lags.close()
        if injector.is_alive():
            failed.append("the injection did not end within 180 s of the row settling")
        publisher.raise_failures()
        with psycopg.connect(live.database_url, autocommit=True) as conn:
            taken = snapshot(conn)
        if row.offered_per_s is not None and publisher.finished_at is not None:
            harmed.append(publisher.finished_at)  # overload's harm ends when the offer does
        recover = settled_at - max(harmed) if harmed else None
        observed = Observed(row, taken, harm.in_flight, settled_at - started, recover, peak)
        return replace(observed, harm_failed="; ".join(failed))
    finally:
        try:
            stack.stop()
        finally:
            proxy.stop()


class Publisher(threading.Thread):
    """Publishes the records to touchpoints.v1 (paced when a rate is given), as a producer with a
    larger record limit than Touchstone's would (the 2 MiB record must reach the broker)."""

    def __init__(self, settings: Settings, records: Sequence[Record], rate: float | None) -> None:
        super().__init__(name="fault-publisher", daemon=True)
        self.settings, self.records, self.rate = settings, records, rate
        self.failures: list[BaseException] = []
        self.finished_at: float | None = None  # monotonic, once every record is acknowledged

    def run(self) -> None:
        producer = KafkaProducer(
            **self.settings.kafka.client_config(client_id="touchstone-faults"),
            max_request_size=CARELESS_PRODUCER_BYTES,
            linger_ms=5,
            acks="all",
            retries=10,
        )
        pacer = Pacer(self.rate)
        try:
            for record in self.records:
                pacer.wait()
                sent = producer.send(TOUCHPOINTS, record.value, record.key, list(record.headers))
                sent.add_errback(self.failures.append)
            producer.flush()
            self.finished_at = time.monotonic()
        except Exception as error:
            self.failures.append(error)
        finally:
            producer.close()

    def raise_failures(self) -> None:
        if self.failures:
            raise RuntimeError(f"{len(self.failures)} records not published: {self.failures[0]!r}")


def wait_settled(
    settings: Settings,
    lags: LagReader,
    busy: Sequence[threading.Thread],
    peak: dict[str, int],
    say: Callable[[str], None],
    timeout_s: float,
    quiet_s: float,
) -> float:
    """Block until nothing is busy, every lag is 0 and no table changed for quiet_s; when the
    last change was seen (monotonic). Notes each service's peak lag."""
    deadline = time.monotonic() + timeout_s
    last_seen: tuple[str, ...] | None = None
    changed_at = time.monotonic()
    told = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        behind = lags.read()
        for name, lag in behind.items():
            peak[name] = max(peak.get(name, 0), lag or 0)
        if now - told > 15:
            say(f"    lag {behind}")
            told = now
        working = any(t.is_alive() for t in busy) or any(v != 0 for v in behind.values())
        state = None if working else _state(settings)
        if state is None or state != last_seen:
            last_seen, changed_at = state, now
        elif now - changed_at >= quiet_s:
            return changed_at
        time.sleep(POLL_S)
    raise TimeoutError(f"not settled within {timeout_s:.0f}s (lags {lags.read()})")


def _state(settings: Settings) -> tuple[str, ...] | None:
    """A checksum of the compared tables; None while the database does not answer."""
    try:
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=3) as conn:
            sums = (state_checksum(conn, name, skip_tables=SKIPPED_HERE[name]) for name in SERVICES)
            return tuple(checksum.total for checksum in sums)
    except psycopg.OperationalError:
        return None


def judged(reference: Observed, observed: Observed) -> RowVerdict:
    """The row against its reference."""
    return RowVerdict(observed, compare(reference.snapshot, observed.snapshot))


def table(verdicts: Sequence[RowVerdict]) -> str:
    """The printed table: one line per row, then one JSON object."""
    head = f"{'fault':<34} {'workload':<44} {'lost':>5} {'dup':>5} {'diff':>5} "
    head += f"{'dead letters':>13} {'in flight':>12} {'drain s':>8} {'recover s':>9}  result"
    lines = [head, "-" * len(head)]
    for v in verdicts:
        d, o = v.difference, v.observed
        letters = "/".join(f"{v.counts[t]}:{n}" for t, n in v.expected_counts.items())
        flight = ",".join(str(n) for n in o.in_flight) or "-"
        recover = "-" if o.recover_s is None else f"{o.recover_s:.1f}"
        result = (
            "identical"
            if v.passed
            else f"DIFFERS {', '.join(d.tables)} {d.examples[:2]}"
            if not d.identical
            else f"NOT STRUCK {o.harm_failed or 'with nothing in flight'}"
            if not v.struck
            else f"COUNTS {v.counts} (expected {v.expected_counts})"
        )
        lines.append(
            f"{o.row.fault:<34} {o.row.workload.name[:44]:<44} {d.lost:>5} {d.duplicated:>5} "
            f"{d.changed:>5} {letters:>13} {flight[:12]:>12} {o.drained_s:>8.1f} "
            f"{recover:>9}  {result}"
        )
    summary = {
        "rows": len(verdicts),
        "passed": sum(v.passed for v in verdicts),
        "lost": sum(v.difference.lost for v in verdicts),
        "duplicated": sum(v.difference.duplicated for v in verdicts),
        "changed": sum(v.difference.changed for v in verdicts),
        "results": [v.line() for v in verdicts],
    }
    lines.append(json.dumps(summary))
    return "\n".join(lines)
