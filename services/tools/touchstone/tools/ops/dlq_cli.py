"""`touchstone dlq`: list, show and redrive dead letters over gRPC, as any front-end would."""

from __future__ import annotations

import argparse
from datetime import datetime

from google.protobuf import json_format

from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.platform.runtime.prototime import to_timestamp
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.ops.client import Clients


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The dlq subcommands, on the top-level parser's subparsers."""
    dlq = sub.add_parser("dlq", help="list, show and redrive dead letters")
    commands = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = commands.add_parser("list", help="dead letters with counts by field and source")
    _add_filters(listing)
    listing.add_argument("--limit", type=int, default=20, help="how many to list (default 20)")
    listing.set_defaults(func=cmd_list)
    show = commands.add_parser("show", help="one dead letter with its original bytes")
    show.add_argument("id", help="topic/partition/offset, as `dlq list` prints it")
    show.set_defaults(func=cmd_show)
    redrive = commands.add_parser("redrive", help="send dead letters through validation again")
    _add_filters(redrive)
    redrive.add_argument(
        "--id",
        action="append",
        default=[],
        dest="ids",
        help="one dead letter, as `dlq list` prints its id (repeat)",
    )
    redrive.add_argument("--only-valid", action="store_true", help="only those valid now")
    redrive.add_argument(
        "--dry-run", action="store_true", help="say what would be redriven; send nothing"
    )
    redrive.set_defaults(func=cmd_redrive)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", default="", help="reason contains this text")
    parser.add_argument("--field", default="", help="the field its reason names")
    parser.add_argument("--source", default="", help="the source that published it")
    parser.add_argument("--since", type=datetime.fromisoformat, help="ISO time, with zone")
    parser.add_argument("--until", type=datetime.fromisoformat, help="ISO time, with zone")
    parser.add_argument(
        "--include-redriven", action="store_true", help="those already redriven too"
    )


def _filter(args: argparse.Namespace) -> pb.DeadLetterFilter:
    given = pb.DeadLetterFilter(
        reason_contains=args.reason,
        field=args.field,
        source=args.source,
        include_redriven=args.include_redriven,
    )
    if args.since:
        given.since.CopyFrom(to_timestamp(args.since))
    if args.until:
        given.until.CopyFrom(to_timestamp(args.until))
    return given


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print counts by field and source, then the oldest matching dead letters."""
    with Clients(settings) as clients:
        request = pb.ListDeadLettersRequest(filter=_filter(args), page_size=args.limit)
        reply = clients.contacts.ListDeadLetters(request, timeout=10)
    print(f"{reply.total} dead letters")
    for count in reply.counts:
        print(f"  {count.count:>8}  field={count.field or '-'}  source={count.source or '-'}")
    for letter in reply.dead_letters:
        at = letter.received_at.ToDatetime().isoformat(timespec="seconds")
        print(f"{letter.id:<32} {at}  {letter.reason[:90]}")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print one dead letter: why, headers, and the original value (decoded when possible)."""
    with Clients(settings) as clients:
        letter = clients.contacts.GetDeadLetter(pb.GetDeadLetterRequest(id=args.id), timeout=10)
    print(f"id        {letter.id}\nreason    {letter.reason}\nfield     {letter.field}")
    print(f"source    {letter.source}\nreceived  {letter.received_at.ToJsonString()}")
    if letter.HasField("redriven_at"):
        print(f"redriven  {letter.redriven_at.ToJsonString()}")
    for header in letter.headers:
        print(f"header    {header.name}: {header.value!r}")
    print(f"key       {letter.key!r}\nvalue     {len(letter.value)} bytes")
    print(_readable(letter.value))
    return 0


def _readable(value: bytes) -> str:
    try:
        return json_format.MessageToJson(Touchpoint.FromString(value))
    except Exception:  # undecodable is exactly why it may be here: show the bytes instead
        return repr(value[:2000])


def cmd_redrive(args: argparse.Namespace, settings: Settings) -> int:
    """Send matching dead letters to touchpoints.v1 again; print what was (or would be) sent."""
    request = pb.RedriveDeadLettersRequest(
        filter=_filter(args), ids=args.ids, only_valid_now=args.only_valid, dry_run=args.dry_run
    )
    with Clients(settings) as clients:
        reply = clients.contacts.RedriveDeadLetters(request, timeout=60)
    verb = "would redrive" if args.dry_run else "redriven"
    print(f"{verb}: {len(reply.redriven)}; still invalid, left: {len(reply.still_invalid)}")
    for dead_letter_id in reply.redriven:
        print(f"  {dead_letter_id}")
    return 0
