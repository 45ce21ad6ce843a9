"""`touchstone audit`: who did what, when and from where (touchstone.audit.v1), filtered; and the
records the `touchstone` command keeps of its own commands."""

from __future__ import annotations

import argparse
import getpass
import socket
from datetime import UTC, datetime

import jwt

from touchstone.audit.v1.audit_pb2 import AuditRecord
from touchstone.platform.messaging.topics import AUDIT
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.audit import audit_record, publish_records
from touchstone.platform.security.auth import Principal


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The audit command, on the top-level parser's subparsers."""
    audit = sub.add_parser("audit", help="commands and refused calls: who, what, when, where")
    audit.add_argument("--subject", default="", help="only this caller")
    audit.add_argument("--service", default="", help="only this service (or cli)")
    audit.add_argument("--method", default="", help="only methods containing this")
    audit.add_argument("--refused", action="store_true", help="only refused calls")
    audit.add_argument("--since", type=datetime.fromisoformat, help="ISO time, with zone")
    audit.add_argument("--limit", type=int, default=50, help="the latest this many (0: all)")
    audit.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print the matching records, oldest first, one a line."""
    from touchstone.platform.messaging.log_reader import read_log

    records = [
        r
        for r in (
            AuditRecord.FromString(i.value or b"")
            for i in read_log(settings.kafka, [AUDIT], lambda i: i.value is not None)
        )
        if matches(r, args)
    ]
    records.sort(key=lambda r: (r.at.seconds, r.at.nanos))
    for record in records[-args.limit :] if args.limit else records:
        print(line(record))
    return 0


def matches(record: AuditRecord, args: argparse.Namespace) -> bool:
    """Whether the record passes the command line's filters."""
    return (
        (not args.subject or record.subject == args.subject)
        and (not args.service or record.service == args.service)
        and args.method in record.method
        and (not args.refused or record.outcome != "OK")
        and (args.since is None or record.at.ToDatetime(UTC) >= args.since)
    )


def line(record: AuditRecord) -> str:
    """`2026-11-24T05:30:01Z journey ... subject [roles] from peer: OUTCOME detail`."""
    at = record.at.ToDatetime(UTC).isoformat(timespec="seconds")
    roles = ",".join(record.roles)
    return (
        f"{at} {record.service:<8} {record.method} by {record.subject or '-'} [{roles}] "
        f"from {record.peer or '-'}: {record.outcome} {record.detail}".rstrip()
    )


def record_cli_command(settings: Settings, command: str, outcome: str, detail: str) -> None:
    """Audit a command the `touchstone` command ran itself (replay, standards promotion)."""
    publish_records(
        settings.kafka,
        [
            audit_record(
                service="cli",
                method=command,
                caller=cli_caller(settings),
                peer=socket.gethostname(),
                outcome=outcome,
                detail=detail,
            )
        ],
    )


def cli_caller(settings: Settings) -> Principal:
    """Who runs the command: its token's subject and roles, else the operating-system user."""
    if settings.token:
        try:
            claims = jwt.decode(settings.token, options={"verify_signature": False})
            roles = frozenset(str(r) for r in claims.get("roles", []))
            return Principal(str(claims.get("sub", "")), roles, frozenset())
        except jwt.PyJWTError:
            pass
    return Principal(f"os:{getpass.getuser()}", frozenset(), frozenset())
