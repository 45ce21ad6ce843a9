"""What a phase of the bench asked of the broker and of Postgres: records written to every topic,
records the services read (a topic three services read counts three times), and rows Postgres
inserted, updated or deleted. Per touchpoint, these are the design's own costs: no code made
faster spends less than they do at the cheapest a record and a row can be had (raw_hop.py).

Postgres reports a backend's row counts up to 10 s late, so a settled reading comes that long
after the burst: what the services write meanwhile (a sweep, a relay) counts with it, a few rows
against a burst's hundreds of thousands."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from touchstone.platform.messaging.topics import ALL_TOPICS
from touchstone.tools.ops.lag import LagReader

ROW_WRITES = (
    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables"
)
# A backend that wrote within a second of its last report keeps its counts up to 10 s
# (PostgreSQL's PGSTAT_IDLE_INTERVAL) before it reports them; the reading waits that out.
STATS_REPORTED_S = 11.0


@dataclass(frozen=True)
class Traffic:
    """Records and row writes so far (or between two readings)."""

    produced: int
    consumed: int
    row_writes: int

    def since(self, earlier: Traffic) -> Traffic:
        """What happened between an earlier reading and this one."""
        return Traffic(
            self.produced - earlier.produced,
            self.consumed - earlier.consumed,
            self.row_writes - earlier.row_writes,
        )

    def per(self, touchpoints: int) -> dict[str, float]:
        """Records produced, records consumed and row writes per touchpoint."""
        n = max(touchpoints, 1)
        return {
            "records_produced": round(self.produced / n, 2),
            "records_consumed": round(self.consumed / n, 2),
            "row_writes": round(self.row_writes / n, 2),
        }


def kafka_floor_us(per_touchpoint: dict[str, float], record_us: float) -> float:
    """An estimate of the least CPU µs a touchpoint's records could cost, each produce or
    consume at `record_us` (the raw hop's client and broker CPU a message, halved: a message
    moved there is one consume and one produce)."""
    moves = per_touchpoint["records_produced"] + per_touchpoint["records_consumed"]
    return round(moves * record_us, 1)


def read_traffic(
    lags: LagReader,
    database_url: str,
    topics: Sequence[str] = ALL_TOPICS,
    *,
    settle: bool = False,
) -> Traffic:
    """Records on the topics, records the lag reader's services read off their inputs, and row
    writes in the database so far; with settle, once every backend has reported its counts."""
    if settle:
        time.sleep(STATS_REPORTED_S)
    on_topic = lags.records_on(sorted(set(topics).union(*lags.inputs.values())))
    consumed = sum(on_topic[t] for inputs in lags.inputs.values() for t in inputs)
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(ROW_WRITES).fetchone()
    return Traffic(sum(on_topic.values()), consumed, int(row[0]) if row else 0)
