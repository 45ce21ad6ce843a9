"""`touchstone console`: the journey map and the recovery board in a browser, on 127.0.0.1."""

from __future__ import annotations

import argparse
import threading
from typing import TYPE_CHECKING

from touchstone.common.settings import Settings

if TYPE_CHECKING:
    from touchstone.console.server import Console

DEFAULT_PORT = 8080


def start_console(settings: Settings, port: int) -> Console | None:
    """The console, started on 127.0.0.1:port; None (and why, printed) if the port is taken."""
    from touchstone.console.server import Console

    try:
        console = Console(settings, port=port).start()
    except OSError as error:
        print(f"console   not started: 127.0.0.1:{port}: {error.strerror}", flush=True)
        return None
    print(f"console   {console.url}   (sign in with a token; see the README)", flush=True)
    return console


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the console until Ctrl-C (the services must be running)."""
    from touchstone.console.server import Console

    console = Console(settings, port=args.port).start()
    print(f"console on {console.url}; Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        console.stop()
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `touchstone console`."""
    console = sub.add_parser("console", help=cmd_console.__doc__)
    console.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"on 127.0.0.1 (default {DEFAULT_PORT})"
    )
    console.set_defaults(func=cmd_console)
