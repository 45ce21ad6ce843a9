"""`touchstone standards`: check a standards file before a deployment uses it."""

from __future__ import annotations

import argparse
from pathlib import Path

from touchstone.platform.runtime.settings import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The standards subcommands, on the top-level parser's subparsers."""
    standards = sub.add_parser("standards", help="check and list service standards")
    commands = standards.add_subparsers(dest="standards_command", required=True)
    validate = commands.add_parser(
        "validate", help="check a standards file; every problem with its line"
    )
    validate.add_argument("file", type=Path, help="the standards file (YAML)")
    validate.add_argument(
        "--maps", type=Path, default=None, help="journey maps folder (TOUCHSTONE_MAPS_DIR)"
    )
    validate.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check a standards file against the journey maps: 0 if usable, 1 with every problem."""
    from touchstone.journey.domain import standards_version
    from touchstone.journey.standards import parse_standards
    from touchstone.shared_kernel.journey_maps import MapError, load_maps

    try:
        maps = load_maps(args.maps or settings.maps_dir)
        text = args.file.read_text(encoding="utf-8")
    except (OSError, MapError, UnicodeDecodeError) as error:
        print(f"{args.file}: cannot check: {error}")
        return 1
    standards, problems = parse_standards(text, str(args.file), maps)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s); fix them before using this file")
        return 1
    version = standards_version(standards)
    print(f"{args.file}: {len(standards)} standards over {len(maps)} maps, version {version}")
    return 0
