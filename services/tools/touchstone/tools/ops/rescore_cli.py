"""`touchstone rescore`: what a new standards file would have changed, tried on recorded history.

Reads journey's input (every recorded contact) back from the broker and replays a period under
the standards in force and under the candidate file, each into a scratch database beside the
live one (the database role needs CREATEDB); live verdicts are never touched. With --promote it
then makes the candidate live by publishing StandardsPromoted, which records the change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.work_progress import staged
from touchstone.tools.ops.progress_bar import ProgressBar

if TYPE_CHECKING:
    from collections import Counter

    from touchstone.journey.rescore_report import RescoreReport
    from touchstone.journey.standards import StandardSet


EFFECTIVE_AFTER = timedelta(minutes=1)  # time for every journey worker to take the promotion


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The rescore command, on the top-level parser's subparsers."""
    rescore = sub.add_parser("rescore", help="try a standards file on recorded history")
    rescore.add_argument("--standards", type=Path, required=True, help="the candidate file")
    rescore.add_argument("--since", type=aware_time, required=True, help="ISO time, with zone")
    rescore.add_argument("--until", type=aware_time, required=True, help="ISO time, with zone")
    rescore.add_argument(
        "--settling-days",
        type=float,
        default=7.0,
        help="log replayed before and after the period, so deadlines play out (default 7)",
    )
    rescore.add_argument(
        "--topic", default="", help="where the recorded contacts are (contacts.recorded.v1)"
    )
    rescore.add_argument(
        "--standards-topic", default="", help="where promotions go (journey.standards.v1)"
    )
    rescore.add_argument("--show", type=int, default=20, help="changed moments to list")
    rescore.add_argument("--json", action="store_true", help="the whole report as JSON")
    rescore.add_argument(
        "--promote",
        action="store_true",
        help="then make the candidate live: publish StandardsPromoted with this report",
    )
    rescore.add_argument("--reason", default="", help="why (required with --promote)")
    rescore.add_argument(
        "--effective-from",
        type=aware_time,
        default=None,
        help="the event time it judges contacts from (default: a minute after promoting)",
    )
    rescore.add_argument(
        "--by", default=os.environ.get("USER", ""), help="who promotes (default $USER)"
    )
    rescore.set_defaults(func=cmd_rescore)


def aware_time(text: str) -> datetime:
    """An ISO time with its zone: a period in some unstated zone would be a guess."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a zone, e.g. {text}+07:00 or {text}Z")
    return at


def cmd_rescore(args: argparse.Namespace, settings: Settings) -> int:
    """Replay the period under both versions and report every changed verdict and judgement."""
    from touchstone.journey.rescore import replayed_by, rescore
    from touchstone.journey.rescore_report import Period
    from touchstone.journey.standards import StandardsError, load_standards
    from touchstone.platform.messaging.log_reader import read_log
    from touchstone.platform.messaging.topics import CONTACTS_RECORDED
    from touchstone.shared_kernel.calendar_file import load_calendars
    from touchstone.shared_kernel.journey_maps import load_maps

    if args.since >= args.until:
        print("--since must be before --until")
        return 2
    if args.promote and not (args.reason.strip() and args.by.strip()):
        print("--promote needs --reason (and --by, if $USER is not set): the change is recorded")
        return 2
    maps = load_maps(settings.maps_dir)
    try:
        candidate = load_standards(args.standards, maps)
    except (OSError, StandardsError) as error:
        print(f"{args.standards}: cannot use it: {error}")
        return 1
    in_force = in_force_now(settings)
    if args.promote and candidate.version == in_force.version:
        print(f"{args.standards}: version {candidate.version} is already in force")
        return 1
    period = Period(args.since, args.until, timedelta(days=args.settling_days))
    topic = args.topic or CONTACTS_RECORDED
    bar = ProgressBar("rescore", sys.stderr)
    log = read_log(
        settings.kafka,
        [topic],
        partial(replayed_by, period),  # bounded
        staged(bar.show, f"reading {topic}"),
    )
    report = asyncio.run(
        rescore(
            settings.database,
            log,
            period,
            in_force,
            candidate,
            load_calendars(settings.calendars_file),
            maps,
            bar.show,
        )
    )
    bar.finish()
    print(
        json.dumps(report_json(report), indent=2) if args.json else report_text(report, args.show)
    )
    if args.promote:
        promote(settings, candidate, args.standards.read_text(encoding="utf-8"), report, args)
    return 0


def in_force_now(settings: Settings) -> StandardSet:
    """The standards journey scores by now: the version promoted last, else the file's."""
    from touchstone.journey.promotion_store import latest_promotion_in
    from touchstone.journey.promotions import standard_set_of
    from touchstone.journey.service import standards_in_force
    from touchstone.shared_kernel.journey_maps import load_maps

    latest = latest_promotion_in(settings.database)
    promoted = standard_set_of(latest, load_maps(settings.maps_dir)) if latest else None
    return promoted or standards_in_force(settings)


