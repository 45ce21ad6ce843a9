"""Re-scoring a recorded day under a tightened standard, on the real broker and Postgres.

Given a simulated day scored live under the default standards, when `touchstone rescore` tries
a file where customers must be greeted within 10 s instead of 30 s, then it reports exactly the
greetings that took 11 to 30 s as wins that become losses, by stage and by standard, and the
live verdicts are as they were. Promoted, it is recorded with that report, journey takes it as
the version in force, and history keeps the verdicts it had.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import create_database
from tests.replay import recorded_day_on_broker, replay_into
from touchstone.journey.codec import moment_id_of
from touchstone.journey.handlers import decode_recorded
from touchstone.journey.standards import default_standards_file
from touchstone.journey.v1.events_pb2 import StandardsPromoted
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.log_reader import read_log
from touchstone.platform.messaging.topics import JOURNEY_STANDARDS, Incoming
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.cli import parser
from touchstone.tools.ops.rescore_cli import in_force_now

pytestmark = pytest.mark.integration
GREETING = "supermarket.enter_store.greeted_within_30s"
IN_PERIOD = """
SELECT count(*) FROM journey.moments
WHERE occurred_at >= '2026-11-16T00:00:00Z' AND occurred_at < '2026-11-17T00:00:00Z'
"""
LIVE_MOMENTS = "SELECT moment_id, verdict, payload FROM journey.moments ORDER BY moment_id"


def tightened_greeting(folder: Path) -> Path:
    """The default standards with the supermarket greeting due within 10 s, not 30 s."""
    text = default_standards_file().read_text(encoding="utf-8")
    at = text.index(f"id: {GREETING}")
    measure = re.compile(r"threshold: 30, surprise_margin: 20")
    tightened = text[:at] + measure.sub("threshold: 10, surprise_margin: 5", text[at:], count=1)
    assert tightened != text
    path = folder / "tightened.yaml"
    path.write_text(tightened, encoding="utf-8")
    return path


def score_live(settings: Settings, log: list[Incoming]) -> None:
    replay_into(settings, "journey", log)


def greetings_between_10_and_30_s(log: list[Incoming]) -> set[str]:
    """The moments the tightened standard should turn from wins into losses, from the log."""
    expected = set()
    for record in log:
        recorded = decode_recorded(record)
        tp = recorded.touchpoint
        seconds = tp.measurements.get("greeting_seconds")
        greeting = (tp.journey_map, tp.stage) == ("supermarket", "enter_store")
        if greeting and seconds is not None and 10 < seconds <= 30:
            expected.add(moment_id_of(recorded))
    return expected


def test_a_tightened_standard_reports_exactly_the_changed_verdicts_and_touches_no_live_one(
    infra: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = recorded_day_on_broker(infra.kafka_bootstrap, 300, 2)
    (topic,) = {r.topic for r in log}
    live, drop = create_database(infra)
    try:
        score_live(live, log)
        with psycopg.connect(live.database_url) as conn:
            before = conn.execute(LIVE_MOMENTS).fetchall()
            (in_period,) = conn.execute(IN_PERIOD).fetchone() or (0,)
        rescore = [
            "rescore",
            "--standards",
            str(tightened_greeting(tmp_path)),
            "--since",
            "2026-11-16T00:00:00+00:00",
            "--until",
            "2026-11-17T00:00:00+00:00",
            "--topic",
            topic,
        ]
        args = parser().parse_args([*rescore, "--json"])
        assert args.func(args, live) == 0
        told = capsys.readouterr()
        report: dict[str, Any] = json.loads(told.out)
        with psycopg.connect(live.database_url) as conn:
            after = conn.execute(LIVE_MOMENTS).fetchall()
            scratch = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'journey_rescore_%'"
            ).fetchall()
        promotion = promote_and_take(live, rescore, report["candidate_version"])
        assert "is already in force" in promote_again(live, rescore)
        with psycopg.connect(live.database_url) as conn:
            assert conn.execute(LIVE_MOMENTS).fetchall() == before, "history is not rewritten"
    finally:
        drop()

    expected = greetings_between_10_and_30_s(log)
    assert len(expected) > 10, "the simulated day has greetings of 11 to 30 s"
    assert {c["moment_id"] for c in report["changes"]} == expected
    assert {(c["before"], c["after"]) for c in report["changes"]} == {("win", "lose")}
    assert report["verdicts_changed"] == len(expected)
    assert report["by_stage"] == {"supermarket/enter_store": {"win -> lose": len(expected)}}
    assert report["by_standard"] == {GREETING: {"met -> broken": len(expected)}}
    assert report["version_in_force"] != report["candidate_version"]
    assert report["moments"] == in_period > 1000  # the live day's moments, under either version
    assert after == before, "live verdicts untouched"
    assert scratch == [], "the scratch databases are dropped"
    candidate = report["candidate_version"]
    finished = f"rescore scoring by {candidate} (candidate) [{'#' * 30}] 100%"
    assert told.err.splitlines()[-1].startswith(finished), told.err  # progress on stderr

    assert (promotion.version, promotion.previous_version) == (
        report["candidate_version"],
        report["version_in_force"],
    )
    assert (promotion.reason, promotion.promoted_by) == ("greet sooner", "lan")
    summary = promotion.rescored
    assert (summary.moments, summary.verdicts_changed, summary.wins_to_losses) == (
        in_period,
        len(expected),
        len(expected),
    )
    assert [(c.standard_id, c.transition, c.moments) for c in summary.by_standard] == [
        (GREETING, "met -> broken", len(expected))
    ]


PROMOTE = ["--promote", "--reason", "greet sooner", "--by", "lan", "--standards-topic"]


def promote_and_take(live: Settings, rescore: list[str], candidate: str) -> StandardsPromoted:
    """Promote the candidate onto a topic of its own; journey takes the promotion from there,
    and from then on it is the version in force."""
    standards_topic = f"standards-{uuid.uuid4().hex[:8]}"
    ensure_topics(live.kafka, [standards_topic], 1)
    args = parser().parse_args([*rescore, *PROMOTE, standards_topic])
    assert args.func(args, live) == 0
    (published,) = read_log(live.kafka, [standards_topic], lambda r: True)
    taken = replace(published, topic=JOURNEY_STANDARDS)
    score_live(live, [taken])
    assert in_force_now(live).version == candidate
    return StandardsPromoted.FromString(published.value or b"")


def promote_again(live: Settings, rescore: list[str]) -> str:
    args = parser().parse_args([*rescore, *PROMOTE, "unused"])
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert args.func(args, live) == 1
    return buffer.getvalue()
