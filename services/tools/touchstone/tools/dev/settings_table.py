"""Generate (or check) the configuration guide's tables from the settings' declarations: one
table a concern, each variable with its default and what it means (settings/declared.py)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import Field
from pathlib import Path
from typing import Any

from touchstone.platform.runtime.settings import CONCERNS
from touchstone.platform.runtime.settings.declared import SERVICES, declared, default_of
from touchstone.tools.console.exposure import ConsoleSettings
from touchstone.tools.console.oidc import OidcSettings

BEGIN = "<!-- settings: generated from their declarations by `make generate`; edit those -->"
END = "<!-- end of the generated settings -->"
TITLES = {
    "ProcessSettings": "The process",
    "KafkaSettings": "Kafka",
    "DatabaseSettings": "Postgres",
    "GrpcSettings": "gRPC, HTTP/JSON and their limits",
    "AuthSettings": "Authentication",
    "StreamSettings": "Consuming",
    "IngestSettings": "Contacts' intake",
    "DataFileSettings": "Data files",
    "NotifyChannelSettings": "Notify's channels and clock",
    "ConsoleSettings": "The console",
    "OidcSettings": "The console's sign-in",
}
SECTIONS: tuple[type, ...] = (*CONCERNS, ConsoleSettings, OidcSettings)


def variable_of(f: Field[Any]) -> str:
    if f.metadata.get("per_service"):
        first, last = (f.metadata["env"].format(s.upper()) for s in (SERVICES[0], SERVICES[-1]))
        return f"`{first}` … `{last}`"
    return f"`{f.metadata['env']}`"


def default_shown(f: Field[Any]) -> str:
    """The default as the table says it: in words where the declaration gives them."""
    if f.metadata.get("shown"):
        return str(f.metadata["shown"])
    value = default_of(f)
    if f.metadata.get("per_service"):
        first, last = (value[s] for s in (SERVICES[0], SERVICES[-1]))
        return f"`{first}` … `{last}`"
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if value is None or value in ("", ()):
        return "none"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def table(cls: type) -> str:
    rows = [
        f"| {variable_of(f)} | {default_shown(f)} | {f.metadata['doc']} |" for f in declared(cls)
    ]
    head = ["| variable | default | meaning |", "|---|---|---|"]
    return "\n".join([f"### {TITLES.get(cls.__name__, cls.__name__)}", "", *head, *rows])


def generated() -> str:
    """Every section's table, between the markers."""
    return "\n\n".join([BEGIN, *(table(cls) for cls in SECTIONS), END])


def placed(page: str) -> str:
    """The page with its generated part replaced by what the declarations say now."""
    before, _, rest = page.partition(BEGIN)
    _, found, after = rest.partition(END)
    if not found:
        raise SystemExit(f"the page has no {BEGIN!r} ... {END!r} part")
    return before + generated() + after


def main(argv: list[str] | None = None) -> int:
    """Command line: settings_table [--check] --out PAGE"""
    parser = argparse.ArgumentParser(prog="touchstone.tools.dev.settings_table")
    parser.add_argument("--out", type=Path, required=True, help="the configuration guide")
    parser.add_argument("--check", action="store_true", help="fail if its tables are stale")
    args = parser.parse_args(argv)
    page = args.out.read_text(encoding="utf-8")
    wanted = placed(page)
    if args.check:
        if wanted != page:
            print(
                f"{args.out}: the settings tables are stale: run `make generate`", file=sys.stderr
            )
            return 1
        return 0
    args.out.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
