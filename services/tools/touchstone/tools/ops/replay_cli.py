"""`touchstone replay SERVICE`: the operator's side of replay.py: progress, rate, ETA, checksums."""

from __future__ import annotations

import argparse
import sys

from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.tools.ops.group_hold import WAIT_FOR_GROUP_S
from touchstone.tools.ops.progress_bar import ProgressBar
from touchstone.tools.ops.replay import ReplayOptions, ReplayRefused, ReplayReport, replay


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The replay command, on the top-level parser's subparsers."""
    command = sub.add_parser(
        "replay",
        help="rebuild a stopped service's state from the log into fresh tables and swap them in",
    )
    command.add_argument("service", choices=SERVICES, help="the service to rebuild (stopped)")
    command.add_argument("--batch", type=int, default=2000, help="records per transaction")
    command.add_argument(
        "--keep-different",
        action="store_true",
        help="swap the rebuilt state in even when its checksum differs (after a fix, say)",
    )
    command.add_argument(
        "--wait-for-workers",
        type=float,
        default=WAIT_FOR_GROUP_S,
        help="seconds to wait for stopped workers to leave the consumer group (default 60)",
    )
    command.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the service's state; exit 0 when swapped in, 1 when kept apart, 2 refused."""
    from touchstone.tools.ops.service_specs import service_spec

    bar = ProgressBar(args.service, sys.stderr)
    try:
        report = replay(
            service_spec(args.service),
            settings,
            ReplayOptions(args.batch, args.keep_different, args.wait_for_workers),
            progress=bar.show,
        )
    except ReplayRefused as refused:
        print(f"replay refused: {refused}", file=sys.stderr)
        audit(settings, args.service, "FAILED_PRECONDITION", str(refused))
        return 2
    bar.finish()
    print(describe(report))
    outcome = "OK" if report.swapped else "ABORTED"
    audit(settings, args.service, outcome, describe(report).splitlines()[1])
    return 0 if report.swapped else 1


def audit(settings: Settings, service: str, outcome: str, detail: str) -> None:
    """Keep the replay on the audit trail."""
    from touchstone.tools.ops.audit_cli import record_cli_command

    record_cli_command(settings, f"touchstone replay {service}", outcome, detail)


def describe(report: ReplayReport) -> str:
    """The report an operator reads: rate, checksums by table, and what happened."""
    lines = [
        f"rebuilt {report.service} from {report.events:,} events in {report.seconds:,.1f}s "
        f"({report.rate:,.0f} events/s)",
        f"checksum before {report.before.total}  after {report.after.total}  "
        f"({'identical' if report.identical else 'DIFFERENT'}, "
        f"{report.after.rows():,} rows in {len(report.after.tables)} tables)",
    ]
    for table in report.before.differences(report.after):
        before = report.before.tables.get(table, "-")
        lines.append(f"  {table}: before {before}  after {report.after.tables.get(table, '-')}")
    if report.recovered:
        lines.append("  an interrupted replay had left the old state aside: it was put back first")
    if report.dead_lettered:
        lines.append(
            f"  {report.dead_lettered:,} records could not be taken (dead-lettered when the log "
            f"was first taken too; see the service's dead-letter topic)"
        )
    if report.caught_up:
        lines.append(
            f"  the old state first took {report.caught_up:,} events its workers had not "
            f"finished, to end where the rebuilt one does"
        )
    for table, rows in report.carried_over.items():
        lines.append(f"  {table}: {rows:,} rows carried over from the old state")
    if report.swapped:
        lines.append(f"swapped in: {report.service} now holds the rebuilt state")
    else:
        lines.append(
            f"NOT swapped: the old state is back in {report.service}; the rebuilt one is kept "
            f"as schema {report.kept} to inspect (--keep-different swaps it in)"
        )
    return "\n".join(lines)