def promote(
    settings: Settings,
    candidate: StandardSet,
    text: str,
    report: RescoreReport,
    args: argparse.Namespace,
) -> None:
    """Publish the StandardsPromoted that makes the candidate live, recording the change."""
    from kafka import KafkaProducer

    from touchstone.journey.promotions import promoted, promotion_record

    now = datetime.now(UTC)
    effective_from = args.effective_from or now + EFFECTIVE_AFTER
    event = promoted(candidate, text, report, args.reason, args.by, now, effective_from)
    record = promotion_record(event)
    producer = KafkaProducer(**settings.kafka.producer_config(acks="all"))
    try:
        producer.send(
            args.standards_topic or record.topic,
            key=record.key,
            value=record.value,
            headers=list(record.headers),
        ).get(timeout=30)
    finally:
        producer.close()
    from touchstone.tools.ops.audit_cli import record_cli_command

    record_cli_command(
        settings,
        "touchstone rescore --promote",
        "OK",
        f"standards version {candidate.version} by {args.by}, effective {effective_from}",
    )
    print(
        f"promoted {candidate.version} (was {report.version_in_force}) as {event.event_id}:"
        f" it judges the contacts that happen from {effective_from.isoformat()} on"
    )


def report_json(report: RescoreReport) -> dict[str, Any]:
    """The report as plain data."""
    return {
        "since": report.period.since.isoformat(),
        "until": report.period.until.isoformat(),
        "version_in_force": report.version_in_force,
        "candidate_version": report.candidate_version,
        "moments": report.moments,
        "verdicts_changed": len(report.verdicts_changed),
        "by_stage": {f"{m}/{s}": dict(c) for (m, s), c in sorted(report.by_stage().items())},
        "by_standard": {s: dict(c) for s, c in sorted(report.by_standard().items())},
        "changes": [
            {**asdict(c), "occurred_at": c.occurred_at.isoformat()} for c in report.changes
        ],
    }


def report_text(report: RescoreReport, show: int) -> str:
    """The report for a person: totals, per stage, per standard, then the first changes."""
    changed = report.verdicts_changed
    lines = [
        f"re-scored {report.period.since.isoformat()} .. {report.period.until.isoformat()}"
        f" (log replayed {report.period.settling / timedelta(days=1):g} days either side)",
        f"standards in force {report.version_in_force}, candidate {report.candidate_version}",
        f"{report.moments} moments; {len(changed)} verdicts would change;"
        f" {len(report.changes)} moments judged differently",
    ]
    if report.changes:
        lines += ["", "by stage:"]
        for (journey_map, stage), counts in sorted(report.by_stage().items()):
            lines.append(f"  {journey_map}/{stage}: {_counts(counts)}")
        lines += ["", "by standard:"]
        for standard_id, counts in sorted(report.by_standard().items()):
            lines.append(f"  {standard_id}: {_counts(counts)}")
        lines += ["", f"changed verdicts (first {min(show, len(changed))} of {len(changed)}):"]
        for c in changed[:show]:
            why = "; ".join(f"{s.standard_id}: {s.before} -> {s.after}" for s in c.standards)
            lines.append(
                f"  {c.occurred_at.isoformat()} {c.journey_map}/{c.stage} {c.site_id}"
                f" {c.moment_id}: {c.transition} ({why})"
            )
    return "\n".join(lines)


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{transition} {n}" for transition, n in sorted(counts.items()))
